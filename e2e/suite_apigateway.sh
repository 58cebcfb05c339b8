# suite_apigateway.sh: suite g, seed 003's API key and usage plan made
# while sqlgate runs, with `aws apigateway` (CLI v1), boto3
# (apigateway_test.py) and `sqlgate apikeys` / `usage-plans` against the
# running server; the seed's curl uses the key at once, the rate limit
# answers 429 and get-usage counts the calls. Sourced by run.sh.

# seed003_curl KEY prints the HTTP status of the seed's curl with KEY.
seed003_curl() {
	curl -s -o "$TMP/seed003.out" -w '%{http_code}' -X POST "$ENDPOINT/v1/items" \
		-H "x-api-key: $1" \
		-H "Content-Type: application/json" \
		-d '{"key1":"value1", "key2":"value2", "key3":"value3", "key4":"value4", "key5":"value5", "key6":"value6",  "key7":"value7"} '
}

# expect_ok NAME ARGS... passes when `awsj ARGS` succeeds (202, no output).
expect_ok() {
	local name=$1
	shift
	if LAST_OUT=$(awsj "$@"); then
		pass "$name"
	else
		fail "$name" "aws $1 $2 failed: $(aws_err)"
	fi
}

# expect_curl NAME KEY STATUS runs the seed's curl and checks its status.
expect_curl() {
	local st
	st=$(seed003_curl "$2")
	if [[ $st == "$3" ]]; then
		pass "$1"
	else
		fail "$1" "HTTP $st, want $3: $(cat "$TMP/seed003.out" 2>/dev/null)"
	fi
}

suite_apigateway() {
	section "g. API keys and usage plans online (aws apigateway, boto3, sqlgate CLI; seed 003)"
	local secret=e2e-apigw-maria arn="$ARN_PREFIX:maria" today
	today=$(date -u +%F)
	# The secret the endpoint seed003-add-item (run.sh's config) logs in with.
	expect_json g.create-secret 'True' secretsmanager create-secret --name "$secret" \
		--secret-string '{"username":"sqlgate","password":"sqlgatepw"}'
	expect_json g.drop-table 'True' rds-data execute-statement --resource-arn "$arn" --secret-arn "$secret" \
		--database sqlgate_e2e --sql "DROP TABLE IF EXISTS apigw_items"
	expect_json g.create-table 'True' rds-data execute-statement --resource-arn "$arn" --secret-arn "$secret" \
		--database sqlgate_e2e --sql "CREATE TABLE apigw_items (key1 varchar(200), key2 varchar(200),
		key3 varchar(200), key4 varchar(200), key5 varchar(200), key6 varchar(200), key7 varchar(200))"

	expect_json g.create-api-key 'd["enabled"] is True and len(d["value"]) == 40 and d["name"] == "seed003-client"' \
		apigateway create-api-key --name seed003-client --enabled
	local key_id value
	key_id=$(json_get "${LAST_OUT:-null}" 'd["id"]')
	value=$(json_get "${LAST_OUT:-null}" 'd["value"]')
	expect_curl g.curl-key-without-plan "$value" 201
	expect_json g.create-usage-plan \
		'd["throttle"] == {"burstLimit": 2, "rateLimit": 0.001} and d["quota"] == {"limit": 1000, "offset": 0, "period": "DAY"} and d["apiStages"] == [{"apiId": "sqlgate", "stage": "seed003-add-item"}]' \
		apigateway create-usage-plan --name seed003-plan --throttle burstLimit=2,rateLimit=0.001 \
		--quota limit=1000,period=DAY --api-stages apiId=sqlgate,stage=seed003-add-item
	local plan_id
	plan_id=$(json_get "${LAST_OUT:-null}" 'd["id"]')
	expect_json g.create-usage-plan-key "d[\"id\"] == \"$key_id\" and d[\"type\"] == \"API_KEY\"" \
		apigateway create-usage-plan-key --usage-plan-id "$plan_id" --key-id "$key_id" --key-type API_KEY
	# The burst of 2 is the key's whole allowance at 0.001 requests/s.
	expect_curl g.curl-1 "$value" 201
	expect_curl g.curl-2 "$value" 201
	expect_curl g.curl-rate-limited "$value" 429
	# Three calls counted today: one before the plan, two under it (the
	# refused one is not counted).
	expect_json g.get-usage "d[\"items\"] == {\"$key_id\": [[3, 997]]} and d[\"usagePlanId\"] == \"$plan_id\"" \
		apigateway get-usage --usage-plan-id "$plan_id" --start-date "$today" --end-date "$today" --key-id "$key_id"
	expect_json g.get-api-keys-include-values \
		"any(k[\"id\"] == \"$key_id\" and k[\"value\"] == \"$value\" for k in d[\"items\"])" \
		apigateway get-api-keys --include-values
	expect_json g.get-api-key "d[\"value\"] == \"$value\" and d[\"enabled\"] is True" \
		apigateway get-api-key --api-key "$key_id" --include-value
	expect_json g.get-usage-plans "any(p[\"id\"] == \"$plan_id\" for p in d[\"items\"])" apigateway get-usage-plans
	expect_json g.get-usage-plan 'd["name"] == "seed003-plan"' apigateway get-usage-plan --usage-plan-id "$plan_id"
	expect_json g.get-usage-plan-keys "[k[\"id\"] for k in d[\"items\"]] == [\"$key_id\"]" \
		apigateway get-usage-plan-keys --usage-plan-id "$plan_id"

	expect_json g.update-api-key-disable 'd["enabled"] is False' \
		apigateway update-api-key --api-key "$key_id" --patch-operations op=replace,path=/enabled,value=false
	expect_curl g.curl-disabled "$value" 403
	expect_json g.update-api-key-enable 'd["enabled"] is True and d["description"] == "seed 003"' \
		apigateway update-api-key --api-key "$key_id" --patch-operations op=replace,path=/enabled,value=true \
		op=replace,path=/description,value="seed 003"
	expect_json g.update-usage-plan 'd.get("throttle") is None and d["quota"]["period"] == "WEEK"' \
		apigateway update-usage-plan --usage-plan-id "$plan_id" --patch-operations op=remove,path=/throttle \
		op=replace,path=/quota/period,value=WEEK
	expect_curl g.curl-throttle-removed "$value" 201

	expect_aws_error g.error-not-found NotFoundException apigateway get-api-key --api-key nope
	expect_aws_error g.error-conflict ConflictException apigateway create-api-key --name seed003-client
	expect_aws_error g.error-bad-request BadRequestException apigateway create-usage-plan --name bad \
		--quota limit=5,period=YEAR
	expect_aws_error g.error-bad-patch BadRequestException apigateway update-api-key --api-key "$key_id" \
		--patch-operations op=replace,path=/value,value=x

	suite_apigateway_cli
	suite_apigateway_boto3

	expect_ok g.delete-usage-plan-key apigateway delete-usage-plan-key --usage-plan-id "$plan_id" --key-id "$key_id"
	expect_ok g.delete-usage-plan apigateway delete-usage-plan --usage-plan-id "$plan_id"
	expect_ok g.delete-api-key apigateway delete-api-key --api-key "$key_id"
	expect_curl g.curl-deleted "$value" 403
}

# suite_apigateway_cli drives `sqlgate apikeys` and `sqlgate usage-plans`
# against the running server, signed with the root credentials.
suite_apigateway_cli() {
	local out value
	if out=$("$BIN" usage-plans create cli-plan --rate 100 --daily 50 --endpoints seed003-add-item --endpoint-url "$ENDPOINT" 2>&1); then
		pass g.cli.usage-plans-create
	else
		fail g.cli.usage-plans-create "$out"
	fi
	if out=$(SQLGATE_ENDPOINT_URL=$ENDPOINT "$BIN" apikeys create cli-key --plan cli-plan 2>&1) && [[ $out == API_KEY=* ]]; then
		pass g.cli.apikeys-create
	else
		fail g.cli.apikeys-create "$out"
	fi
	value=$(sed -n 's/^API_KEY=//p' <<<"$out")
	expect_curl g.cli.curl-at-once "$value" 201
	out=$("$BIN" apikeys usage cli-key --endpoint-url "$ENDPOINT" 2>&1) || true
	if grep -q '^total *1$' <<<"$out"; then
		pass g.cli.apikeys-usage
	else
		fail g.cli.apikeys-usage "$out"
	fi
	out=$("$BIN" apikeys list --endpoint-url "$ENDPOINT" 2>&1) || true
	if grep -q '^cli-key .* enabled .* cli-plan$' <<<"$out"; then
		pass g.cli.apikeys-list
	else
		fail g.cli.apikeys-list "$out"
	fi
	out=$("$BIN" usage-plans list --endpoint-url "$ENDPOINT" 2>&1) || true
	if grep -q '^cli-plan .* 100 .* 50/DAY .*seed003-add-item$' <<<"$out"; then
		pass g.cli.usage-plans-list
	else
		fail g.cli.usage-plans-list "$out"
	fi
	if out=$("$BIN" apikeys revoke cli-key --endpoint-url "$ENDPOINT" 2>&1); then
		pass g.cli.apikeys-revoke
	else
		fail g.cli.apikeys-revoke "$out"
	fi
	expect_curl g.cli.curl-revoked "$value" 403
	if out=$(AWS_SECRET_ACCESS_KEY=wrong "$BIN" apikeys list --endpoint-url "$ENDPOINT" 2>&1); then
		fail g.cli.bad-signature "listed with a wrong secret: $out"
	elif grep -q 'InvalidSignatureException (HTTP 403)' <<<"$out"; then
		pass g.cli.bad-signature
	else
		fail g.cli.bad-signature "$out"
	fi
}

suite_apigateway_boto3() {
	local out rc=0
	out=$(SQLGATE_ENDPOINT=$ENDPOINT timeout 120 "$PY" "$E2E_DIR/apigateway_test.py" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -v '^PASS \|^FAIL ' >&2 || true
	printf '%s\n' "$out" | grep '^PASS \|^FAIL ' || true
	tally_output g.apigateway_test.py "$rc" "$out"
}

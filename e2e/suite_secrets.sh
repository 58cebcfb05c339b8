# suite_secrets.sh: suite a, Secrets Manager through the aws CLI v1, and the
# restart check that reads everything back from the same data dir.
# Sourced by run.sh; uses lib.sh and run.sh's globals.

# json_check JSON EXPR passes when the Python expression EXPR is true, with d
# the parsed JSON, env = os.environ and re imported.
json_check() {
	python3 -c 'import json, os, re, sys
env = os.environ
d = json.loads(sys.argv[1])
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}

# expect_json NAME EXPR ARGS... runs `awsj ARGS` and passes when EXPR holds on
# its JSON output. LAST_OUT keeps the output.
expect_json() {
	local name=$1 expr=$2
	shift 2
	if LAST_OUT=$(awsj "$@"); then
		if json_check "$LAST_OUT" "$expr"; then
			pass "$name"
		else
			fail "$name" "unexpected output: $LAST_OUT"
		fi
	else
		fail "$name" "aws $1 $2 failed: $(aws_err)"
		LAST_OUT=""
	fi
}

# expect_aws_error NAME CODES ARGS... passes when `awsj ARGS` fails with an
# error code matching the regex CODES (e.g. "A|B"); it prints which.
expect_aws_error() {
	local name=$1 codes=$2 err
	shift 2
	if LAST_OUT=$(awsj "$@"); then
		fail "$name" "succeeded, want ($codes): $LAST_OUT"
		return 0
	fi
	err=$(aws_err)
	if [[ $err =~ \((${codes})\) ]]; then
		pass "$name (${BASH_REMATCH[1]})"
	else
		fail "$name" "want ($codes), got: $err"
	fi
}

suite_secrets() {
	section "a. Secrets Manager (aws CLI v1)"
	export E2E_S="e2e-secret-$RUN_ID"
	local s=$E2E_S
	expect_json a.create-secret \
		'd["Name"] == env["E2E_S"] and re.fullmatch(r"arn:aws:secretsmanager:us-east-1:000000000000:secret:" + re.escape(env["E2E_S"]) + r"-[A-Za-z0-9]{6}", d["ARN"]) and d.get("VersionId")' \
		secretsmanager create-secret --name "$s" --description "e2e secret" --secret-string '{"k":"v1"}'
	export E2E_SARN
	E2E_SARN=$(json_get "${LAST_OUT:-null}" 'd["ARN"]')
	expect_aws_error a.create-duplicate ResourceExistsException \
		secretsmanager create-secret --name "$s" --secret-string x
	expect_json a.get-by-name \
		'd["SecretString"] == "{\"k\":\"v1\"}" and "AWSCURRENT" in d["VersionStages"] and d["ARN"] == env["E2E_SARN"]' \
		secretsmanager get-secret-value --secret-id "$s"
	expect_json a.get-by-arn 'd["SecretString"] == "{\"k\":\"v1\"}" and d["Name"] == env["E2E_S"]' \
		secretsmanager get-secret-value --secret-id "${E2E_SARN:-missing}"
	expect_json a.put-secret-value 'd["ARN"] == env["E2E_SARN"] and "AWSCURRENT" in d["VersionStages"]' \
		secretsmanager put-secret-value --secret-id "$s" --secret-string '{"k":"v2"}'
	expect_json a.get-after-put 'd["SecretString"] == "{\"k\":\"v2\"}"' \
		secretsmanager get-secret-value --secret-id "$s"
	expect_json a.get-awsprevious 'd["SecretString"] == "{\"k\":\"v1\"}" and "AWSPREVIOUS" in d["VersionStages"]' \
		secretsmanager get-secret-value --secret-id "$s" --version-stage AWSPREVIOUS
	expect_json a.list-secrets 'any(x["Name"] == env["E2E_S"] for x in d["SecretList"])' \
		secretsmanager list-secrets
	expect_json a.list-secrets-filter \
		'[x["Name"] for x in d["SecretList"]] == [env["E2E_S"]]' \
		secretsmanager list-secrets --filters "Key=name,Values=$s"
	expect_json a.describe-secret \
		'd["Name"] == env["E2E_S"] and d["ARN"] == env["E2E_SARN"] and d.get("Description") == "e2e secret" and len(d["VersionIdsToStages"]) == 2' \
		secretsmanager describe-secret --secret-id "$s"
	expect_json a.delete-secret-recovery-window 'd["Name"] == env["E2E_S"] and "DeletionDate" in d' \
		secretsmanager delete-secret --secret-id "$s" --recovery-window-in-days 7
	expect_aws_error a.get-while-scheduled-for-deletion InvalidRequestException \
		secretsmanager get-secret-value --secret-id "$s"
	expect_json a.describe-shows-deleted-date '"DeletedDate" in d' \
		secretsmanager describe-secret --secret-id "$s"
	expect_json a.restore-secret 'd["Name"] == env["E2E_S"] and d["ARN"] == env["E2E_SARN"]' \
		secretsmanager restore-secret --secret-id "$s"
	expect_json a.get-after-restore 'd["SecretString"] == "{\"k\":\"v2\"}"' \
		secretsmanager get-secret-value --secret-id "$s"
	expect_aws_error a.get-missing ResourceNotFoundException \
		secretsmanager get-secret-value --secret-id "e2e-no-such-secret-$RUN_ID"

	# Force deletion removes the secret at once.
	export E2E_F="e2e-force-$RUN_ID"
	local f=$E2E_F
	expect_json a.create-for-force-delete 'd["Name"] == env["E2E_F"]' \
		secretsmanager create-secret --name "$f" --secret-string gone
	expect_json a.force-delete '"DeletionDate" in d' \
		secretsmanager delete-secret --secret-id "$f" --force-delete-without-recovery
	expect_aws_error a.get-after-force-delete ResourceNotFoundException \
		secretsmanager get-secret-value --secret-id "$f"

	# The secrets the Data API suites log in with. Their names are at least 11
	# characters: botocore and the aws CLI reject a shorter secretArn before
	# sending it.
	local c
	for c in maria pg lite; do
		expect_json "a.create-secret-sqlgate-e2e-$c" 'd["Name"].startswith("sqlgate-e2e-")' \
			secretsmanager create-secret --name "sqlgate-e2e-$c" \
			--secret-string '{"username":"sqlgate","password":"sqlgatepw"}'
		printf -v "SECRET_ARN_${c}" '%s' "$(json_get "${LAST_OUT:-null}" 'd["ARN"]')"
	done
	export SECRET_ARN_maria SECRET_ARN_pg SECRET_ARN_lite
}

# suite_restart stops the server, starts it again on the same data dir and
# reads back the secrets and the SQLite data written before.
suite_restart() {
	section "a. restart on the same data dir"
	local before after lite="$ARN_PREFIX:lite" secret=${SECRET_ARN_lite:-sqlgate-e2e-lite}
	expect_json a.sqlite-write-before-restart 'd["numberOfRecordsUpdated"] == 0' \
		rds-data execute-statement --resource-arn "$lite" --secret-arn "$secret" \
		--sql "CREATE TABLE e2e_persist (id INTEGER PRIMARY KEY, note TEXT)"
	expect_json a.sqlite-insert-before-restart 'd["numberOfRecordsUpdated"] == 1' \
		rds-data execute-statement --resource-arn "$lite" --secret-arn "$secret" \
		--sql "INSERT INTO e2e_persist VALUES (7, 'kept')"
	before=$(awsj secretsmanager list-secrets --query 'length(SecretList)' || echo "?")
	stop_server "$SERVER_PID"
	SERVER_PID=""
	if ! start_server SERVER_PID "$LOG" "$ENDPOINT/healthz" serve --config "$CFG" --data-dir "$DATA"; then
		fail a.restart "server did not come back on $ENDPOINT (see log)"
		return 0
	fi
	pass a.restart
	expect_json a.get-after-restart \
		'd["SecretString"] == "{\"k\":\"v2\"}" and d["ARN"] == env["E2E_SARN"]' \
		secretsmanager get-secret-value --secret-id "$E2E_S"
	expect_json a.awsprevious-after-restart 'd["SecretString"] == "{\"k\":\"v1\"}"' \
		secretsmanager get-secret-value --secret-id "$E2E_S" --version-stage AWSPREVIOUS
	after=$(awsj secretsmanager list-secrets --query 'length(SecretList)' || echo "??")
	if [[ $before == "$after" ]]; then
		pass "a.list-count-after-restart ($after)"
	else
		fail a.list-count-after-restart "before $before, after $after"
	fi
	expect_json a.sqlite-data-after-restart \
		'd["records"] == [[{"longValue": 7}, {"stringValue": "kept"}]]' \
		rds-data execute-statement --resource-arn "$lite" --secret-arn "$secret" \
		--sql "SELECT id, note FROM e2e_persist"
}

# suite_seed000.sh: suite b, seed 000's three aws CLI commands verbatim (only
# the endpoint, region and ARNs adapted) against one cluster, compared with the
# seed's documented output as parsed JSON. Sourced by run.sh.

# expect_exact NAME WANT ARGS... passes when `awsj ARGS` prints JSON equal to
# WANT.
expect_exact() {
	local name=$1 want=$2
	shift 2
	if LAST_OUT=$(awsj "$@"); then
		if json_eq "$LAST_OUT" "$want"; then
			pass "$name"
		else
			fail "$name" "got $(tr -d ' \n' <<<"$LAST_OUT"), want $want"
		fi
	else
		fail "$name" "aws failed: $(aws_err)"
	fi
}

# seed000 LABEL CLUSTER SECRET [DATABASE]
seed000() {
	local label=$1 cluster=$2 secret=$3 db=${4:-}
	local arn="$ARN_PREFIX:$cluster"
	local dbargs=()
	if [[ -n $db ]]; then
		dbargs=(--database "$db")
	fi
	section "b. seed 000 on $label (cluster $cluster)"

	# Not in the seed: start from a clean table so reruns behave the same.
	expect_json "b.$label.drop-table" 'True' rds-data execute-statement \
		--resource-arn "$arn" --secret-arn "$secret" --sql "DROP TABLE IF EXISTS Pets" "${dbargs[@]}"

	expect_exact "b.$label.create-table" '{"numberOfRecordsUpdated": 0, "generatedFields": []}' \
		rds-data execute-statement \
		--resource-arn "$arn" \
		--schema "mysql" \
		--secret-arn "$secret" \
		--region us-east-1 \
		--sql "create table Pets(id varchar(200), type varchar(200), price float)" \
		"${dbargs[@]}"

	expect_exact "b.$label.insert" '{"numberOfRecordsUpdated": 1, "generatedFields": []}' \
		rds-data execute-statement \
		--resource-arn "$arn" \
		--schema "mysql" \
		--secret-arn "$secret" \
		--region us-east-1 \
		--sql "insert into Pets values (111, 'dog', 123)" \
		"${dbargs[@]}"

	expect_exact "b.$label.select" \
		'{"records": [[{"stringValue": "111"}, {"stringValue": "dog"}, {"doubleValue": 123.0}]], "numberOfRecordsUpdated": 0}' \
		rds-data execute-statement \
		--resource-arn "$arn" \
		--schema "mysql" \
		--secret-arn "$secret" \
		--region us-east-1 \
		--sql "select * from Pets" \
		"${dbargs[@]}"
}

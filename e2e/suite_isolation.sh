# suite_isolation.sh: suites k and l. Sourced by run.sh.
#   k. the Data API client libraries (clients.mjs): data-api-client on
#      MariaDB and PostgreSQL, Drizzle (aws-data-api/pg) on PostgreSQL
#   l. session isolation through the aws CLI (and curl for an endpoint):
#      nothing a call leaves in its session reaches the next call.

suite_clients() {
	section "k. data-api-client and Drizzle"
	local out rc=0
	out=$(cd "$E2E_DIR" && SQLGATE_ENDPOINT=$ENDPOINT DATABASE=sqlgate_e2e \
		SECRET_MARIA=${SECRET_ARN_maria:-sqlgate-e2e-maria} SECRET_PG=${SECRET_ARN_pg:-sqlgate-e2e-pg} \
		timeout 300 node clients.mjs 2>&1) || rc=$?
	printf '%s\n' "$out"
	tally_output k.clients.mjs "$rc" "$out"
}

# iso_sql CLUSTER SECRET SQL [ARGS...] runs one statement with the aws CLI.
iso_sql() {
	local cluster=$1 secret=$2 sql=$3
	shift 3
	awsj rds-data execute-statement --resource-arn "$ARN_PREFIX:$cluster" --secret-arn "$secret" \
		--database sqlgate_e2e --sql "$sql" "$@"
}

# iso_case NAME CLUSTER SECRET SET PROBE: PROBE answers the same before and
# after another call ran SET.
iso_case() {
	local name=$1 cluster=$2 secret=$3 set=$4 probe=$5 before after
	before=$(iso_sql "$cluster" "$secret" "$probe") || { fail "$name" "probe failed: $(aws_err)"; return; }
	if ! iso_sql "$cluster" "$secret" "$set" >/dev/null; then
		fail "$name" "$set failed: $(aws_err)"
		return
	fi
	local i
	for i in 1 2 3; do
		after=$(iso_sql "$cluster" "$secret" "$probe") || { fail "$name" "probe after failed: $(aws_err)"; return; }
		if ! json_eq "$before" "$after"; then
			fail "$name" "after '$set': $(tr -d ' \n' <<<"$after"), before: $(tr -d ' \n' <<<"$before")"
			return
		fi
	done
	pass "$name"
}

suite_isolation() {
	section "l. session isolation through the aws CLI"
	local m=${SECRET_ARN_maria:-sqlgate-e2e-maria} p=${SECRET_ARN_pg:-sqlgate-e2e-pg}
	iso_case l.maria.set-user-variable maria "$m" "SET @v = 'x'" "SELECT @v"
	iso_case l.maria.use maria "$m" "USE mysql" "SELECT DATABASE()"
	iso_case l.maria.set-names maria "$m" "SET NAMES gbk" "SELECT @@character_set_client"
	iso_case l.maria.statement-timeout maria "$m" "SET SESSION max_statement_time = 0.001" "SELECT SLEEP(0.01)"
	iso_case l.pg.search-path pg "$p" "SET search_path TO pg_catalog" "SELECT current_setting('search_path')"
	iso_sql pg "$p" "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'e2e_iso_role') THEN CREATE ROLE e2e_iso_role; END IF; END\$\$" >/dev/null || true
	iso_sql pg "$p" "GRANT e2e_iso_role TO CURRENT_USER" >/dev/null || true
	iso_case l.pg.set-role pg "$p" "SET ROLE e2e_iso_role" "SELECT current_user::text"
	iso_case l.pg.statement-timeout pg "$p" "SET statement_timeout = 1" "SELECT pg_sleep(0.01)::text"
	iso_case l.pg.temp-table-in-do pg "$p" "SELECT 'a' AS s INTO TEMP e2e_iso_t" \
		"SELECT count(*) FROM pg_class WHERE relname = 'e2e_iso_t' AND relnamespace = pg_my_temp_schema()"

	local c
	for c in maria pg; do
		local s=$m
		[[ $c == pg ]] && s=$p
		if iso_sql "$c" "$s" "START TRANSACTION" >/dev/null; then
			fail "l.$c.start-transaction-refused" "START TRANSACTION succeeded"
		elif grep -q "BadRequestException" "$AWS_ERR" && grep -q "BeginTransaction" "$AWS_ERR"; then
			pass "l.$c.start-transaction-refused"
		else
			fail "l.$c.start-transaction-refused" "$(aws_err)"
		fi
	done

	# DROP DATABASE, CREATE DATABASE, then CREATE TABLE naming it.
	local dbx=e2e_iso_db_$RUN_ID
	dbx=${dbx//-/_}
	if iso_sql maria "$m" "CREATE DATABASE $dbx" >/dev/null &&
		awsj rds-data execute-statement --resource-arn "$ARN_PREFIX:maria" --secret-arn "$m" --database "$dbx" --sql "DROP DATABASE $dbx" >/dev/null &&
		iso_sql maria "$m" "CREATE DATABASE $dbx" >/dev/null &&
		awsj rds-data execute-statement --resource-arn "$ARN_PREFIX:maria" --secret-arn "$m" --database "$dbx" --sql "CREATE TABLE t (i int)" >/dev/null; then
		pass l.maria.drop-create-database-then-create-table
	else
		fail l.maria.drop-create-database-then-create-table "$(aws_err)"
	fi
	iso_sql maria "$m" "DROP DATABASE IF EXISTS $dbx" >/dev/null || true

	# A SET NAMES gbk by a Data API caller does not turn an endpoint's
	# bound string into SQL (GBK reads 丁's last byte and a backslash as one
	# character).
	local payload="丁' UNION SELECT 'injected' -- " body ok=1 i
	for i in 1 2 3; do
		iso_sql maria "$m" "SET NAMES gbk" >/dev/null || ok=0
		body=$(curl -sS -G "$ENDPOINT/v1/iso/echo" --data-urlencode "s=$payload") || ok=0
		[[ $(json_get "$body" 'd["items"][0]["v"]') == "$payload" ]] || ok=0
	done
	if ((ok)); then
		pass l.maria.endpoint-gbk-injection
	else
		fail l.maria.endpoint-gbk-injection "last answer: $body"
	fi
}

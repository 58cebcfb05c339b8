# suite_proxy.sh: suite h, the connection-pooling proxies (docs/proxy.md)
# through the built binary. run.sh's config gives the pg and maria
# clusters a proxy on free ports with the e2e secrets as auth_secrets
# (created by suite_secrets after the start: the proxy reads them at login).
# Checks psql, the mariadb CLI and pymysql (seed 004's Lambda) with the
# secret's password, then IAM auth tokens from `aws rds
# generate-db-auth-token` for a user allowed rds-db:connect, and the same
# for a user without that policy. Sourced by run.sh.

# proxy_psql PASSWORD SSLMODE ARGS... runs psql through the PG proxy.
proxy_psql() {
	local pw=$1 mode=$2
	shift 2
	PGPASSWORD=$pw PGCONNECT_TIMEOUT=10 timeout 60 psql -X -A -t -q -v ON_ERROR_STOP=1 \
		"host=127.0.0.1 port=$PG_PROXY_PORT user=sqlgate dbname=sqlgate_e2e sslmode=$mode" "$@" 2>&1
}

# proxy_mariadb PASSWORD ARGS... runs the mariadb CLI through the MySQL proxy.
proxy_mariadb() {
	local pw=$1
	shift
	timeout 60 mariadb --connect-timeout=10 -h127.0.0.1 -P"$MARIA_PROXY_PORT" -usqlgate -p"$pw" \
		-N -B "$@" sqlgate_e2e 2>&1
}

# expect_out NAME WANT OUT RC passes when the command succeeded with output WANT.
expect_out() {
	local name=$1 want=$2 out=$3 rc=$4
	if ((rc == 0)) && [[ $out == "$want" ]]; then
		pass "$name"
	else
		fail "$name" "exit $rc, want output '$want', got: $out"
	fi
}

# expect_refused NAME PATTERN OUT RC passes when the command failed with
# output matching the regex PATTERN.
expect_refused() {
	local name=$1 pattern=$2 out=$3 rc=$4
	if ((rc != 0)) && [[ $out =~ $pattern ]]; then
		pass "$name"
	else
		fail "$name" "exit $rc, want failure matching '$pattern', got: $out"
	fi
}

# db_token AKID SECRET PORT prints an IAM auth token for user sqlgate.
db_token() {
	AWS_ACCESS_KEY_ID=$1 AWS_SECRET_ACCESS_KEY=$2 timeout 60 aws rds generate-db-auth-token \
		--hostname 127.0.0.1 --port "$3" --username sqlgate --region us-east-1 2>"$AWS_ERR"
}

suite_proxy() {
	section "h. proxies: psql on 127.0.0.1:$PG_PROXY_PORT, mariadb and pymysql on 127.0.0.1:$MARIA_PROXY_PORT"
	suite_proxy_pg
	suite_proxy_pg_isolation
	suite_proxy_mysql
	suite_proxy_iam
	suite_proxy_reload
}

# suite_proxy_reload changes the pg cluster's max_connections in the config
# file and sends SIGHUP: the server applies it without a restart and the
# proxy keeps serving.
suite_proxy_reload() {
	local out rc i
	sed -i "/^    proxy: {listen: 127.0.0.1:$PG_PROXY_PORT,/i\\    max_connections: 7" "$CFG"
	kill -HUP "$SERVER_PID"
	for ((i = 0; i < 50; i++)); do
		grep -q 'cluster connection budget changed.*cluster=pg.*to=7' "$LOG" && break
		sleep 0.2
	done
	if grep -q 'cluster connection budget changed.*cluster=pg.*to=7' "$LOG" && grep -q 'reloaded pool sizes' "$LOG"; then
		pass h.sighup-reloads-max-connections
	else
		fail h.sighup-reloads-max-connections "no budget change in the log: $(grep -i reload "$LOG" | tail -n 3)"
	fi
	rc=0 && out=$(proxy_psql sqlgatepw disable -c 'select 43') || rc=$?
	expect_out h.psql.after-sighup 43 "$out" "$rc"
}

suite_proxy_pg() {
	local out rc t="e2e_proxy_$RANDOM"
	rc=0 && out=$(proxy_psql sqlgatepw disable -c 'select 40 + 2') || rc=$?
	expect_out h.psql.select 42 "$out" "$rc"
	rc=0 && out=$(proxy_psql sqlgatepw disable -c "create table $t (id int primary key, note text)" \
		-c "begin; insert into $t values (1, 'kept'); commit;" \
		-c "begin; insert into $t values (2, 'gone'); rollback;" \
		-c "select string_agg(id || ':' || note, ',') from $t") || rc=$?
	expect_out h.psql.transactions 1:kept "$out" "$rc"
	# A second client sees the committed row only (the rolled-back one never
	# reached another session through a shared backend connection).
	rc=0 && out=$(proxy_psql sqlgatepw disable -c "select count(*) from $t" -c "drop table $t") || rc=$?
	expect_out h.psql.second-client 1 "$out" "$rc"
	rc=0 && out=$(proxy_psql sqlgatepw disable -c 'prepare twice(int) as select $1 * 2' \
		-c 'execute twice(21)' -c 'deallocate twice') || rc=$?
	expect_out h.psql.prepare-execute 42 "$out" "$rc"
	rc=0 && out=$(proxy_psql sqlgatepw require -c 'select 7') || rc=$?
	expect_out h.psql.password-over-tls 7 "$out" "$rc"
	rc=0 && out=$(proxy_psql wrong-password disable -c 'select 1') || rc=$?
	expect_refused h.psql.wrong-password-refused 'password authentication failed' "$out" "$rc"
	rc=0 && out=$(PGPASSWORD=sqlgatepw PGCONNECT_TIMEOUT=10 timeout 60 psql -X -A -t \
		"host=127.0.0.1 port=$PG_PROXY_PORT user=nobody dbname=sqlgate_e2e sslmode=disable" -c 'select 1' 2>&1) || rc=$?
	expect_refused h.psql.unknown-user-refused 'password authentication failed' "$out" "$rc"
}

suite_proxy_mysql() {
	local out rc t="e2e_proxy_$RANDOM"
	rc=0 && out=$(proxy_mariadb sqlgatepw -e 'select 40 + 2') || rc=$?
	expect_out h.mariadb.select 42 "$out" "$rc"
	rc=0 && out=$(proxy_mariadb sqlgatepw -e "create table $t (id int primary key, note text);
		start transaction; insert into $t values (1, 'kept'); commit;
		start transaction; insert into $t values (2, 'gone'); rollback;
		select group_concat(concat(id, ':', note)) from $t; drop table $t;") || rc=$?
	expect_out h.mariadb.transactions 1:kept "$out" "$rc"
	rc=0 && out=$(proxy_mariadb sqlgatepw --ssl -e "select 'tls', @@version like '%MariaDB%'") || rc=$?
	expect_out h.mariadb.password-over-tls $'tls\t1' "$out" "$rc"
	rc=0 && out=$(proxy_mariadb wrong-password -e 'select 1') || rc=$?
	expect_refused h.mariadb.wrong-password-refused 'ERROR 1045' "$out" "$rc"
	suite_proxy_mysql_isolation
}

# nodb_mariadb ARGS... runs the mariadb CLI, without a default database,
# through the proxy of the cluster that names none.
nodb_mariadb() {
	timeout 60 mariadb --connect-timeout=10 -h127.0.0.1 -P"$MARIA_NODB_PROXY_PORT" -usqlgate -psqlgatepw \
		-N -B "$@" 2>&1
}

# suite_proxy_mysql_isolation: one client's schema never reaches a client
# that connected without one (docs/proxy.md, MySQL isolation), and the
# cross-talk churn with pymysql in the default and strict modes.
suite_proxy_mysql_isolation() {
	local out rc i ok=1
	# Several clients leave USE mysql behind on the pooled backends.
	for i in 1 2 3; do
		nodb_mariadb -e 'use mysql; select database()' >/dev/null || true
	done
	for i in 1 2 3 4 5; do
		rc=0 && out=$(nodb_mariadb -e 'select ifnull(database(), "none")') || rc=$?
		if ((rc != 0)) || [[ $out != none ]]; then
			ok=0
			break
		fi
	done
	if ((ok)); then
		pass h.mariadb.no-database-after-use
	else
		fail h.mariadb.no-database-after-use "exit $rc, a client without a database sees: $out"
	fi
	rc=0 && out=$(nodb_mariadb -e 'use information_schema; select database()') || rc=$?
	expect_out h.mariadb.own-use-kept information_schema "$out" "$rc"
	suite_proxy_churn default "$MARIA_PROXY_PORT" 8
	suite_proxy_churn strict "$MARIA_STRICT_PROXY_PORT" 8
}

# suite_proxy_churn MODE PORT SECONDS runs e2e/proxy_churn_test.py.
suite_proxy_churn() {
	local out rc=0
	if ! /usr/bin/python3 -c 'import pymysql' 2>/dev/null; then
		fail "h.pymysql.churn-$1" "python3-pymysql is not installed"
		return
	fi
	out=$(PROXY_ENDPOINT=127.0.0.1 PROXY_PORT=$2 SECRET_STRING='{"username":"sqlgate","password":"sqlgatepw"}' \
		DB_NAME=sqlgate_e2e CHURN_SECONDS=$3 LABEL="h.pymysql.$1" timeout 120 /usr/bin/python3 "$E2E_DIR/proxy_churn_test.py" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -v '^PASS \|^FAIL ' >&2 || true
	printf '%s\n' "$out" | grep '^PASS \|^FAIL ' || true
	tally_output "h.proxy_churn_test.py-$1" "$rc" "$out"
}

suite_proxy_iam() {
	local user="e2e-proxy-$RANDOM" other="e2e-noproxy-$RANDOM" key akid skey key2 akid2 skey2
	if ! awsj iam create-user --user-name "$user" >/dev/null || ! awsj iam create-user --user-name "$other" >/dev/null; then
		fail h.iam.create-users "$(aws_err)"
		return
	fi
	key=$(awsj iam create-access-key --user-name "$user") || { fail h.iam.create-access-key "$(aws_err)"; return; }
	key2=$(awsj iam create-access-key --user-name "$other") || { fail h.iam.create-access-key "$(aws_err)"; return; }
	akid=$(json_get "$key" 'd["AccessKey"]["AccessKeyId"]')
	skey=$(json_get "$key" 'd["AccessKey"]["SecretAccessKey"]')
	akid2=$(json_get "$key2" 'd["AccessKey"]["AccessKeyId"]')
	skey2=$(json_get "$key2" 'd["AccessKey"]["SecretAccessKey"]')
	cat >"$TMP/rds-db-policy.json" <<JSON
{"Version": "2012-10-17",
 "Statement": [{"Effect": "Allow", "Action": "rds-db:connect",
   "Resource": ["arn:aws:rds-db:us-east-1:000000000000:dbuser:pg/sqlgate",
                "arn:aws:rds-db:us-east-1:000000000000:dbuser:maria/sqlgate"]}]}
JSON
	if awsj iam put-user-policy --user-name "$user" --policy-name connect --policy-document "file://$TMP/rds-db-policy.json" >/dev/null; then
		pass h.iam.put-rds-db-connect-policy
	else
		fail h.iam.put-rds-db-connect-policy "$(aws_err)"
		return
	fi
	# The second user may do anything but connect.
	cat >"$TMP/no-connect-policy.json" <<JSON
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds-data:*", "Resource": "*"}]}
JSON
	awsj iam put-user-policy --user-name "$other" --policy-name data --policy-document "file://$TMP/no-connect-policy.json" >/dev/null || true
	sleep 0.5

	local pg_tok pg_bad my_tok my_bad out rc
	pg_tok=$(db_token "$akid" "$skey" "$PG_PROXY_PORT") || true
	pg_bad=$(db_token "$akid2" "$skey2" "$PG_PROXY_PORT") || true
	my_tok=$(db_token "$akid" "$skey" "$MARIA_PROXY_PORT") || true
	my_bad=$(db_token "$akid2" "$skey2" "$MARIA_PROXY_PORT") || true
	if [[ $pg_tok == 127.0.0.1:"$PG_PROXY_PORT"/\?*Action=connect*X-Amz-Signature=* && -n $my_tok && -n $pg_bad && -n $my_bad ]]; then
		pass h.iam.generate-db-auth-token
	else
		fail h.iam.generate-db-auth-token "got '${pg_tok:0:80}…': $(aws_err)"
		return
	fi

	rc=0 && out=$(proxy_psql "$pg_tok" require -c "select 'iam ' || current_user") || rc=$?
	expect_out h.psql.iam-token-tls "iam sqlgate" "$out" "$rc"
	# Plaintext clients get SCRAM, which cannot carry a token (docs/proxy.md).
	rc=0 && out=$(proxy_psql "$pg_tok" disable -c 'select 1') || rc=$?
	expect_refused h.psql.iam-token-plaintext-refused 'password authentication failed' "$out" "$rc"
	rc=0 && out=$(proxy_psql "$pg_bad" require -c 'select 1') || rc=$?
	expect_refused h.psql.iam-token-without-policy-refused 'password authentication failed' "$out" "$rc"
	# The token names DBUser=sqlgate; it is no password for another user.
	rc=0 && out=$(PGPASSWORD=$pg_tok PGCONNECT_TIMEOUT=10 timeout 60 psql -X -A -t \
		"host=127.0.0.1 port=$PG_PROXY_PORT user=postgres dbname=sqlgate_e2e sslmode=require" -c 'select 1' 2>&1) || rc=$?
	expect_refused h.psql.iam-token-other-user-refused 'password authentication failed' "$out" "$rc"

	# MariaDB's client sends mysql_clear_password when asked; its
	# --enable-cleartext-plugin (needed by Oracle's mysql client) is obsolete
	# and only prints a warning, so it is left out.
	rc=0 && out=$(proxy_mariadb "$my_tok" --ssl -e "select 'iam', current_user() like 'sqlgate@%'") || rc=$?
	expect_out h.mariadb.iam-token-tls $'iam\t1' "$out" "$rc"
	rc=0 && out=$(proxy_mariadb "$my_bad" --ssl -e 'select 1') || rc=$?
	expect_refused h.mariadb.iam-token-without-policy-refused 'ERROR 1045' "$out" "$rc"

	suite_proxy_pymysql "$my_tok" "$my_bad"
	# Read the whole page first: grep -q closing the pipe early would make
	# curl fail with SIGPIPE under pipefail.
	local metrics
	metrics=$(curl -fsS --max-time 10 "$ENDPOINT/metrics" 2>/dev/null || true)
	if grep -q 'sqlgate_proxy_client_connections_setup_total{cluster="pg",outcome="auth_failed"}' <<<"$metrics"; then
		pass h.metrics.proxy-families
	else
		fail h.metrics.proxy-families "no sqlgate_proxy_client_connections_setup_total for pg auth_failed on /metrics"
	fi
}

# suite_proxy_pymysql TOKEN BAD_TOKEN runs e2e/proxy_lambda_test.py with
# Debian's Python, installing python3-pymysql first when it is missing.
suite_proxy_pymysql() {
	local out rc=0 secret
	if ! /usr/bin/python3 -c 'import pymysql' 2>/dev/null && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "installing python3-pymysql"
		{ timeout 300 apt-get update -q && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q python3-pymysql; } >"$TMP/apt-pymysql.log" 2>&1 ||
			echo "apt-get failed: $(tail -n 5 "$TMP/apt-pymysql.log")" >&2
	fi
	if ! /usr/bin/python3 -c 'import pymysql' 2>/dev/null; then
		fail h.pymysql "python3-pymysql is not installed and could not be installed"
		return
	fi
	secret=$(json_get "$(awsj secretsmanager get-secret-value --secret-id sqlgate-e2e-maria || echo null)" 'd["SecretString"]')
	out=$(PROXY_ENDPOINT=127.0.0.1 PROXY_PORT=$MARIA_PROXY_PORT SECRET_STRING=${secret:-'{}'} DB_NAME=sqlgate_e2e \
		TABLE="Customer_$RANDOM" IAM_TOKEN=$1 BAD_TOKEN=$2 timeout 120 /usr/bin/python3 "$E2E_DIR/proxy_lambda_test.py" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -v '^PASS \|^FAIL ' >&2 || true
	printf '%s\n' "$out" | grep '^PASS \|^FAIL ' || true
	tally_output h.proxy_lambda_test.py "$rc" "$out"
}

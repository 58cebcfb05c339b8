# suite_rotation.sh: suite r. The Secrets Manager and IAM calls added with
# built-in rotation through the aws CLI and boto3 (e2e/newops_test.py,
# including Terraform-shaped sequences), then built-in rotation of
# database secrets under live traffic: clients log in through the proxies
# with the credentials they had before the rotation (pgbench -C and a
# mariadb CLI loop, a new connection per transaction) while a Data API loop
# runs; no login and no query may fail, and after rotation.grace_window
# (15s in run.sh's config) the old login is refused. A rotation whose
# master user lacks the privilege leaves everything working. Uses its own
# database users with unique names. Sourced by run.sh.

suite_newops() {
	section "r. new Secrets Manager and IAM calls (aws CLI, boto3)"
	local s="e2e-newops-$RUN_ID"
	export R_S=$s
	expect_json r.cli.get-random-password 'len(d["RandomPassword"]) == 16 and " " in d["RandomPassword"]' \
		secretsmanager get-random-password --password-length 16 --include-space --exclude-characters abc
	awsj secretsmanager create-secret --name "$s" --secret-string v1 >/dev/null || fail r.cli.create "$(aws_err)"
	expect_json r.cli.batch-get-secret-value 'd["SecretValues"][0]["SecretString"] == "v1" and d["Errors"][0]["ErrorCode"] == "ResourceNotFoundException"' \
		secretsmanager batch-get-secret-value --secret-id-list "$s" "missing-$RUN_ID"
	local pol='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"secretsmanager:DescribeSecret","Resource":"*"}]}'
	expect_json r.cli.validate-resource-policy 'd["PolicyValidationPassed"] is True' \
		secretsmanager validate-resource-policy --resource-policy "$pol"
	expect_json r.cli.put-resource-policy 'd["Name"] == env["R_S"]' \
		secretsmanager put-resource-policy --secret-id "$s" --resource-policy "$pol" --block-public-policy
	expect_json r.cli.get-resource-policy 'json.loads(d["ResourcePolicy"])["Statement"][0]["Action"] == "secretsmanager:DescribeSecret"' \
		secretsmanager get-resource-policy --secret-id "$s"
	expect_aws_error r.cli.put-public-policy PublicPolicyException \
		secretsmanager put-resource-policy --secret-id "$s" --block-public-policy \
		--resource-policy "${pol/\{\"AWS\":\"000000000000\"\}/\"*\"}"
	expect_json r.cli.delete-resource-policy 'd["Name"] == env["R_S"]' secretsmanager delete-resource-policy --secret-id "$s"
	expect_aws_error r.cli.rotate-non-database-secret InvalidRequestException secretsmanager rotate-secret --secret-id "$s"
	local out rc=0
	out=$(SQLGATE_ENDPOINT=$ENDPOINT timeout 300 "$PY" "$E2E_DIR/newops_test.py" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -v '^PASS \|^FAIL ' >&2 || true
	printf '%s\n' "$out" | grep '^PASS \|^FAIL ' || true
	tally_output r.newops_test.py "$rc" "$out"
}

# rot_user KIND NAME PASSWORD [EXTRA SQL] creates a database user.
rot_user() {
	local kind=$1 name=$2 pw=$3 extra=${4:-}
	if [[ $kind == maria ]]; then
		mariadb -h127.0.0.1 -uroot -e "CREATE USER '$name'@'%' IDENTIFIED BY '$pw'; GRANT SELECT ON sqlgate_e2e.* TO '$name'@'%'; $extra"
	else
		psql -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 user=postgres dbname=postgres" -c "CREATE ROLE \"$name\" LOGIN PASSWORD '$pw'" ${extra:+-c "$extra"}
	fi
}

rot_drop_users() {
	local u
	for u in "$@"; do
		mariadb -h127.0.0.1 -uroot -e "DROP USER IF EXISTS '$u'@'%'; DROP USER IF EXISTS '${u}_clone'@'%'" 2>/dev/null
		psql -X -q "host=127.0.0.1 user=postgres dbname=postgres" -c "DROP ROLE IF EXISTS \"${u}_clone\"" -c "DROP ROLE IF EXISTS \"$u\"" 2>/dev/null
	done
	return 0
}

# rot_secret NAME ENGINE USER PASSWORD CLUSTER [MASTERARN] creates a database secret.
rot_secret() {
	local v
	v=$(printf '{"engine":"%s","host":"127.0.0.1","port":%s,"username":"%s","password":"%s","dbname":"sqlgate_e2e","dbClusterIdentifier":"%s"%s}' \
		"$2" "$([[ $2 == mysql ]] && echo 3306 || echo 5432)" "$3" "$4" "$5" "${6:+,\"masterarn\":\"$6\"}")
	json_get "$(awsj secretsmanager create-secret --name "$1" --secret-string "$v")" 'd["ARN"]'
}

# rot_wait NAME waits (up to 60s) until the last rotation of NAME has
# finished or failed and prints describe-secret's JSON.
rot_wait() {
	local i d
	for ((i = 0; i < 120; i++)); do
		d=$(awsj secretsmanager list-secret-version-ids --secret-id "$1")
		if ! json_check "$d" 'any("AWSPENDING" in v.get("VersionStages", []) for v in d["Versions"])'; then
			awsj secretsmanager describe-secret --secret-id "$1"
			return 0
		fi
		sleep 0.5 # polling with a deadline
	done
	awsj secretsmanager describe-secret --secret-id "$1"
	return 1
}

# rot_maria_loop USER PASSWORD SECONDS FILE logs in through the MySQL proxy
# once per iteration, appending "ok" or the error to FILE.
rot_maria_loop() {
	local end=$((SECONDS + $3))
	while ((SECONDS < end)); do
		if out=$(timeout 20 mariadb --connect-timeout=10 -h127.0.0.1 -P"$MARIA_ROT_PROXY_PORT" -u"$1" -p"$2" -N -B -e 'select 1' sqlgate_e2e 2>&1); then
			echo ok >>"$4"
		else
			echo "fail: $out" >>"$4"
		fi
	done
}

# rot_data_loop SECRET_ARN CLUSTER SECONDS FILE runs SELECT 1 through the Data API.
rot_data_loop() {
	local end=$((SECONDS + $3))
	while ((SECONDS < end)); do
		if timeout 30 aws --endpoint-url "$ENDPOINT" --output json rds-data execute-statement --resource-arn "$ARN_PREFIX:$2" \
			--secret-arn "$1" --database sqlgate_e2e --sql 'select 1' >/dev/null 2>>"$4.err"; then
			echo ok >>"$4"
		else
			echo fail >>"$4"
		fi
	done
}

# rot_count FILE prints "N ok, M failed".
rot_count() {
	printf '%s ok, %s failed' "$(grep -c '^ok' "$1" 2>/dev/null || true)" "$(grep -vc '^ok' "$1" 2>/dev/null || true)"
}

suite_rotation() {
	section "r. built-in rotation under live traffic (MariaDB and PostgreSQL, single and alternating users)"
	local id=${RUN_ID//-/_}
	local ms="rt_s_$id" ma="rt_a_$id" mm="rt_m_$id" mw="rt_w_$id" ps="rt_ps_$id" pa="rt_pa_$id" pm="rt_pm_$id"
	export R_MS=$ms
	rot_drop_users "$ms" "$ma" "$mm" "$mw" "$ps" "$pa" "$pm"
	rot_user maria "$ms" Single-pw-1 && rot_user maria "$ma" App-pw-1 && rot_user maria "$mw" Weak-pw-1 &&
		rot_user maria "$mm" Master-pw-1 "GRANT CREATE USER, SELECT ON *.* TO '$mm'@'%' WITH GRANT OPTION" &&
		rot_user pg "$ps" Single-pw-1 && rot_user pg "$pa" App-pw-1 && rot_user pg "$pm" Master-pw-1 "ALTER ROLE \"$pm\" CREATEROLE" &&
		psql -X -q "host=127.0.0.1 user=postgres dbname=postgres" -c "GRANT \"$pa\" TO \"$pm\" WITH ADMIN OPTION" >/dev/null ||
		{ fail r.users "could not create the database users"; return; }
	local mmaster pmaster s_maria a_maria s_pg a_pg weak
	mmaster=$(rot_secret "e2e-rot-master-maria" mysql "$mm" Master-pw-1 maria-rot)
	pmaster=$(rot_secret "e2e-rot-master-pg" postgres "$pm" Master-pw-1 pg-rot)
	s_maria=$(rot_secret e2e-rot-maria mysql "$ms" Single-pw-1 maria-rot)
	a_maria=$(rot_secret e2e-alt-maria mysql "$ma" App-pw-1 maria-rot "$mmaster")
	s_pg=$(rot_secret e2e-rot-pg postgres "$ps" Single-pw-1 pg-rot)
	a_pg=$(rot_secret e2e-alt-pg postgres "$pa" App-pw-1 pg-rot "$pmaster")
	[[ -n $s_maria && -n $a_maria && -n $s_pg && -n $a_pg ]] && pass r.secrets || { fail r.secrets "$(aws_err)"; return; }

	# Live traffic, all with the credentials from before the rotation:
	# mariadb CLI and pgbench -C through the proxies (alternating users),
	# and Data API loops on the single-user secrets.
	local dir=$TMP/rot pids=()
	mkdir -p "$dir"
	printf 'select 1;\n' >"$dir/select1.sql"
	rot_maria_loop "$ma" App-pw-1 10 "$dir/maria-proxy" &
	pids+=($!)
	(PGPASSWORD=App-pw-1 PGCONNECT_TIMEOUT=10 timeout 60 pgbench -n -C -c 2 -T 10 -f "$dir/select1.sql" \
		"host=127.0.0.1 port=$PG_ROT_PROXY_PORT user=$pa dbname=sqlgate_e2e" >"$dir/pgbench.out" 2>&1; echo "exit $?" >>"$dir/pgbench.out") &
	pids+=($!)
	rot_data_loop "$s_maria" maria-rot 10 "$dir/data-maria" &
	pids+=($!)
	rot_data_loop "$s_pg" pg-rot 10 "$dir/data-pg" &
	pids+=($!)
	sleep 2 # let the loops run before the rotation starts

	local name d
	for name in e2e-rot-maria e2e-alt-maria e2e-rot-pg e2e-alt-pg; do
		if awsj secretsmanager rotate-secret --secret-id "$name" --rotation-rules '{"ScheduleExpression":"rate(10 days)"}' \
			--rotate-immediately >/dev/null; then
			pass "r.rotate-secret.$name"
		else
			fail "r.rotate-secret.$name" "$(aws_err)"
		fi
	done
	for name in e2e-rot-maria e2e-alt-maria e2e-rot-pg e2e-alt-pg; do
		d=$(rot_wait "$name") || true
		if json_check "$d" 'd["RotationEnabled"] and "LastRotatedDate" in d and "NextRotationDate" in d and d["RotationRules"]["ScheduleExpression"] == "rate(10 days)" and sorted(sum(d["VersionIdsToStages"].values(), [])) == ["AWSCURRENT", "AWSPREVIOUS"]'; then
			pass "r.rotated.$name"
		else
			fail "r.rotated.$name" "$d"
		fi
	done
	local p
	for p in "${pids[@]}"; do
		wait "$p" || true
	done
	local c
	c=$(rot_count "$dir/maria-proxy")
	[[ $c =~ ^[1-9][0-9]*\ ok,\ 0\ failed$ ]] && pass "r.live.mariadb-proxy-old-login ($c)" || fail r.live.mariadb-proxy-old-login "$c: $(grep -v '^ok' "$dir/maria-proxy" | head -3)"
	c=$(rot_count "$dir/data-maria")
	[[ $c =~ ^[1-9][0-9]*\ ok,\ 0\ failed$ ]] && pass "r.live.data-api-maria ($c)" || fail r.live.data-api-maria "$c: $(tail -3 "$dir/data-maria.err")"
	c=$(rot_count "$dir/data-pg")
	[[ $c =~ ^[1-9][0-9]*\ ok,\ 0\ failed$ ]] && pass "r.live.data-api-pg ($c)" || fail r.live.data-api-pg "$c: $(tail -3 "$dir/data-pg.err")"
	if grep -q '^exit 0' "$dir/pgbench.out" && grep -q 'number of failed transactions: 0' "$dir/pgbench.out"; then
		pass "r.live.pgbench-C-old-login ($(grep -o 'number of transactions actually processed: [0-9]*' "$dir/pgbench.out"))"
	else
		fail r.live.pgbench-C-old-login "$(tail -5 "$dir/pgbench.out")"
	fi

	# New credentials log in through the proxies; the old ones stop working
	# after the grace window.
	local cur
	cur=$(awsj secretsmanager get-secret-value --secret-id e2e-alt-maria --query SecretString --output text)
	local nu np
	nu=$(json_get "$cur" 'd["username"]')
	np=$(json_get "$cur" 'd["password"]')
	if [[ $nu == "${ma}_clone" ]] && mariadb -h127.0.0.1 -P"$MARIA_ROT_PROXY_PORT" -u"$nu" -p"$np" -N -B -e 'select 1' sqlgate_e2e >/dev/null 2>&1; then
		pass r.alternating.new-user-logs-in
	else
		fail r.alternating.new-user-logs-in "user $nu"
	fi
	local i refused=0
	for ((i = 0; i < 60; i++)); do
		if ! mariadb --connect-timeout=5 -h127.0.0.1 -P"$MARIA_ROT_PROXY_PORT" -u"$ma" -pApp-pw-1 -N -B -e 'select 1' sqlgate_e2e >/dev/null 2>&1; then
			refused=1
			break
		fi
		sleep 0.5 # polling with a deadline for the grace window to pass
	done
	((refused)) && pass r.alternating.old-login-refused-after-grace || fail r.alternating.old-login-refused-after-grace "still accepted after 30s"
	if mariadb -h127.0.0.1 -u"$ms" -pSingle-pw-1 -e 'select 1' >/dev/null 2>&1; then
		fail r.single.old-password-refused-by-mariadb "Single-pw-1 still works"
	else
		pass r.single.old-password-refused-by-mariadb
	fi

	# A master user without the privilege: the rotation fails, nothing breaks.
	local wmaster
	wmaster=$(rot_secret e2e-rot-weak-master mysql "$mw" Weak-pw-1 maria-rot)
	weak=$(rot_secret e2e-rot-weak mysql "$ms" "$(json_get "$(awsj secretsmanager get-secret-value --secret-id e2e-rot-maria --query SecretString --output text)" 'd["password"]')" maria-rot "$wmaster")
	awsj secretsmanager rotate-secret --secret-id e2e-rot-weak --rotate-immediately >/dev/null || fail r.weak.rotate "$(aws_err)"
	for ((i = 0; i < 60; i++)); do
		grep -q 'rotation failed.*e2e-rot-weak' "$LOG" && break
		sleep 0.5 # polling with a deadline for the log line
	done
	if grep -q 'rotation failed.*e2e-rot-weak.*setSecret' "$LOG"; then
		pass r.weak.failure-logged
	else
		fail r.weak.failure-logged "no 'rotation failed' line for e2e-rot-weak in the log"
	fi
	expect_json r.weak.current-unchanged 'json.loads(d["SecretString"])["username"] == env["R_MS"]' \
		secretsmanager get-secret-value --secret-id e2e-rot-weak
	expect_json r.weak.pending-kept 'any(v["VersionStages"] == ["AWSPENDING"] for v in d["Versions"])' \
		secretsmanager list-secret-version-ids --secret-id e2e-rot-weak
	expect_json r.weak.data-api-still-works 'd["records"] == [[{"longValue": 1}]]' \
		rds-data execute-statement --resource-arn "$ARN_PREFIX:maria-rot" --secret-arn "$weak" --database sqlgate_e2e --sql 'select 1'
	rot_drop_users "$ms" "$ma" "$mm" "$mw" "$ps" "$pa" "$pm"
}

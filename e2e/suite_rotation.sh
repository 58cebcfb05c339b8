# suite_rotation.sh: suite r. The Secrets Manager and IAM calls added with
# built-in rotation through the aws CLI and boto3 (e2e/newops_test.py,
# including Terraform-shaped sequences; e2e/iam_groups_test.py for IAM
# groups and GetAccountAuthorizationDetails), then built-in rotation of
# database secrets under live traffic, both strategies on both engines:
# clients log in through the proxies with the credentials they had before
# the rotation, a new connection per transaction (pgbench -C with SCRAM,
# mariadb-slap --detach=1 and a mariadb CLI loop with
# mysql_native_password), while Data API loops run on every rotated
# secret; no login and no query may fail, and after rotation.grace_window
# (60s in run.sh's config) the old logins are refused. Rotations whose
# master user lacks the privilege leave everything working. Uses its own
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
	rc=0
	out=$(SQLGATE_ENDPOINT=$ENDPOINT timeout 300 "$PY" "$E2E_DIR/iam_groups_test.py" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -v '^PASS \|^FAIL ' >&2 || true
	printf '%s\n' "$out" | grep '^PASS \|^FAIL ' || true
	tally_output r.iam_groups_test.py "$rc" "$out"

	# The group calls and GetAccountAuthorizationDetails through the aws CLI.
	local g="e2e-cli-group-$RUN_ID" u="e2e-cli-member-$RUN_ID"
	export R_G=$g R_U=$u
	expect_json r.cli.create-group 'd["Group"]["GroupName"] == env["R_G"]' iam create-group --group-name "$g"
	awsj iam create-user --user-name "$u" >/dev/null || fail r.cli.create-user "$(aws_err)"
	awsj iam add-user-to-group --group-name "$g" --user-name "$u" >/dev/null && pass r.cli.add-user-to-group || fail r.cli.add-user-to-group "$(aws_err)"
	expect_json r.cli.get-group '[u["UserName"] for u in d["Users"]] == [env["R_U"]]' iam get-group --group-name "$g"
	expect_json r.cli.list-groups-for-user '[x["GroupName"] for x in d["Groups"]] == [env["R_G"]]' iam list-groups-for-user --user-name "$u"
	awsj iam put-group-policy --group-name "$g" --policy-name p \
		--policy-document '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}' >/dev/null &&
		pass r.cli.put-group-policy || fail r.cli.put-group-policy "$(aws_err)"
	expect_json r.cli.get-group-policy 'd["PolicyDocument"]["Statement"]["Action"] == "iam:GetUser"' iam get-group-policy --group-name "$g" --policy-name p
	expect_json r.cli.get-account-authorization-details \
		'any(x["GroupName"] == env["R_G"] and x["GroupPolicyList"][0]["PolicyDocument"]["Statement"]["Action"] == "iam:GetUser" for x in d["GroupDetailList"]) and d["UserDetailList"] == []' \
		iam get-account-authorization-details --filter Group
	expect_aws_error r.cli.delete-group-conflict DeleteConflict iam delete-group --group-name "$g"
	awsj iam remove-user-from-group --group-name "$g" --user-name "$u" >/dev/null || fail r.cli.remove-user-from-group "$(aws_err)"
	awsj iam delete-group-policy --group-name "$g" --policy-name p >/dev/null || fail r.cli.delete-group-policy "$(aws_err)"
	awsj iam delete-group --group-name "$g" >/dev/null && pass r.cli.delete-group || fail r.cli.delete-group "$(aws_err)"
	awsj iam delete-user --user-name "$u" >/dev/null || fail r.cli.delete-user "$(aws_err)"
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

# The live-traffic loops below run until the file $ROT_STOP exists (at
# most 300s) and append one line per login or query to FILE: "ok EPOCH"
# or "fail EPOCH detail".

# rot_maria_loop USER PASSWORD FILE logs in through the MySQL proxy with
# the mariadb CLI (mysql_native_password), a new connection per query.
rot_maria_loop() {
	local end=$((SECONDS + 300)) out
	while [[ ! -e $ROT_STOP ]] && ((SECONDS < end)); do
		if out=$(timeout 20 mariadb --connect-timeout=10 -h127.0.0.1 -P"$MARIA_ROT_PROXY_PORT" -u"$1" -p"$2" -N -B -e 'select 1' sqlgate_e2e 2>&1); then
			echo "ok $(date +%s.%N)" >>"$3"
		else
			echo "fail $(date +%s.%N) $out" >>"$3"
		fi
	done
}

# rot_data_loop SECRET_ARN CLUSTER FILE runs SELECT 1 through the Data API
# with boto3.
rot_data_loop() {
	SQLGATE_ENDPOINT=$ENDPOINT "$PY" "$E2E_DIR/rotation_dataapi_loop.py" "$1" "$ARN_PREFIX:$2" "$ROT_STOP" "$3" 2>>"$3"
}

# rot_pgbench USER PASSWORD FILE runs pgbench -C (a new proxy connection
# per transaction, SCRAM) through the PostgreSQL proxy in 2-second rounds;
# a round that exits 0 with no failed transaction counts as ok.
rot_pgbench() {
	local end=$((SECONDS + 300)) out
	while [[ ! -e $ROT_STOP ]] && ((SECONDS < end)); do
		out=$(PGPASSWORD=$2 PGCONNECT_TIMEOUT=10 timeout 60 pgbench -n -C -c 2 -T 2 -f "$TMP/rot/select1.sql" \
			"host=127.0.0.1 port=$PG_ROT_PROXY_PORT user=$1 dbname=sqlgate_e2e" 2>&1)
		if [[ $? == 0 && $out == *"number of failed transactions: 0 "* ]]; then
			echo "ok $(date +%s.%N) $(grep -o 'actually processed: [0-9]*' <<<"$out")" >>"$3"
		else
			echo "fail $(date +%s.%N) $(tail -3 <<<"$out")" >>"$3"
		fi
	done
}

# rot_slap USER PASSWORD FILE runs mariadb-slap through the MySQL proxy in
# rounds of 10 queries, reconnecting after every query (--detach=1).
rot_slap() {
	local end=$((SECONDS + 300)) out
	while [[ ! -e $ROT_STOP ]] && ((SECONDS < end)); do
		if out=$(timeout 60 mariadb-slap -h127.0.0.1 -P"$MARIA_ROT_PROXY_PORT" -u"$1" -p"$2" --create-schema=sqlgate_e2e --no-drop \
			--query='select 1' --concurrency=2 --number-of-queries=10 --detach=1 --iterations=1 2>&1) && [[ $out != *rror* ]]; then
			echo "ok $(date +%s.%N)" >>"$3"
		else
			echo "fail $(date +%s.%N) $out" >>"$3"
		fi
	done
}

# rot_check NAME FILE FROM TO passes when FILE has no failure and has
# successes both before FROM and after TO (epochs): the traffic spanned
# the rotations.
rot_check() {
	local r
	r=$(awk -v from="$3" -v to="$4" '$1 == "ok" { n++; if ($2 < from) b++; if ($2 > to) a++ } $1 != "ok" { f++; if (!msg) msg = $0 }
		END { printf "%d ok (%d before the rotations, %d after), %d failed%s", n, b, a, f, (msg ? ": " substr(msg, 1, 300) : "") ; exit !(f == 0 && b > 0 && a > 0) }' "$2") &&
		pass "$1 ($r)" || fail "$1" "$r"
}

# ROT_LOOPS are the files the live-traffic loops write.
ROT_LOOPS="maria-proxy-alt maria-proxy-single slap-single pgbench-alt pgbench-single data-maria-single data-maria-alt data-pg-single data-pg-alt"

# rot_all_ok_after EPOCH DIR waits (up to 60s) until every loop in DIR
# has a success after EPOCH.
rot_all_ok_after() {
	local i f
	for ((i = 0; i < 120; i++)); do
		for f in $ROT_LOOPS; do
			if [[ -z $(awk -v t="$1" '$1 == "ok" && $2 > t' "$2/$f" 2>/dev/null | head -1) ]]; then
				sleep 0.5 # polling with a deadline
				continue 2
			fi
		done
		return 0
	done
	return 1
}

# rot_refused NAME CMD... polls (up to 150s; the grace window is 60s) until CMD fails: the old login
# refused once the grace window has passed.
rot_refused() {
	local name=$1 i
	shift
	for ((i = 0; i < 300; i++)); do
		if ! "$@" >/dev/null 2>&1; then
			pass "$name"
			return
		fi
		sleep 0.5 # polling with a deadline for the grace window to pass
	done
	fail "$name" "still accepted after 150s"
}

suite_rotation() {
	section "r. built-in rotation under live traffic (MariaDB and PostgreSQL, single and alternating users)"
	local id=${RUN_ID//-/_}
	local ms="rt_s_$id" ma="rt_a_$id" mm="rt_m_$id" mw="rt_w_$id" ps="rt_ps_$id" pa="rt_pa_$id" pm="rt_pm_$id" pw="rt_pw_$id"
	export R_MS=$ms
	rot_drop_users "$ms" "$ma" "$mm" "$mw" "$ps" "$pa" "$pm" "$pw"
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

	# Live traffic, all with the credentials from before the rotation,
	# through the proxies on all four secrets (the single-user ones test
	# the previous password with SCRAM and mysql_native_password), and Data
	# API loops on all four secrets; it runs from before the four
	# rotations start until after they all finished (within the 60s
	# grace window run.sh configures).
	local dir=$TMP/rot pids=() f
	mkdir -p "$dir"
	ROT_STOP=$dir/stop
	printf 'select 1;\n' >"$dir/select1.sql"
	rot_maria_loop "$ma" App-pw-1 "$dir/maria-proxy-alt" &
	pids+=($!)
	rot_maria_loop "$ms" Single-pw-1 "$dir/maria-proxy-single" &
	pids+=($!)
	rot_slap "$ms" Single-pw-1 "$dir/slap-single" &
	pids+=($!)
	rot_pgbench "$pa" App-pw-1 "$dir/pgbench-alt" &
	pids+=($!)
	rot_pgbench "$ps" Single-pw-1 "$dir/pgbench-single" &
	pids+=($!)
	rot_data_loop "$s_maria" maria-rot "$dir/data-maria-single" &
	pids+=($!)
	rot_data_loop "$a_maria" maria-rot "$dir/data-maria-alt" &
	pids+=($!)
	rot_data_loop "$s_pg" pg-rot "$dir/data-pg-single" &
	pids+=($!)
	rot_data_loop "$a_pg" pg-rot "$dir/data-pg-alt" &
	pids+=($!)
	rot_all_ok_after 0 "$dir" || fail r.live.start "not every client loop succeeded within 60s"
	local from to name d i rpids=() names=(e2e-rot-maria e2e-alt-maria e2e-rot-pg e2e-alt-pg)
	from=$(date +%s.%N)
	for name in "${names[@]}"; do
		(awsj secretsmanager rotate-secret --secret-id "$name" --rotation-rules '{"ScheduleExpression":"rate(10 days)"}' \
			--rotate-immediately >"$dir/rotate-$name" 2>&1) &
		rpids+=($!)
	done
	for i in "${!names[@]}"; do
		name=${names[$i]}
		wait "${rpids[$i]}" && pass "r.rotate-secret.$name" || fail "r.rotate-secret.$name" "$(cat "$dir/rotate-$name")"
	done
	# to is when the server has logged all four rotations as done (the
	# aws CLI is too slow on a loaded machine to poll with while the
	# grace window runs); then every loop must succeed once more.
	for ((i = 0; i < 240; i++)); do # polling with a deadline
		for name in "${names[@]}"; do
			grep -q "secret rotated.*secret:$name-" "$LOG" || { sleep 0.5; continue 2; }
		done
		break
	done
	to=$(date +%s.%N)
	rot_all_ok_after "$to" "$dir" || true
	touch "$ROT_STOP"
	for name in "${names[@]}"; do
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
	rot_check r.live.mariadb-proxy-alternating-old-login "$dir/maria-proxy-alt" "$from" "$to"
	rot_check r.live.mariadb-proxy-single-old-password "$dir/maria-proxy-single" "$from" "$to"
	rot_check r.live.mariadb-slap-detach-single-old-password "$dir/slap-single" "$from" "$to"
	rot_check r.live.pgbench-C-alternating-old-login "$dir/pgbench-alt" "$from" "$to"
	rot_check r.live.pgbench-C-single-old-password "$dir/pgbench-single" "$from" "$to"
	for f in data-maria-single data-maria-alt data-pg-single data-pg-alt; do
		rot_check "r.live.data-api.$f" "$dir/$f" "$from" "$to"
	done

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
	rot_refused r.alternating.old-login-refused-after-grace \
		mariadb --connect-timeout=5 -h127.0.0.1 -P"$MARIA_ROT_PROXY_PORT" -u"$ma" -pApp-pw-1 -N -B -e 'select 1' sqlgate_e2e
	rot_refused r.single.mariadb-proxy-old-password-refused-after-grace \
		mariadb --connect-timeout=5 -h127.0.0.1 -P"$MARIA_ROT_PROXY_PORT" -u"$ms" -pSingle-pw-1 -N -B -e 'select 1' sqlgate_e2e
	rot_refused r.single.pg-proxy-old-password-refused-after-grace env PGPASSWORD=Single-pw-1 PGCONNECT_TIMEOUT=5 \
		psql -X -At "host=127.0.0.1 port=$PG_ROT_PROXY_PORT user=$ps dbname=sqlgate_e2e" -c 'select 1'
	rot_refused r.alternating.pg-proxy-old-login-refused-after-grace env PGPASSWORD=App-pw-1 PGCONNECT_TIMEOUT=5 \
		psql -X -At "host=127.0.0.1 port=$PG_ROT_PROXY_PORT user=$pa dbname=sqlgate_e2e" -c 'select 1'
	np=$(json_get "$(awsj secretsmanager get-secret-value --secret-id e2e-rot-pg --query SecretString --output text)" 'd["password"]')
	if PGPASSWORD=$np psql -X -At "host=127.0.0.1 port=$PG_ROT_PROXY_PORT user=$ps dbname=sqlgate_e2e" -c 'select 1' >/dev/null 2>&1; then
		pass r.single.pg-proxy-new-password
	else
		fail r.single.pg-proxy-new-password "the AWSCURRENT password is refused"
	fi
	if mariadb -h127.0.0.1 -u"$ms" -pSingle-pw-1 -e 'select 1' >/dev/null 2>&1; then
		fail r.single.old-password-refused-by-mariadb "Single-pw-1 still works"
	else
		pass r.single.old-password-refused-by-mariadb
	fi

	# A master user without the privilege: the rotation fails, nothing breaks.
	local wmaster i
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
	# The same on PostgreSQL: a master role without CREATEROLE cannot
	# create the clone.
	rot_user pg "$pw" Weak-pw-1 || fail r.weak-pg.user "could not create $pw"
	wmaster=$(rot_secret e2e-rot-weak-master-pg postgres "$pw" Weak-pw-1 pg-rot)
	weak=$(rot_secret e2e-rot-weak-pg postgres "$ps" "$(json_get "$(awsj secretsmanager get-secret-value --secret-id e2e-rot-pg --query SecretString --output text)" 'd["password"]')" pg-rot "$wmaster")
	awsj secretsmanager rotate-secret --secret-id e2e-rot-weak-pg --rotate-immediately >/dev/null || fail r.weak-pg.rotate "$(aws_err)"
	for ((i = 0; i < 60; i++)); do
		grep -q 'rotation failed.*e2e-rot-weak-pg' "$LOG" && break
		sleep 0.5 # polling with a deadline for the log line
	done
	grep -q 'rotation failed.*e2e-rot-weak-pg.*setSecret' "$LOG" && pass r.weak-pg.failure-logged || fail r.weak-pg.failure-logged "no 'rotation failed' line for e2e-rot-weak-pg"
	export R_PS=$ps
	expect_json r.weak-pg.current-unchanged 'json.loads(d["SecretString"])["username"] == env["R_PS"]' \
		secretsmanager get-secret-value --secret-id e2e-rot-weak-pg
	expect_json r.weak-pg.data-api-still-works 'd["records"] == [[{"longValue": 1}]]' \
		rds-data execute-statement --resource-arn "$ARN_PREFIX:pg-rot" --secret-arn "$weak" --database sqlgate_e2e --sql 'select 1'
	rot_drop_users "$ms" "$ma" "$mm" "$mw" "$ps" "$pa" "$pm" "$pw"
}

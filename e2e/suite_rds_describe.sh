# suite_rds_describe.sh: part of suite p (suite_rds.sh), the describe calls'
# paging and filters with the aws CLI v1's auto-pagination (--page-size,
# --max-items, --starting-token) and boto3 paginators, proxy Status, and a
# lowered MaxConnectionsPercent / MaxIdleConnectionsPercent closing the
# proxy's backend connections, counted by PostgreSQL itself
# (pg_stat_activity) for a login made for this suite. Sourced by run.sh.

# rds_proxy_status NAME STATUS waits up to 20 s for describe-db-proxies to
# report STATUS and prints the proxy's endpoint.
rds_proxy_status() {
	local i out
	for ((i = 0; i < 100; i++)); do
		out=$(awsj rds describe-db-proxies --db-proxy-name "$1") &&
			[[ $(json_get "$out" 'd["DBProxies"][0]["Status"]') == "$2" ]] &&
			json_get "$out" 'd["DBProxies"][0]["Endpoint"]' && return 0
		sleep 0.2
	done
	return 1
}

suite_rds_describe() {
	suite_rds_paging
	suite_rds_pool
}

suite_rds_paging() {
	local prefix="e2e-page-$RANDOM" i out rc=0 tok names
	export RDS_PAGE_PREFIX=$prefix
	# 23 proxies without targets (nothing listens), made with boto3: with
	# the file's proxies more than one page of 20.
	out=$(SQLGATE_ENDPOINT=$ENDPOINT timeout 300 "$PY" "$E2E_DIR/rds_paging_test.py" create "$prefix" 23 2>&1) || rc=$?
	tally_output p.paging.boto3-create "$rc" "$out"
	rds_proxy_status "$prefix-00" available >/dev/null && pass p.status.created-proxy-available ||
		fail p.status.created-proxy-available "$(aws_err)"

	# The CLI follows the markers: every proxy, once.
	expect_json p.paging.cli-page-size-20 \
		'sorted(n for n in (p["DBProxyName"] for p in d["DBProxies"]) if n.startswith(env["RDS_PAGE_PREFIX"] + "-")) == ["%s-%02d" % (env["RDS_PAGE_PREFIX"], i) for i in range(23)] and len({p["DBProxyName"] for p in d["DBProxies"]}) == len(d["DBProxies"]) and "NextToken" not in d' \
		rds describe-db-proxies --page-size 20
	# --max-items stops early with a NextToken; --starting-token goes on.
	expect_json p.paging.cli-max-items 'len(d["DBProxies"]) == 5 and d["NextToken"]' \
		rds describe-db-proxies --page-size 20 --max-items 5
	tok=$(json_get "${LAST_OUT:-null}" 'd["NextToken"]')
	names=$(json_get "${LAST_OUT:-null}" '",".join(p["DBProxyName"] for p in d["DBProxies"])')
	export RDS_FIRST5=$names
	expect_json p.paging.cli-starting-token \
		'not set(env["RDS_FIRST5"].split(",")) & {p["DBProxyName"] for p in d["DBProxies"]} and len([p for p in d["DBProxies"] if p["DBProxyName"].startswith(env["RDS_PAGE_PREFIX"] + "-")]) + len([n for n in env["RDS_FIRST5"].split(",") if n.startswith(env["RDS_PAGE_PREFIX"] + "-")]) == 23' \
		rds describe-db-proxies --page-size 20 --starting-token "$tok"
	# (the CLI refuses a page size below 20 itself; boto3 sends one below)
	expect_aws_error p.paging.page-size-101 InvalidParameterValue rds describe-db-clusters --page-size 101

	# Filters: DescribeDBClusters takes RDS's cluster filters, the proxy
	# calls none.
	expect_json p.filters.engine 'all(c["Engine"] == "mysql" for c in d["DBClusters"]) and {"maria", "maria-rot"} <= {c["DBClusterIdentifier"] for c in d["DBClusters"]}' \
		rds describe-db-clusters --filters Name=engine,Values=mysql
	expect_json p.filters.db-cluster-id 'sorted(c["DBClusterIdentifier"] for c in d["DBClusters"]) == ["lite", "pg"]' \
		rds describe-db-clusters --filters "Name=db-cluster-id,Values=pg,$ARN_PREFIX:lite"
	expect_json p.filters.no-match 'd["DBClusters"] == []' \
		rds describe-db-clusters --filters Name=engine,Values=postgres Name=db-cluster-id,Values=maria
	expect_aws_error p.filters.unknown-name InvalidParameterValue rds describe-db-clusters --filters Name=status,Values=available
	expect_aws_error p.filters.proxies-take-none InvalidParameterValue rds describe-db-proxies --filters Name=engine,Values=x
	expect_json p.status.clusters-available 'all(c["Status"] == "available" for c in d["DBClusters"])' rds describe-db-clusters

	rc=0 && out=$(SQLGATE_ENDPOINT=$ENDPOINT timeout 300 "$PY" "$E2E_DIR/rds_paging_test.py" check "$prefix" 23 2>&1) || rc=$?
	printf '%s\n' "$out" | grep '^PASS \|^FAIL ' || true
	tally_output p.paging.rds_paging_test.py "$rc" "$out"
	rc=0 && out=$(SQLGATE_ENDPOINT=$ENDPOINT timeout 300 "$PY" "$E2E_DIR/rds_paging_test.py" delete "$prefix" 23 2>&1) || rc=$?
	tally_output p.paging.boto3-delete "$rc" "$out"
}

# rds_backends ROLE prints PostgreSQL's count of ROLE's sessions.
rds_backends() {
	rds_psql 127.0.0.1:5432 sqlgatepw disable "select count(*) from pg_stat_activity where usename = '$1'"
}

# rds_wait_backends ROLE N waits up to 15 s for ROLE to have N sessions.
rds_wait_backends() {
	local i
	for ((i = 0; i < 75; i++)); do
		[[ $(rds_backends "$1") == "$2" ]] && return 0
		sleep 0.2
	done
	return 1
}

suite_rds_pool() {
	local role="e2e_shrink_$RANDOM" pw="pw$RANDOM$RANDOM" name="e2e-shrink-$RANDOM" ep sarn i pids=()
	rds_psql 127.0.0.1:5432 sqlgatepw disable "create role $role login password '$pw'" >/dev/null
	sarn=$(json_get "$(awsj secretsmanager create-secret --name "$role" \
		--secret-string "{\"username\":\"$role\",\"password\":\"$pw\"}" || echo null)" 'd["ARN"]')
	awsj rds create-db-proxy --db-proxy-name "$name" --engine-family POSTGRESQL --auth "SecretArn=$sarn" \
		--role-arn arn:aws:iam::000000000000:role/e2e-proxy --vpc-subnet-ids subnet-e2e >/dev/null &&
		awsj rds register-db-proxy-targets --db-proxy-name "$name" --db-cluster-identifiers pg >/dev/null ||
		fail p.pool.create "$(aws_err)"
	if ! ep=$(rds_proxy_status "$name" available) || ! rds_wait_psql_as "$ep" "$role" "$pw"; then
		fail p.pool.proxy-serves "$(aws_err)"
		return
	fi
	# Four clients hold a backend each in a transaction: two end soon,
	# two later.
	for i in 1 2 3 4; do
		local nap=3
		((i > 2)) && nap=15
		(PGPASSWORD=$pw psql -X -A -t -q "host=${ep%:*} port=${ep##*:} user=$role dbname=sqlgate_e2e sslmode=disable" \
			-c "begin; select pg_sleep($nap); commit;" >/dev/null 2>&1) &
		pids+=($!)
	done
	wait "${pids[0]}" "${pids[1]}" || true
	if rds_wait_backends "$role" 4; then pass p.pool.four-backends; else fail p.pool.four-backends "$(rds_backends "$role")"; fi
	# MaxConnectionsPercent 1 (one connection): the two idle ones close at once…
	awsj rds modify-db-proxy-target-group --db-proxy-name "$name" --target-group-name default \
		--connection-pool-config MaxConnectionsPercent=1 >/dev/null || fail p.pool.modify "$(aws_err)"
	if rds_wait_backends "$role" 2; then pass p.pool.idle-closed-at-once; else fail p.pool.idle-closed-at-once "$(rds_backends "$role")"; fi
	# …the busy ones as they are returned, down to the bound.
	wait "${pids[2]}" "${pids[3]}" || true
	if rds_wait_backends "$role" 1; then pass p.pool.returned-closed-to-bound; else fail p.pool.returned-closed-to-bound "$(rds_backends "$role")"; fi
	# MaxIdleConnectionsPercent 0: no idle connection is kept.
	awsj rds modify-db-proxy-target-group --db-proxy-name "$name" --target-group-name default \
		--connection-pool-config MaxConnectionsPercent=100,MaxIdleConnectionsPercent=0 >/dev/null || fail p.pool.modify-idle "$(aws_err)"
	if rds_wait_backends "$role" 0; then pass p.pool.idle-trimmed; else fail p.pool.idle-trimmed "$(rds_backends "$role")"; fi
	rds_proxy_status "$name" available >/dev/null && pass p.status.available-after-modify || fail p.status.available-after-modify "$(aws_err)"
	awsj rds delete-db-proxy --db-proxy-name "$name" >/dev/null || fail p.pool.delete "$(aws_err)"
	sleep 0.5
	rds_psql 127.0.0.1:5432 sqlgatepw disable "drop role if exists $role" >/dev/null
}

# rds_wait_psql_as HOST:PORT USER PASSWORD waits up to 10 s for the proxy
# to serve USER.
rds_wait_psql_as() {
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(PGPASSWORD=$3 PGCONNECT_TIMEOUT=5 psql -X -A -t -q "host=${1%:*} port=${1##*:} user=$2 dbname=sqlgate_e2e sslmode=disable" \
			-c 'select 1' 2>/dev/null) == 1 ]] && return 0
		sleep 0.2
	done
	return 1
}

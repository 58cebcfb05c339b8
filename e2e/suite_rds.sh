# suite_rds.sh: suite p, the RDS API with the aws CLI v1 and boto3
# (docs/proxy.md "Managing proxies with the aws CLI"): the Data API switch,
# then seed 002's proxy flow redone with sqlgate — a proxy created online
# from a secret, its target registered, psql and the mariadb CLI through it
# with the secret's password and an IAM token, its pool modified and the
# proxy deleted while clients run, without a restart and without dropping
# the clients of the file's proxies. run.sh's config gives the RDS API the
# port range $RDS_PORTS. Sourced by run.sh.

# free_port_range N prints "FIRST-LAST", N consecutive free ports.
free_port_range() {
	python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    first = random.randint(20000, 32000 - n)  # below the ephemeral ports (ip_local_port_range)
    socks = []
    try:
        for p in range(first, first + n):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(f"{first}-{first + n - 1}")
    break
PY
}

# rds_psql HOST:PORT PASSWORD SSLMODE SQL runs psql through a proxy.
rds_psql() {
	local hp=$1 pw=$2 mode=$3
	PGPASSWORD=$pw PGCONNECT_TIMEOUT=10 timeout 60 psql -X -A -t -q -v ON_ERROR_STOP=1 \
		"host=${hp%:*} port=${hp##*:} user=sqlgate dbname=sqlgate_e2e sslmode=$mode" -c "$4" 2>&1
}

# rds_mariadb HOST:PORT PASSWORD SQL [ARGS...] runs the mariadb CLI through a proxy.
rds_mariadb() {
	local hp=$1 pw=$2 sql=$3
	shift 3
	timeout 60 mariadb --connect-timeout=10 -h"${hp%:*}" -P"${hp##*:}" -usqlgate -p"$pw" -N -B "$@" -e "$sql" sqlgate_e2e 2>&1
}

# rds_wait_psql HOST:PORT waits up to 10 s for the proxy to serve psql.
rds_wait_psql() {
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(rds_psql "$1" sqlgatepw disable 'select 1') == 1 ]] && return 0
		sleep 0.2
	done
	return 1
}

suite_rds() {
	section "p. the RDS API (aws CLI v1, boto3): Data API switch, proxies created online"
	suite_rds_clusters
	suite_rds_proxy_pg
	suite_rds_proxy_mysql
	suite_rds_errors
	suite_rds_boto3
	suite_rds_describe
}

suite_rds_clusters() {
	expect_json p.describe-db-clusters \
		'{c["DBClusterIdentifier"]: c["HttpEndpointEnabled"] for c in d["DBClusters"]}.get("pg") is True and any(c["DBClusterArn"] == env["ARN_PREFIX"] + ":maria" and c["Port"] == 3306 for c in d["DBClusters"])' \
		rds describe-db-clusters
	expect_json p.disable-http-endpoint 'd["HttpEndpointEnabled"] is False' \
		rds disable-http-endpoint --resource-arn "$ARN_PREFIX:pg"
	sleep 0.3
	expect_aws_error p.data-api-refused-when-disabled BadRequestException \
		rds-data execute-statement --resource-arn "$ARN_PREFIX:pg" --secret-arn "${SECRET_ARN_pg:-sqlgate-e2e-pg}" --sql 'select 1'
	expect_json p.enable-http-endpoint 'd["HttpEndpointEnabled"] is True' \
		rds enable-http-endpoint --resource-arn "$ARN_PREFIX:pg"
	sleep 0.3
	expect_json p.data-api-back 'd["records"] == [[{"longValue": 1}]]' \
		rds-data execute-statement --resource-arn "$ARN_PREFIX:pg" --secret-arn "${SECRET_ARN_pg:-sqlgate-e2e-pg}" --sql 'select 1'
}

# rds_iam_user creates a user allowed rds-db:connect to pg and maria as
# sqlgate and sets RDS_AKID / RDS_SKEY.
rds_iam_user() {
	local user="e2e-rds-$RANDOM" key
	awsj iam create-user --user-name "$user" >/dev/null || return 1
	key=$(awsj iam create-access-key --user-name "$user") || return 1
	RDS_AKID=$(json_get "$key" 'd["AccessKey"]["AccessKeyId"]')
	RDS_SKEY=$(json_get "$key" 'd["AccessKey"]["SecretAccessKey"]')
	awsj iam put-user-policy --user-name "$user" --policy-name connect --policy-document '{"Version": "2012-10-17",
 "Statement": [{"Effect": "Allow", "Action": "rds-db:connect",
   "Resource": ["arn:aws:rds-db:us-east-1:000000000000:dbuser:pg/sqlgate", "arn:aws:rds-db:us-east-1:000000000000:dbuser:maria/sqlgate"]}]}' >/dev/null
}

# rds_token HOST:PORT prints an IAM auth token for sqlgate at HOST:PORT.
rds_token() {
	AWS_ACCESS_KEY_ID=$RDS_AKID AWS_SECRET_ACCESS_KEY=$RDS_SKEY timeout 60 aws rds generate-db-auth-token \
		--hostname "${1%:*}" --port "${1##*:}" --username sqlgate --region us-east-1 2>"$AWS_ERR"
}

suite_rds_proxy_pg() {
	local name="e2e-pg-$RANDOM" ep out rc bg_file bg_online tok
	rds_iam_user || fail p.iam-user "$(aws_err)"
	# Seed 002's flow: a proxy from a secret, then its target.
	expect_json p.pg.create-db-proxy 'd["DBProxy"]["EngineFamily"] == "POSTGRESQL" and d["DBProxy"]["Auth"][0]["IAMAuth"] == "ENABLED"' \
		rds create-db-proxy --db-proxy-name "$name" --engine-family POSTGRESQL \
		--auth "AuthScheme=SECRETS,SecretArn=${SECRET_ARN_pg:-sqlgate-e2e-pg},IAMAuth=ENABLED" \
		--role-arn arn:aws:iam::000000000000:role/e2e-proxy --vpc-subnet-ids subnet-e2e
	expect_json p.pg.register-db-proxy-targets 'd["DBProxyTargets"][0]["TrackedClusterId"] == "pg"' \
		rds register-db-proxy-targets --db-proxy-name "$name" --db-cluster-identifiers pg
	# Status: creating, then available once this node listens.
	if ep=$(rds_proxy_status "$name" available) && [[ $ep == *:* ]]; then
		pass p.pg.describe-db-proxies
	else
		fail p.pg.describe-db-proxies "$(aws_err)"
	fi
	if rds_wait_psql "$ep"; then
		pass p.pg.psql-secret-password
	else
		fail p.pg.psql-secret-password "psql through $ep: $(rds_psql "$ep" sqlgatepw disable 'select 1')"
		return
	fi
	tok=$(rds_token "$ep") || true
	rc=0 && out=$(rds_psql "$ep" "$tok" require "select 'iam ' || current_user") || rc=$?
	expect_out p.pg.psql-iam-token "iam sqlgate" "$out" "$rc"
	expect_json p.pg.describe-db-proxy-targets 'd["Targets"][1]["TargetHealth"]["State"] == "AVAILABLE" and d["Targets"][1]["Port"] == 5432' \
		rds describe-db-proxy-targets --db-proxy-name "$name"

	# Clients on the file's pg proxy and on the new proxy run across the
	# modifications and the deletion.
	bg_file=$TMP/rds-bg-file.out bg_online=$TMP/rds-bg-online.out
	(rds_psql "127.0.0.1:$PG_PROXY_PORT" sqlgatepw disable "select pg_sleep(4); select 'file-client-ok'" >"$bg_file") &
	local bg1=$!
	(rds_psql "$ep" sqlgatepw disable "select pg_sleep(1.5); select 'online-client-ok'" >"$bg_online") &
	local bg2=$!
	sleep 0.5
	expect_json p.pg.modify-db-proxy-target-group \
		'd["DBProxyTargetGroup"]["ConnectionPoolConfig"]["ConnectionBorrowTimeout"] == 30 and d["DBProxyTargetGroup"]["ConnectionPoolConfig"]["MaxConnectionsPercent"] == 50' \
		rds modify-db-proxy-target-group --db-proxy-name "$name" --target-group-name default \
		--connection-pool-config 'MaxConnectionsPercent=50,MaxIdleConnectionsPercent=25,ConnectionBorrowTimeout=30,SessionPinningFilters=EXCLUDE_VARIABLE_SETS'
	expect_json p.pg.describe-db-proxy-target-groups \
		'd["TargetGroups"][0]["IsDefault"] and d["TargetGroups"][0]["ConnectionPoolConfig"]["MaxIdleConnectionsPercent"] == 25 and d["TargetGroups"][0]["ConnectionPoolConfig"]["SessionPinningFilters"] == ["EXCLUDE_VARIABLE_SETS"]' \
		rds describe-db-proxy-target-groups --db-proxy-name "$name"
	expect_json p.pg.modify-db-proxy 'd["DBProxy"]["IdleClientTimeout"] == 900 and d["DBProxy"]["DebugLogging"] is True' \
		rds modify-db-proxy --db-proxy-name "$name" --idle-client-timeout 900 --debug-logging
	wait "$bg2" || true
	if [[ $(tail -n1 "$bg_online") == online-client-ok ]]; then
		pass p.pg.client-kept-across-modify
	else
		fail p.pg.client-kept-across-modify "$(cat "$bg_online")"
	fi
	rc=0 && out=$(rds_psql "$ep" sqlgatepw disable 'select 7') || rc=$?
	expect_out p.pg.psql-after-modify 7 "$out" "$rc"

	# Require TLS online: plaintext clients are refused, TLS ones served.
	expect_json p.pg.modify-require-tls 'd["DBProxy"]["RequireTLS"] is True' \
		rds modify-db-proxy --db-proxy-name "$name" --require-tls
	sleep 0.3
	rc=0 && out=$(rds_psql "$ep" sqlgatepw disable 'select 1') || rc=$?
	expect_refused p.pg.plaintext-refused-with-require-tls 'TLS|SSL|ssl|encrypt' "$out" "$rc"
	rc=0 && out=$(rds_psql "$ep" sqlgatepw require 'select 8') || rc=$?
	expect_out p.pg.tls-served-with-require-tls 8 "$out" "$rc"

	# An additional endpoint.
	expect_json p.pg.create-db-proxy-endpoint 'd["DBProxyEndpoint"]["TargetRole"] == "READ_WRITE" and not d["DBProxyEndpoint"]["IsDefault"]' \
		rds create-db-proxy-endpoint --db-proxy-name "$name" --db-proxy-endpoint-name "$name-ep" --vpc-subnet-ids subnet-e2e
	local ep2
	ep2=$(json_get "${LAST_OUT:-null}" 'd["DBProxyEndpoint"]["Endpoint"]')
	rc=0 && out=$(sleep 0.5 && rds_psql "$ep2" sqlgatepw require 'select 9') || rc=$?
	expect_out p.pg.psql-through-endpoint 9 "$out" "$rc"
	expect_json p.pg.describe-db-proxy-endpoints 'sorted(e["IsDefault"] for e in d["DBProxyEndpoints"]) == [False, True]' \
		rds describe-db-proxy-endpoints --db-proxy-name "$name"
	expect_json p.pg.delete-db-proxy-endpoint 'd["DBProxyEndpoint"]["Status"] == "deleting"' \
		rds delete-db-proxy-endpoint --db-proxy-endpoint-name "$name-ep"

	# Tags.
	local parn
	parn=$(json_get "$(awsj rds describe-db-proxies --db-proxy-name "$name" || echo null)" 'd["DBProxies"][0]["DBProxyArn"]')
	if awsj rds add-tags-to-resource --resource-name "$parn" --tags Key=team,Value=e2e Key=tier,Value=1 >/dev/null &&
		awsj rds remove-tags-from-resource --resource-name "$parn" --tag-keys tier >/dev/null; then
		pass p.pg.add-remove-tags
	else
		fail p.pg.add-remove-tags "$(aws_err)"
	fi
	expect_json p.pg.list-tags-for-resource 'd["TagList"] == [{"Key": "team", "Value": "e2e"}]' \
		rds list-tags-for-resource --resource-name "$parn"

	# Delete while the file proxy's client runs.
	expect_json p.pg.delete-db-proxy 'd["DBProxy"]["Status"] == "deleting"' rds delete-db-proxy --db-proxy-name "$name"
	sleep 0.5
	rc=0 && out=$(rds_psql "$ep" sqlgatepw require 'select 1') || rc=$?
	expect_refused p.pg.deleted-proxy-refuses 'refused|could not connect|failed' "$out" "$rc"
	wait "$bg1" || true
	if [[ $(tail -n1 "$bg_file") == file-client-ok ]]; then
		pass p.pg.other-proxy-client-kept
	else
		fail p.pg.other-proxy-client-kept "$(cat "$bg_file")"
	fi
}

suite_rds_proxy_mysql() {
	local name="e2e-maria-$RANDOM" ep out rc tok i
	expect_json p.maria.create-db-proxy 'd["DBProxy"]["EngineFamily"] == "MYSQL"' \
		rds create-db-proxy --db-proxy-name "$name" --engine-family MYSQL \
		--auth "AuthScheme=SECRETS,SecretArn=${SECRET_ARN_maria:-sqlgate-e2e-maria},IAMAuth=ENABLED" \
		--role-arn arn:aws:iam::000000000000:role/e2e-proxy --vpc-subnet-ids subnet-e2e
	expect_json p.maria.register-db-proxy-targets 'd["DBProxyTargets"][0]["TrackedClusterId"] == "maria"' \
		rds register-db-proxy-targets --db-proxy-name "$name" --db-cluster-identifiers maria
	ep=$(json_get "$(awsj rds describe-db-proxies --db-proxy-name "$name" || echo null)" 'd["DBProxies"][0]["Endpoint"]')
	for ((i = 0; i < 50; i++)); do
		rc=0 && out=$(rds_mariadb "$ep" sqlgatepw 'select 40 + 2') || rc=$?
		[[ $out == 42 ]] && break
		sleep 0.2
	done
	expect_out p.maria.mariadb-secret-password 42 "$out" "$rc"
	tok=$(rds_token "$ep") || true
	rc=0 && out=$(rds_mariadb "$ep" "$tok" "select 'iam', current_user() like 'sqlgate@%'" --ssl) || rc=$?
	expect_out p.maria.mariadb-iam-token $'iam\t1' "$out" "$rc"
	# IAM required online: the password no longer works, the token does.
	expect_json p.maria.modify-iam-required 'd["DBProxy"]["Auth"][0]["IAMAuth"] == "REQUIRED"' \
		rds modify-db-proxy --db-proxy-name "$name" \
		--auth "AuthScheme=SECRETS,SecretArn=${SECRET_ARN_maria:-sqlgate-e2e-maria},IAMAuth=REQUIRED"
	sleep 0.3
	rc=0 && out=$(rds_mariadb "$ep" sqlgatepw 'select 1' --ssl) || rc=$?
	expect_refused p.maria.password-refused-when-iam-required 'ERROR 1045' "$out" "$rc"
	rc=0 && out=$(rds_mariadb "$ep" "$tok" 'select 5' --ssl) || rc=$?
	expect_out p.maria.token-served-when-iam-required 5 "$out" "$rc"
	if awsj rds deregister-db-proxy-targets --db-proxy-name "$name" --db-cluster-identifiers maria >/dev/null; then
		pass p.maria.deregister-db-proxy-targets
	else
		fail p.maria.deregister-db-proxy-targets "$(aws_err)"
	fi
	export RDS_MARIA=$name
	expect_json p.maria.delete-db-proxy 'd["DBProxy"]["DBProxyName"] == env["RDS_MARIA"]' rds delete-db-proxy --db-proxy-name "$name"
}

suite_rds_errors() {
	expect_aws_error p.error.proxy-not-found DBProxyNotFoundFault rds describe-db-proxies --db-proxy-name e2e-none
	expect_aws_error p.error.cluster-not-found DBClusterNotFoundFault rds describe-db-clusters --db-cluster-identifier e2e-none
	expect_aws_error p.error.bad-engine-family InvalidParameterValue \
		rds create-db-proxy --db-proxy-name e2e-bad --engine-family SQLSERVER \
		--auth "SecretArn=${SECRET_ARN_pg:-sqlgate-e2e-pg}" --role-arn arn:aws:iam::000000000000:role/e2e-proxy --vpc-subnet-ids s
	expect_aws_error p.error.endpoint-not-found DBProxyEndpointNotFoundFault rds delete-db-proxy-endpoint --db-proxy-endpoint-name e2e-none
	# The file's proxy is there under its cluster's name; its target is the file's.
	export PG_PROXY_PORT
	expect_json p.file-proxy-listed 'd["DBProxies"][0]["Endpoint"] == "127.0.0.1:" + env["PG_PROXY_PORT"]' \
		rds describe-db-proxies --db-proxy-name pg
	expect_aws_error p.error.file-target-fixed InvalidDBProxyStateFault \
		rds deregister-db-proxy-targets --db-proxy-name pg --db-cluster-identifiers pg
}

suite_rds_boto3() {
	local out rc=0
	out=$(SQLGATE_ENDPOINT=$ENDPOINT PG_SECRET=${SECRET_ARN_pg:-sqlgate-e2e-pg} timeout 300 "$PY" "$E2E_DIR/rds_boto3_test.py" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -v '^PASS \|^FAIL ' >&2 || true
	printf '%s\n' "$out" | grep '^PASS \|^FAIL ' || true
	tally_output p.rds_boto3_test.py "$rc" "$out"
}

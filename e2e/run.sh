#!/usr/bin/env bash
# run.sh is sqlgate's end-to-end suite. It builds the binary into a temp dir,
# starts `sqlgate serve` on free loopback ports with a fresh data dir and root
# keys from the environment, and drives it with the real clients the seed
# documents use:
#   a. aws CLI v1 Secrets Manager, then a restart that must lose nothing
#   b. seed 000's aws CLI commands on MariaDB, PostgreSQL and SQLite
#      (the `lite` cluster and the embedded `default` setup)
#   c. boto3, like seed 000's Lambda (e2e/lambda_test.py)
#   d. @aws-sdk/client-rds-data v3, seed 001's users example (e2e/*.mjs)
#   e. HTTP error cases with curl and the aws CLI
#   f. HTTPS with the self-signed certificate sqlgate generates
#   h. the connection-pooling proxies with psql, the mariadb CLI and pymysql,
#      with a secret's password and with IAM auth tokens (suite_proxy.sh)
#   r. the rotation-era Secrets Manager and IAM calls with the aws CLI and
#      boto3, and built-in rotation under live traffic (suite_rotation.sh)
#   k. data-api-client and Drizzle (e2e/clients.mjs, suite_isolation.sh)
#   l. session isolation through the aws CLI and curl (suite_isolation.sh)
#   p. the RDS API: Data API switch, proxies created online (suite_rds.sh)
#   g. API keys and usage plans made online with aws apigateway, boto3 and
#      sqlgate apikeys, used by seed 003's curl (suite_apigateway.sh)
# Each check prints "PASS name" or "FAIL name: detail"; the last line is
# "N passed, N failed" and the exit code is non-zero when anything failed.
#
# Needs MariaDB and PostgreSQL with the sqlgate user (e2e/services.sh).
# SQLGATE_E2E_KEEP=1 keeps the temp dir (binary, data dirs, logs).
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$E2E_DIR/lib.sh"
source "$E2E_DIR/suite_secrets.sh"
source "$E2E_DIR/suite_seed000.sh"
source "$E2E_DIR/suite_http.sh"
source "$E2E_DIR/suite_iam.sh"
source "$E2E_DIR/suite_iam_conditions.sh"
source "$E2E_DIR/suite_proxy.sh"
source "$E2E_DIR/suite_isolation.sh"
source "$E2E_DIR/suite_proxy_isolation.sh"
source "$E2E_DIR/suite_rotation.sh"
source "$E2E_DIR/suite_rds.sh"
source "$E2E_DIR/suite_rds_describe.sh"
source "$E2E_DIR/suite_apigateway.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sqlgate-e2e.XXXXXX")
BIN=$TMP/sqlgate
DATA=$TMP/data
CFG=$TMP/config.yaml
LOG=$TMP/server.log
DEFAULT_DATA=$TMP/default-data
DEFAULT_LOG=$TMP/server-default.log
AWS_ERR=$TMP/aws.err
RUN_ID=$(date +%s)-$$
SERVER_PID=""
DEFAULT_PID=""
ARN_PREFIX="arn:aws:rds:us-east-1:000000000000:cluster"
export RUN_ID ARN_PREFIX

cleanup() {
	local rc=$?
	set +e
	if [[ -n $SERVER_PID ]] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "note: sqlgate (pid $SERVER_PID) had exited before the end of the run; see its log"
	fi
	stop_server "$SERVER_PID"
	stop_server "$DEFAULT_PID"
	if ((rc != 0 && FAILED == 0)); then
		fail e2e.run "run.sh stopped early with status $rc"
	fi
	if ((FAILED > 0)); then
		echo
		echo "Failed checks:"
		printf '  %s\n' "${FAILED_NAMES[@]}"
		local f
		for f in "$LOG" "$DEFAULT_LOG"; do
			if [[ -s $f ]]; then
				echo
				echo "---- last 60 lines of $(basename "$f")"
				tail -n 60 "$f"
			fi
		done
	fi
	if [[ -n ${SQLGATE_E2E_KEEP:-} ]]; then
		echo "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	echo
	echo "$PASSED passed, $FAILED failed"
	if ((FAILED > 0)); then
		exit 1
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# setup_env isolates the clients from any AWS configuration on the machine
# and points their credentials at sqlgate's root keys.
setup_env() {
	local v
	for v in $(compgen -e); do
		case $v in
		AWS_* | BOTO_*) unset "$v" ;;
		esac
	done
	export AWS_CONFIG_FILE=$TMP/aws-config AWS_SHARED_CREDENTIALS_FILE=$TMP/aws-credentials
	export AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
	export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=""
	export SQLGATE_ROOT_ACCESS_KEY_ID=${SQLGATE_ROOT_ACCESS_KEY_ID:-AKIASQLGATEE2E00001}
	export SQLGATE_ROOT_SECRET_ACCESS_KEY=${SQLGATE_ROOT_SECRET_ACCESS_KEY:-e2eRootSecretKey0123456789abcdefghijklmn}
	export AWS_ACCESS_KEY_ID=$SQLGATE_ROOT_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$SQLGATE_ROOT_SECRET_ACCESS_KEY
	# The image's aws CLI v1 and boto3 live in pyenv's Python.
	if [[ -d ${HOME:-/root}/.pyenv/shims ]]; then
		PATH=${HOME:-/root}/.pyenv/shims:$PATH
	fi
	export PATH
	export PYTHONDONTWRITEBYTECODE=1 NO_UPDATE_NOTIFIER=1 npm_config_fund=false npm_config_audit=false
}

# check_tools makes sure the clients are there, installing Debian's packages
# only for what is missing (the image normally has them all).
check_tools() {
	local pkgs=() t
	command -v aws >/dev/null || pkgs+=(awscli)
	if ! python3 -c 'import boto3' 2>/dev/null && ! /usr/bin/python3 -c 'import boto3' 2>/dev/null; then
		pkgs+=(python3-boto3)
	fi
	command -v node >/dev/null || pkgs+=(nodejs)
	command -v npm >/dev/null || pkgs+=(npm)
	command -v curl >/dev/null || pkgs+=(curl)
	if ((${#pkgs[@]} > 0)) && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "installing missing packages: ${pkgs[*]}"
		{ timeout 300 apt-get update -q && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q "${pkgs[@]}"; } >"$TMP/apt.log" 2>&1 ||
			echo "apt-get failed: $(tail -n 5 "$TMP/apt.log")" >&2
	fi
	# PY is a Python with boto3: the image's pyenv one, else Debian's.
	PY=python3
	if ! python3 -c 'import boto3' 2>/dev/null && /usr/bin/python3 -c 'import boto3' 2>/dev/null; then
		PY=/usr/bin/python3
	fi
	export PY
	local missing=()
	for t in go curl python3 aws node npm; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	"$PY" -c 'import boto3' 2>/dev/null || missing+=("python3 boto3")
	if ((${#missing[@]} > 0)); then
		fail e2e.tools "missing: ${missing[*]}"
		exit 1
	fi
	echo "tools: $(aws --version 2>&1 | head -n1); node $(node --version); boto3 $("$PY" -c 'import boto3; print(boto3.__version__)')"
}

build() {
	section "build"
	if (cd "$ROOT" && CGO_ENABLED=0 go build -o "$BIN" ./cmd/sqlgate) >"$TMP/build.log" 2>&1; then
		pass build
	else
		fail build "$(tail -n 20 "$TMP/build.log")"
		exit 1
	fi
}

write_config() {
	read -r HTTP_PORT HTTPS_PORT DEFAULT_PORT PG_PROXY_PORT MARIA_PROXY_PORT MARIA_NODB_PROXY_PORT MARIA_STRICT_PROXY_PORT \
		PG_STRICT_PROXY_PORT MARIA_ROT_PROXY_PORT PG_ROT_PROXY_PORT < <(free_ports 10)
	RDS_PORTS=$(free_port_range 40)
	ENDPOINT=http://127.0.0.1:$HTTP_PORT
	HTTPS_ENDPOINT=https://127.0.0.1:$HTTPS_PORT
	DEFAULT_ENDPOINT=http://127.0.0.1:$DEFAULT_PORT
	export ENDPOINT
	mkdir -p "$DATA"
	cat >"$CFG" <<EOF
region: us-east-1
account_id: "000000000000"
listen:
  http: 127.0.0.1:$HTTP_PORT
  https: 127.0.0.1:$HTTPS_PORT
clusters:
  - name: maria
    engine: mysql
    address: 127.0.0.1:3306
    database: sqlgate_e2e
    proxy: {listen: 127.0.0.1:$MARIA_PROXY_PORT, auth_secrets: [sqlgate-e2e-maria]}
  # Proxy isolation (suite_proxy.sh): a cluster that names no database, and
  # one with isolation: strict.
  - name: maria-nodb
    engine: mysql
    address: 127.0.0.1:3306
    proxy: {listen: 127.0.0.1:$MARIA_NODB_PROXY_PORT, auth_secrets: [sqlgate-e2e-maria]}
  - name: maria-strict
    engine: mysql
    address: 127.0.0.1:3306
    database: sqlgate_e2e
    proxy: {listen: 127.0.0.1:$MARIA_STRICT_PROXY_PORT, auth_secrets: [sqlgate-e2e-maria], isolation: strict}
  - name: pg
    engine: postgres
    address: 127.0.0.1:5432
    database: sqlgate_e2e
    proxy: {listen: 127.0.0.1:$PG_PROXY_PORT, auth_secrets: [sqlgate-e2e-pg]}
  - name: pg-strict
    engine: postgres
    address: 127.0.0.1:5432
    database: sqlgate_e2e
    proxy: {listen: 127.0.0.1:$PG_STRICT_PROXY_PORT, auth_secrets: [sqlgate-e2e-pg], isolation: strict}
  - {name: lite, engine: sqlite}
  # Built-in rotation (suite_rotation.sh): clusters whose proxies log in
  # with the rotated secrets. iam_auth disabled: clients must prove the
  # password with SCRAM / mysql_native_password (no cleartext fallback).
  - name: maria-rot
    engine: mysql
    address: 127.0.0.1:3306
    database: sqlgate_e2e
    proxy: {listen: 127.0.0.1:$MARIA_ROT_PROXY_PORT, auth_secrets: [e2e-rot-maria, e2e-alt-maria], iam_auth: disabled}
  - name: pg-rot
    engine: postgres
    address: 127.0.0.1:5432
    database: sqlgate_e2e
    proxy: {listen: 127.0.0.1:$PG_ROT_PROXY_PORT, auth_secrets: [e2e-rot-pg, e2e-alt-pg], iam_auth: disabled}
rotation: {grace_window: 60s, check_interval: 2s}
rds: {proxy_host: 127.0.0.1, proxy_ports: "$RDS_PORTS"}
endpoints:
  - name: iso-echo
    method: GET
    path: /v1/iso/echo
    cluster: maria
    secret: sqlgate-e2e-maria
    sql: "SELECT :s AS v"
    params: {s: {from: query, type: string, required: true, max_length: 200}}
  # Seed 003's POST (suite_apigateway.sh); its keys and usage plans are
  # made online with aws apigateway, boto3 and sqlgate apikeys.
  - name: seed003-add-item
    method: POST
    path: /v1/items
    cluster: maria
    secret: e2e-apigw-maria
    sql: >-
      INSERT INTO apigw_items (key1, key2, key3, key4, key5, key6, key7)
      VALUES (:key1, :key2, :key3, :key4, :key5, :key6, :key7)
    params:
      key1: {from: body, type: string, required: true, max_length: 200}
      key2: {from: body, type: string, max_length: 200}
      key3: {from: body, type: string, max_length: 200}
      key4: {from: body, type: string, max_length: 200}
      key5: {from: body, type: string, max_length: 200}
      key6: {from: body, type: string, max_length: 200}
      key7: {from: body, type: string, max_length: 200}
    api_key_required: true
    response: {status: 201}
EOF
}

start_main() {
	section "start sqlgate on $ENDPOINT and $HTTPS_ENDPOINT"
	if start_server SERVER_PID "$LOG" "$ENDPOINT/healthz" serve --config "$CFG" --data-dir "$DATA"; then
		pass server-start
	else
		fail server-start "no 200 from $ENDPOINT/healthz within 30s"
		exit 1
	fi
}

suite_boto3() {
	section "c. boto3 (seed 000's Lambda)"
	local out rc=0
	export SQLGATE_ENDPOINT=$ENDPOINT E2E_SECRET_NAME=sqlgate-e2e-maria
	export E2E_CLUSTERS
	E2E_CLUSTERS=$(
		cat <<EOF
[{"label": "maria", "resourceArn": "$ARN_PREFIX:maria", "secretArn": "${SECRET_ARN_maria:-sqlgate-e2e-maria}", "database": "sqlgate_e2e"},
 {"label": "pg", "resourceArn": "$ARN_PREFIX:pg", "secretArn": "sqlgate-e2e-pg", "database": "sqlgate_e2e"}]
EOF
	)
	out=$(timeout 300 "$PY" "$E2E_DIR/lambda_test.py" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -v '^PASS \|^FAIL ' >&2 || true
	printf '%s\n' "$out" | grep '^PASS \|^FAIL ' || true
	tally_output c.lambda_test.py "$rc" "$out"
}

suite_node() {
	section "d. AWS SDK for JavaScript v3 (seed 001)"
	local out rc=0
	if (cd "$E2E_DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$TMP/npm.log" 2>&1; then
		pass d.npm-ci
	else
		fail d.npm-ci "$(tail -n 10 "$TMP/npm.log")"
		return 0
	fi
	out=$(cd "$E2E_DIR" && SQLGATE_ENDPOINT=$ENDPOINT CLUSTER_ARN=$ARN_PREFIX:maria \
		SECRET_ARN=${SECRET_ARN_maria:-sqlgate-e2e-maria} SECRET_NAME=sqlgate-e2e-maria \
		timeout 120 node users.mjs 2>&1) || rc=$?
	printf '%s\n' "$out"
	tally_output d.users.mjs "$rc" "$out"

	rc=0
	out=$(cd "$E2E_DIR" && AWS_ENDPOINT_URL=$ENDPOINT CLUSTER_ARN=$ARN_PREFIX:maria \
		SECRET_ARN=${SECRET_ARN_maria:-sqlgate-e2e-maria} timeout 120 node seed001.mjs 2>&1) || rc=$?
	printf '%s\n' "$out"
	tally_output d.seed001.mjs "$rc" "$out"
}

# suite_default runs the embedded default as the README's first command
# does: no config file and no root keys in the environment, so sqlgate
# generates them into the data dir; then the README's first query and seed
# 000 against the SQLite cluster "default" with the secret "default".
suite_default() {
	section "b. the embedded default (no config, generated root keys) at $DEFAULT_ENDPOINT"
	local id=$SQLGATE_ROOT_ACCESS_KEY_ID secret=$SQLGATE_ROOT_SECRET_ACCESS_KEY ok=0 creds
	unset SQLGATE_ROOT_ACCESS_KEY_ID SQLGATE_ROOT_SECRET_ACCESS_KEY
	start_server DEFAULT_PID "$DEFAULT_LOG" "$DEFAULT_ENDPOINT/healthz" \
		serve --data-dir "$DEFAULT_DATA" --http "127.0.0.1:$DEFAULT_PORT" || ok=$?
	export SQLGATE_ROOT_ACCESS_KEY_ID=$id SQLGATE_ROOT_SECRET_ACCESS_KEY=$secret
	if ((ok == 0)); then
		pass b.default.server-start
	else
		fail b.default.server-start "no 200 from $DEFAULT_ENDPOINT/healthz within 30s"
		return 0
	fi
	creds=$DEFAULT_DATA/root-credentials.json
	local key_id key_secret mode
	key_id=$(json_get "$(cat "$creds" 2>/dev/null || echo null)" 'd["access_key_id"]')
	key_secret=$(json_get "$(cat "$creds" 2>/dev/null || echo null)" 'd["secret_access_key"]')
	mode=$(stat -c %a "$creds" 2>/dev/null || echo none)
	if [[ -n $key_id && -n $key_secret && $mode == 600 ]] && grep -q -- "$key_id" "$DEFAULT_LOG" && grep -q -- "--endpoint-url" "$DEFAULT_LOG"; then
		pass b.default.generated-root-credentials
	else
		fail b.default.generated-root-credentials "$creds mode $mode, key id '${key_id}', printed at start: $(grep -c -- "--endpoint-url" "$DEFAULT_LOG" || true) aws command lines"
	fi
	local main_endpoint=$ENDPOINT arn
	export AWS_ACCESS_KEY_ID=${key_id:-missing} AWS_SECRET_ACCESS_KEY=${key_secret:-missing}
	ENDPOINT=$DEFAULT_ENDPOINT
	# The README's first query, verbatim but for the endpoint's port.
	expect_json b.default.readme-get-secret-value 'd["Name"] == "default" and "SecretString" in d' \
		secretsmanager get-secret-value --secret-id default
	expect_json b.default.readme-execute-statement 'd["records"] == [[{"stringValue": "hello"}]]' \
		rds-data execute-statement \
		--resource-arn arn:aws:rds:us-east-1:000000000000:cluster:default \
		--secret-arn arn:aws:secretsmanager:us-east-1:000000000000:secret:default \
		--sql "select 'hello' as greeting"
	expect_json b.default.describe-secret \
		'd["Name"] == "default" and d["ARN"].startswith("arn:aws:secretsmanager:us-east-1:000000000000:secret:default-")' \
		secretsmanager describe-secret --secret-id default
	arn=$(json_get "${LAST_OUT:-null}" 'd["ARN"]')
	seed000 default default "${arn:-default}"
	# The aws CLI and boto3 refuse a secretArn under 11 characters before
	# sending it, so the bare name "default" goes through signed curl.
	printf '{"resourceArn":"%s","secretArn":"default","sql":"SELECT 1"}' "$ARN_PREFIX:default" >"$TMP/default-by-name.json"
	http_call "$DEFAULT_ENDPOINT/Execute" 1 rds-data "$TMP/default-by-name.json" "Content-Type: application/json"
	if [[ $HTTP_STATUS == 200 ]] && json_eq "$(cat "$TMP/resp-body")" '{"records": [[{"longValue": 1}]], "numberOfRecordsUpdated": 0}'; then
		pass b.default.secret-by-bare-name
	else
		fail b.default.secret-by-bare-name "HTTP $HTTP_STATUS $HTTP_ETYPE: $HTTP_BODY"
	fi
	ENDPOINT=$main_endpoint
	export AWS_ACCESS_KEY_ID=$SQLGATE_ROOT_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$SQLGATE_ROOT_SECRET_ACCESS_KEY
	stop_server "$DEFAULT_PID"
	DEFAULT_PID=""
}

main() {
	setup_env
	check_tools
	build
	write_config
	start_main

	# SQLGATE_E2E_ONLY="suite_a suite_b" runs only those suites.
	if [[ -n ${SQLGATE_E2E_ONLY:-} ]]; then
		local s
		for s in $SQLGATE_E2E_ONLY; do
			"$s"
		done
		return 0
	fi
	suite_secrets
	seed000 maria maria "${SECRET_ARN_maria:-sqlgate-e2e-maria}" sqlgate_e2e
	seed000 pg pg "${SECRET_ARN_pg:-sqlgate-e2e-pg}" sqlgate_e2e
	seed000 lite lite "${SECRET_ARN_lite:-sqlgate-e2e-lite}"
	suite_boto3
	suite_node
	suite_clients
	suite_isolation
	suite_iam
	suite_proxy
	suite_rds
	suite_newops
	suite_rotation
	suite_apigateway
	suite_iam_tokens
	suite_http_errors
	suite_restart
	suite_https
	suite_default
}

main "$@"

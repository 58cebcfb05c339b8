#!/usr/bin/env bash
# console.sh is the browser suite of sqlgate's web console (/console/). It
# builds sqlgate, starts it on free loopback ports with a MariaDB cluster,
# makes sure Debian's chromium and the pinned npm packages
# (e2e/console/package-lock.json: playwright-core) are there, and runs
# e2e/console/console.test.mjs in headless Chromium. Screenshots of every
# page go to e2e/console/out/ (kept, gitignored: CI artifacts).
#
# Each check prints "PASS name" or "FAIL name: detail"; the last line is
# "N passed, N failed" and the exit code is non-zero when anything failed.
# Needs MariaDB with the sqlgate user (e2e/services.sh; run when the login
# does not work). SQLGATE_E2E_KEEP=1 keeps the temp dir.
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$E2E_DIR/lib.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sqlgate-console-e2e.XXXXXX")
BIN=$TMP/sqlgate
LOG=$TMP/server.log
OUT_DIR=${SQLGATE_CONSOLE_OUT:-$E2E_DIR/console/out}
SERVER_PID=""
MYSQL_DSN=${SQLGATE_TEST_MYSQL_DSN:-sqlgate:sqlgatepw@tcp(127.0.0.1:3306)/sqlgate_test}

cleanup() {
	local rc=$?
	set +e
	stop_server "$SERVER_PID"
	if ((rc != 0 && FAILED == 0)); then
		fail console.run "console.sh stopped early with status $rc"
	fi
	if ((FAILED > 0)) && [[ -s $LOG ]]; then
		echo
		echo "---- last 40 lines of the server log"
		tail -n 40 "$LOG"
	fi
	if [[ -n ${SQLGATE_E2E_KEEP:-} ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
	echo "screenshots: $OUT_DIR"
	echo
	echo "$PASSED passed, $FAILED failed"
	((FAILED == 0)) || exit 1
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# parse_dsn splits user:pw@tcp(host:port)/db into DB_USER DB_PASS DB_ADDR DB_NAME.
parse_dsn() {
	local cred=${MYSQL_DSN%%@tcp(*} rest=${MYSQL_DSN#*@tcp(}
	DB_USER=${cred%%:*}
	DB_PASS=${cred#*:}
	DB_ADDR=${rest%%)*}
	DB_NAME=${rest#*)/}
	DB_NAME=${DB_NAME%%\?*}
}

ensure_mariadb() {
	if mariadb --connect-timeout=3 -h "${DB_ADDR%:*}" -P "${DB_ADDR#*:}" -u "$DB_USER" -p"$DB_PASS" -e 'SELECT 1' "$DB_NAME" >/dev/null 2>&1; then
		pass console.mariadb
		return
	fi
	echo "MariaDB login failed; running e2e/services.sh"
	if bash "$E2E_DIR/services.sh" >"$TMP/services.log" 2>&1; then
		pass console.mariadb
	else
		fail console.mariadb "$(tail -n 5 "$TMP/services.log")"
		exit 1
	fi
}

ensure_chromium() {
	CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
	if [[ ! -x $CHROMIUM ]] && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "installing Debian's chromium"
		{ timeout 300 apt-get update -q && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q chromium; } >"$TMP/apt.log" 2>&1 ||
			echo "apt-get failed: $(tail -n 5 "$TMP/apt.log")" >&2
	fi
	if [[ -x $CHROMIUM ]]; then
		pass "console.chromium ($("$CHROMIUM" --version 2>/dev/null | head -n1))"
	else
		fail console.chromium "no $CHROMIUM"
		exit 1
	fi
	export CHROMIUM
}

npm_deps() {
	if (cd "$E2E_DIR/console" && NO_UPDATE_NOTIFIER=1 timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$TMP/npm.log" 2>&1; then
		pass console.npm-ci
	else
		fail console.npm-ci "$(tail -n 10 "$TMP/npm.log")"
		exit 1
	fi
}

build() {
	if (cd "$ROOT" && CGO_ENABLED=0 go build -o "$BIN" ./cmd/sqlgate) >"$TMP/build.log" 2>&1; then
		pass console.build
	else
		fail console.build "$(tail -n 20 "$TMP/build.log")"
		exit 1
	fi
}

start() {
	local port
	read -r port < <(free_ports 1)
	BASE=http://127.0.0.1:$port
	cat >"$TMP/config.yaml" <<YAML
region: us-east-1
account_id: "000000000000"
listen:
  http: 127.0.0.1:$port
clusters:
  - {name: maria, engine: mysql, address: $DB_ADDR, database: $DB_NAME}
endpoints:
  - {name: ping, method: GET, path: /v1/ping, cluster: maria, secret: console-ping-secret, sql: "SELECT 1 AS one", api_key_required: true}
YAML
	export SQLGATE_ROOT_ACCESS_KEY_ID=AKIASQLGATECONSOLE01
	export SQLGATE_ROOT_SECRET_ACCESS_KEY=consoleRootSecretKey0123456789abcdefghij
	if start_server SERVER_PID "$LOG" "$BASE/healthz" serve --config "$TMP/config.yaml" --data-dir "$TMP/data"; then
		pass console.server-start
	else
		fail console.server-start "no 200 from $BASE/healthz within 30s: $(tail -n 5 "$LOG")"
		exit 1
	fi
}

run_browser() {
	local out rc=0
	rm -rf "$OUT_DIR"
	mkdir -p "$OUT_DIR"
	out=$(cd "$E2E_DIR/console" && BASE=$BASE ROOT_AKID=$SQLGATE_ROOT_ACCESS_KEY_ID ROOT_SECRET=$SQLGATE_ROOT_SECRET_ACCESS_KEY \
		CLUSTER_ARN=arn:aws:rds:us-east-1:000000000000:cluster:maria DB_USER=$DB_USER DB_PASS=$DB_PASS DB_NAME=$DB_NAME OUT_DIR=$OUT_DIR \
		timeout 600 node console.test.mjs 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -v '^PASS \|^FAIL \|passed, .* failed$' >&2 || true
	printf '%s\n' "$out" | grep '^PASS \|^FAIL ' || true
	tally_output console.test.mjs "$rc" "$out"
}

parse_dsn
build
ensure_mariadb
ensure_chromium
npm_deps
start
run_browser

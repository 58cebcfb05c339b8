#!/usr/bin/env bash
# Proxy scale benchmark: 5,000 concurrent clients over at
# most 20 backend connections on both proxies (pgx, go-sql-driver/mysql),
# and 10,000 idle clients of each proxy with the sqlgate process's RSS,
# each phase on a fresh sqlgate process (PHASES="pg_idle mysql_idle
# concurrent").
# sqlgate runs as the built binary in its own process; the clients are
# bench/proxy_scale_test.go (TestBenchProxyScale).
#   bench/proxy_scale.sh            # CLIENTS=5000 IDLE=10000
#   BIN=/tmp/sqlgate-old bench/proxy_scale.sh   # a prebuilt sqlgate
# Output: bench/out/proxy-scale-*.txt (RESULT lines).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS="${CLIENTS:-5000}" IDLE="${IDLE:-10000}"
# Client and server each hold up to IDLE sockets.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < IDLE + 1000)); then
	echo "ulimit -n $(ulimit -n) is too low for $IDLE clients" >&2
	exit 1
fi
work="$(mktemp -d)"
pid=""
cleanup() {
	[[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
read -r HTTP PGP MYP < <(python3 -c 'import socket
s=[socket.socket() for _ in range(3)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
cat >"$work/config.yaml" <<EOF
listen: {http: 127.0.0.1:$HTTP}
clusters:
  - name: pg
    engine: postgres
    address: 127.0.0.1:5432
    database: sqlgate_test
    max_connections: 20
    proxy: {listen: 127.0.0.1:$PGP, auth_secrets: [app-pg], max_client_connections: 20000}
  - name: maria
    engine: mysql
    address: 127.0.0.1:3306
    database: sqlgate_test
    max_connections: 20
    proxy: {listen: 127.0.0.1:$MYP, auth_secrets: [app-maria], max_client_connections: 20000}
EOF
if [[ -n ${BIN:-} ]]; then # a prebuilt binary, e.g. main before a change
	cp "$BIN" "$work/sqlgate"
else
	CGO_ENABLED=0 go build -o "$work/sqlgate" ./cmd/sqlgate
fi
go test -c -o "$work/bench.test" ./bench/
export SQLGATE_ROOT_ACCESS_KEY_ID=AKIASQLGATEBENCH0001 SQLGATE_ROOT_SECRET_ACCESS_KEY=benchRootSecretKey0123456789abcdefghijkl
for c in pg maria; do
	"$work/sqlgate" secrets create "app-$c" '{"username":"sqlgate","password":"sqlgatepw"}' \
		--config "$work/config.yaml" --data-dir "$work/data" >/dev/null
done
serve() { # a fresh server process, its pid in $pid
	"$work/sqlgate" serve --config "$work/config.yaml" --data-dir "$work/data" --log-format json ${PPROF:+--pprof $PPROF} >>"$work/server.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$HTTP/healthz" 2>/dev/null && break; sleep 0.2; done
}
stop() { kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; pid=""; }
phase() { # test name pattern, on a fresh server
	serve
	SQLGATE_BENCH=1 SQLGATE_BENCH_PG_PROXY=127.0.0.1:$PGP SQLGATE_BENCH_MY_PROXY=127.0.0.1:$MYP \
		SQLGATE_BENCH_METRICS_URL=http://127.0.0.1:$HTTP/metrics SQLGATE_BENCH_SERVER_PID=$pid SQLGATE_BENCH_PPROF=${PPROF:-} \
		SQLGATE_BENCH_CLIENTS=$CLIENTS SQLGATE_BENCH_IDLE=$IDLE \
		"$work/bench.test" -test.run "TestBenchProxyScale/$1" -test.v -test.timeout 30m 2>&1 || true
	stop
}
mkdir -p bench/out
out="bench/out/proxy-scale-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
	echo "# $(date -u +%FT%TZ) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) CLIENTS=$CLIENTS IDLE=$IDLE ulimit=$(ulimit -n)"
	# Each idle measurement on a fresh process: a run leaves its peak heap
	# behind in RSS.
	for p in ${PHASES:-pg_idle mysql_idle concurrent}; do phase "$p"; done
	echo "# server errors logged: $(grep -c '"level":"ERROR"' "$work/server.log" || true)"
} | tee "$out"

#!/usr/bin/env bash
# Server CPU per ExecuteStatement with and without the session-isolation
# machinery: builds `sqlgate` from BASE and from the working tree, runs
# both as real `sqlgate serve` processes over the same MariaDB and
# PostgreSQL, and measures each from /proc/PID/stat over interleaved rounds
# (bench/isolation_cpu_test.go, TestBenchIsolationCPU). BASE is either a
# commit from before the isolation work, or `off`: HEAD with
# bench/isolation_off.patch applied (the engines report every session
# clean, so no connection is ever reset) — the same code with the
# machinery switched off, which no shipped binary can do.
#   bench/dataapi_isolation_cpu.sh off            # N=10000 ROUNDS=5
#   bench/dataapi_isolation_cpu.sh d8291ff
# Output: bench/out/isolation-cpu-*.txt
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${1:-${BASE:?give the base commit}}"
N="${N:-10000}" ROUNDS="${ROUNDS:-5}"
work="$(mktemp -d)"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	git worktree remove --force "$work/base-src" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
if [ "$BASE" = off ]; then
	git worktree add --detach "$work/base-src" HEAD >/dev/null
	git -C "$work/base-src" apply "$PWD/bench/isolation_off.patch"
else
	git worktree add --detach "$work/base-src" "$BASE" >/dev/null
fi
(cd "$work/base-src" && CGO_ENABLED=0 go build -o "$work/sqlgate-base" ./cmd/sqlgate)
CGO_ENABLED=0 go build -o "$work/sqlgate-exec" ./cmd/sqlgate
go test -c -o "$work/bench.test" ./bench/
export SQLGATE_ROOT_ACCESS_KEY_ID=AKIASQLGATEBENCH0001 SQLGATE_ROOT_SECRET_ACCESS_KEY=benchRootSecretKey0123456789abcdefghijkl
TABLE="iso_bench_$$"
PGPASSWORD=sqlgatepw psql -X -q -h 127.0.0.1 -U sqlgate -d sqlgate_test -c "CREATE TABLE $TABLE (id serial PRIMARY KEY, v int); CREATE TABLE ${TABLE}_plain (v int)"
mariadb -h 127.0.0.1 -u sqlgate -psqlgatepw sqlgate_test -e "CREATE TABLE $TABLE (id int AUTO_INCREMENT PRIMARY KEY, v int); CREATE TABLE ${TABLE}_plain (v int)"
trap 'cleanup; PGPASSWORD=sqlgatepw psql -X -q -h 127.0.0.1 -U sqlgate -d sqlgate_test -c "DROP TABLE $TABLE, ${TABLE}_plain"; mariadb -h 127.0.0.1 -u sqlgate -psqlgatepw sqlgate_test -e "DROP TABLE $TABLE, ${TABLE}_plain"' EXIT
servers=""
for label in base exec; do
	port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
	cat >"$work/$label.yaml" <<YAML
listen: {http: 127.0.0.1:$port}
clusters:
  - {name: pg, engine: postgres, address: 127.0.0.1:5432, database: sqlgate_test, max_connections: 8}
  - {name: maria, engine: mysql, address: 127.0.0.1:3306, database: sqlgate_test, max_connections: 8}
YAML
	for c in pg maria; do
		"$work/sqlgate-$label" secrets create "app-$c" '{"username":"sqlgate","password":"sqlgatepw"}' \
			--config "$work/$label.yaml" --data-dir "$work/data-$label" >/dev/null
	done
	"$work/sqlgate-$label" serve --config "$work/$label.yaml" --data-dir "$work/data-$label" >"$work/$label.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break; sleep 0.2; done
	servers+="${servers:+,}$label=http://127.0.0.1:$port@${pids[-1]}"
done
mkdir -p bench/out
out="bench/out/isolation-cpu-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
	echo "# $(date -u +%FT%TZ) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) base=$BASE head=$(git rev-parse --short HEAD) N=$N ROUNDS=$ROUNDS"
	SQLGATE_BENCH_ISO_SERVERS=$servers SQLGATE_BENCH_ISO_TABLE=$TABLE SQLGATE_BENCH_ISO_N=$N SQLGATE_BENCH_ISO_ROUNDS=$ROUNDS \
		SQLGATE_BENCH_ISO_ROOT="$SQLGATE_ROOT_ACCESS_KEY_ID:$SQLGATE_ROOT_SECRET_ACCESS_KEY" \
		"$work/bench.test" -test.run TestBenchIsolationCPU -test.v -test.timeout 60m 2>&1
	echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"

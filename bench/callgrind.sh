#!/usr/bin/env bash
# callgrind.sh: instructions the real `sqlgate serve` executes per proxy
# transaction, counted by valgrind's callgrind — a figure that does not
# move with the load of a shared machine, for comparing two builds.
#
#   bench/callgrind.sh pg BINARY [simple|extended|prepared] [CLIENTS]
#   bench/callgrind.sh mysql BINARY [auto|disable] [THREADS]
#
# The binary serves one proxy (PostgreSQL: pool 20 in front of
# sqlgate_test, pgbench -S; MySQL: pool 20 in front of sbtest, sysbench
# oltp_point_select with --db-ps-mode as given; both prepared as
# bench/pgbench_cpu.sh and bench/sysbench.sh prepare them). It runs under
# `valgrind --tool=callgrind --instr-atstart=no`; after 8 s of load the
# counters are zeroed and instrumentation switched on for 15 s. The
# transactions are the proxy's borrows in that window
# (sqlgate_proxy_borrow_wait_seconds_count). Prints instructions per
# transaction and the profile's path (callgrind_annotate reads it).
# Needs valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${1:?pg or mysql} bin=${2:?binary} mode=${3:-} n=${4:-16}
command -v valgrind >/dev/null || apt-get install -y valgrind >/dev/null
work=$(mktemp -d)
vpid=
cleanup() {
	[ -n "$vpid" ] && kill "$vpid" 2>/dev/null && wait "$vpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
free3() { python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])'; }
read -r http port < <(free3)
export SQLGATE_ROOT_ACCESS_KEY_ID=AKIABENCHROOT0000001 SQLGATE_ROOT_SECRET_ACCESS_KEY=benchrootsecret
if [ "$engine" = pg ]; then
	cluster="{name: pg, engine: postgres, address: 127.0.0.1:5432, max_connections: 20, data_api: false,
    proxy: {listen: 127.0.0.1:$port, auth_secrets: [bench-db], iam_auth: disabled}}"
else
	cluster="{name: maria, engine: mysql, address: 127.0.0.1:3306, database: sbtest, max_connections: 20, data_api: false,
    proxy: {listen: 127.0.0.1:$port, auth_secrets: [bench-db], max_client_connections: 20000}}"
fi
printf 'listen: {http: 127.0.0.1:%s}\nclusters:\n  - %s\n' "$http" "$cluster" >"$work/config.yaml"
"$bin" secrets create bench-db '{"username":"sqlgate","password":"sqlgatepw"}' \
	--config "$work/config.yaml" --data-dir "$work/data" >/dev/null
GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" \
	"$bin" serve --config "$work/config.yaml" --data-dir "$work/data" >"$work/log" 2>&1 &
vpid=$!
for _ in $(seq 300); do (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.2; done
borrows() { curl -s "http://127.0.0.1:$http/metrics" | awk '/^sqlgate_proxy_borrow_wait_seconds_count/ {s += $2} END {printf "%d", s}'; }
if [ "$engine" = pg ]; then
	PGUSER=sqlgate PGPASSWORD=sqlgatepw PGDATABASE=sqlgate_test PGSSLMODE=disable \
		pgbench -h 127.0.0.1 -p "$port" -S -M "${mode:-simple}" -c "$n" -j 2 -T 40 -n >"$work/load.log" 2>&1 &
else
	sysbench oltp_point_select --mysql-host=127.0.0.1 --mysql-port="$port" --mysql-user=sqlgate --mysql-password=sqlgatepw \
		--mysql-db=sbtest --mysql-ssl=off --tables=4 --table-size=50000 --threads="$n" --time=40 \
		--db-ps-mode="${mode:-auto}" --report-interval=0 run >"$work/load.log" 2>&1 &
fi
load=$!
sleep 8
callgrind_control -z "$vpid" >/dev/null
a=$(borrows)
callgrind_control -i on "$vpid" >/dev/null
sleep 15
callgrind_control -i off "$vpid" >/dev/null
b=$(borrows)
callgrind_control -d "$vpid" >/dev/null
wait "$load"
mkdir -p bench/out
out="bench/out/callgrind-$engine-$(date -u +%Y%m%dT%H%M%SZ).out"
cp "$(ls -S "$work"/cg.out* | head -1)" "$out"
ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "$engine ${mode:-default} n=$n transactions=$((b - a)) instructions=$ir per_transaction=$((ir / (b - a))) profile=$out"

#!/usr/bin/env bash
# callgrind.sh: instructions the real `sqlgate serve` executes per proxy
# transaction, counted by valgrind's callgrind — a figure that does not
# move with the load of a shared machine, for comparing two builds.
#
#   bench/callgrind.sh pg BINARY [simple|extended|prepared] [CLIENTS]
#   bench/callgrind.sh mysql BINARY [auto|disable] [THREADS]
#
# The binary (run as its own process by bench/serve.sh's start_sqlgate)
# serves one proxy (PostgreSQL: pool 20 in front of
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
# shellcheck source=bench/serve.sh
. bench/serve.sh
bench_work
read -r http port < <(free_ports 2)
SERVE_PREFIX=(env GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out")
sg_engine=mysql
[ "$engine" != pg ] || sg_engine=postgres
start_sqlgate cg "$bin" "$sg_engine" "$port" "$http" 20
vpid=${SG_PID[cg]}
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
pids+=("$load")
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

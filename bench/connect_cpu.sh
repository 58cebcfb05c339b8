#!/usr/bin/env bash
# MySQL proxy: server CPU per client connection (the Lambda pattern:
# connect, SELECT 1, quit; mariadb-slap --detach=1 --skip-ssl) of one or
# more prebuilt sqlgate binaries, each its own `sqlgate serve` process
# in front of the same MariaDB (started by bench/serve.sh: pool 20,
# database sqlgate_test), rounds interleaved (order reversed every
# other round). CPU is utime+stime from /proc/PID/stat over the round.
#   bench/connect_cpu.sh /tmp/sqlgate-old /tmp/sqlgate-new
# Knobs: ROUNDS (4), Q (connections per round, 6000), C (concurrent
# clients, 16).
# Output: one line per round and binary: cpu_us_per_conn, conn_per_s.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-4}" Q="${Q:-6000}" C="${C:-16}"
(($# > 0)) || { echo "usage: $0 SQLGATE_BINARY..." >&2; exit 2; }
SERVE_MYSQL_DB=sqlgate_test
# shellcheck source=bench/serve.sh
. bench/serve.sh
bench_work
declare -A port pid
i=0
for b in "$@"; do
	i=$((i + 1))
	read -r http myp <<<"$(free_ports 2)"
	start_sqlgate "$i" "$b" mysql "$myp" "$http" 20 "" --log-format json
	pid[$b]=${SG_PID[$i]} port[$b]=$myp
done
hz="$(getconf CLK_TCK)"
slap() { # port queries
	mariadb-slap -h127.0.0.1 -P"$1" -usqlgate -psqlgatepw --skip-ssl --create-schema=sqlgate_test --no-drop \
		--concurrency="$C" --iterations=1 --number-of-queries="$2" --detach=1 --query="SELECT 1" >/dev/null
}
for b in "$@"; do slap "${port[$b]}" 1000; done # warm-up
echo "# $(date -u +%FT%TZ) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) ROUNDS=$ROUNDS Q=$Q C=$C"
for r in $(seq "$ROUNDS"); do
	order=("$@")
	((r % 2 == 0)) && mapfile -t order < <(printf '%s\n' "$@" | tac)
	for b in "${order[@]}"; do
		c0=$(proc_cpu_ticks "${pid[$b]}") t0=$(date +%s.%N)
		slap "${port[$b]}" "$Q"
		c1=$(proc_cpu_ticks "${pid[$b]}") t1=$(date +%s.%N)
		awk -v r="$r" -v b="$b" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v q="$Q" -v hz="$hz" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
			'BEGIN { printf "%s %s cpu_us_per_conn=%.1f conn_per_s=%.0f load=%s\n", r, b, (c1-c0)*1e6/hz/q, q/(t1-t0), l }'
	done
done

#!/usr/bin/env bash
# MySQL proxy: server CPU per client connection (the Lambda pattern:
# connect, SELECT 1, quit; mariadb-slap --detach=1 --skip-ssl) of one or
# more prebuilt sqlgate binaries, each its own `sqlgate serve` process
# in front of the same MariaDB, rounds interleaved (order reversed every
# other round). CPU is utime+stime from /proc/PID/stat over the round.
#   bench/connect_cpu.sh /tmp/sqlgate-old /tmp/sqlgate-new
# Knobs: ROUNDS (4), Q (connections per round, 6000), C (concurrent
# clients, 16).
# Output: one line per round and binary: cpu_us_per_conn, conn_per_s.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-4}" Q="${Q:-6000}" C="${C:-16}"
(($# > 0)) || { echo "usage: $0 SQLGATE_BINARY..." >&2; exit 2; }
work="$(mktemp -d)"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
export SQLGATE_ROOT_ACCESS_KEY_ID=AKIASQLGATEBENCH0001 SQLGATE_ROOT_SECRET_ACCESS_KEY=benchRootSecretKey0123456789abcdefghijkl
declare -A port pid
i=0
for b in "$@"; do
	i=$((i + 1))
	read -r http myp < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
	mkdir -p "$work/$i"
	cat >"$work/$i/config.yaml" <<EOC
listen: {http: 127.0.0.1:$http}
clusters:
  - name: maria
    engine: mysql
    address: 127.0.0.1:3306
    database: sqlgate_test
    max_connections: 20
    proxy: {listen: 127.0.0.1:$myp, auth_secrets: [app-maria], max_client_connections: 20000}
EOC
	"$b" secrets create app-maria '{"username":"sqlgate","password":"sqlgatepw"}' \
		--config "$work/$i/config.yaml" --data-dir "$work/$i/data" >/dev/null
	"$b" serve --config "$work/$i/config.yaml" --data-dir "$work/$i/data" --log-format json >"$work/$i/log" 2>&1 &
	pid[$b]=$! port[$b]=$myp
	pids+=($!)
	for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$http/healthz" 2>/dev/null && break; sleep 0.2; done
done
cpu() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
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
		c0=$(cpu "${pid[$b]}") t0=$(date +%s.%N)
		slap "${port[$b]}" "$Q"
		c1=$(cpu "${pid[$b]}") t1=$(date +%s.%N)
		awk -v r="$r" -v b="$b" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v q="$Q" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
			'BEGIN { printf "%s %s cpu_us_per_conn=%.1f conn_per_s=%.0f load=%s\n", r, b, (c1-c0)*1e6/100/q, q/(t1-t0), l }'
	done
done

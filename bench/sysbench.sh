#!/usr/bin/env bash
# MySQL proxy benchmark: sysbench 1.0.20
# oltp_point_select and oltp_read_only (--threads=64) and mariadb-slap
# --detach=1 (a new connection per query, the Lambda pattern; with
# --skip-ssl, since this MariaDB has no TLS while sqlgate offers it and the
# mariadb client would take it) against MariaDB directly, haproxy in TCP mode (the L4 baseline) and sqlgate's
# MySQL proxy, side by side in one run. sqlgate is always the real
# `sqlgate serve` binary of this tree (built from ./cmd/sqlgate) run as its
# own process, one MySQL proxy with a pool of POOL (bench/serve.sh). The
# raw output goes to bench/out/sysbench-*.txt; SQLGATE_BENCH_APPEND=1
# appends the tables to bench/RESULTS.md.
#   bench/sysbench.sh            # the comparison
#   bench/sysbench.sh profile
#       # sqlgate only, started with --pprof: a CPU profile of it
#       # (/debug/pprof/profile) over the oltp_point_select and
#       # oltp_read_only runs, then mariadb-slap (not profiled); prints
#       # pprof -top -cum
#   bench/sysbench.sh serve [OLD_SQLGATE]
#       # this tree's binary (and OLD_SQLGATE, a sqlgate binary of another
#       # commit) against haproxy and direct:
#       # oltp_point_select (SB_TEST=oltp_read_only for the other) at each
#       # of THREAD_LIST (default "64 1") threads,
#       # ROUNDS (default 5) rotated rounds; medians of qps, proxy CPU µs per
#       # query and voluntary context switches per query (bench/serve_cpu.sh)
#   bench/sysbench.sh isolation OLD
#       # proxy CPU µs per query (utime+stime from /proc/PID/stat over the
#       # queries sysbench reports) for oltp_point_select: OLD (a sqlgate
#       # binary of another commit, e.g. main, or a git ref to build one
#       # from; run without the isolation key) against this tree's binary
#       # with isolation default and strict, ROUNDS interleaved rounds
#       # (default 5), medians printed (bench/isolation_cpu.sh)
# Knobs: T (seconds per sysbench run), THREADS, ROUNDS (interleaved rounds,
# the target order reversed every other round), POOL (sqlgate backend
# connections), TABLES/SIZE (sysbench tables), SLAP_C/SLAP_Q/SLAP_I
# (mariadb-slap concurrency, total queries per iteration, iterations),
# CPUPROFILE (profile mode's output file; the binary is copied beside it).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-compare}"
ROUNDS_SET="${ROUNDS:-}"
T="${T:-15}" THREADS="${THREADS:-64}" ROUNDS="${ROUNDS:-3}" POOL="${POOL:-20}"
TABLES="${TABLES:-4}" SIZE="${SIZE:-50000}"
SLAP_C="${SLAP_C:-32}" SLAP_Q="${SLAP_Q:-8000}" SLAP_I="${SLAP_I:-2}"
DB_HOST=127.0.0.1 DB_PORT=3306 DB_USER=sqlgate DB_PW=sqlgatepw DB_NAME=sbtest
SG_PORT="${SG_PORT:-13317}" HA_PORT="${HA_PORT:-13318}"
SERVE_MYSQL_ADDR="$DB_HOST:$DB_PORT" SERVE_MYSQL_DB=$DB_NAME SERVE_DB_USER=$DB_USER SERVE_DB_PW=$DB_PW

missing=()
command -v sysbench >/dev/null || missing+=(sysbench)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v mariadb-slap >/dev/null || missing+=(mariadb-client)
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null
fi
HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"

# shellcheck source=bench/serve.sh
. bench/serve.sh
bench_work
sql() { mariadb -h"$DB_HOST" -P"$DB_PORT" -u"$DB_USER" -p"$DB_PW" -N -B -e "$1"; }

# Direct runs hold a connection per thread while the proxies keep their
# pools open (two pools in serve mode with OLD_SQLGATE).
need=$(( $(echo "${THREAD_LIST:-64 1} $THREADS" | tr " " "\n" | sort -n | tail -1) + 2 * POOL + 5 ))
maxc="$(sql "SELECT @@max_connections")"
if ((maxc < need)); then
	echo "this run needs max_connections >= $need on MariaDB (has $maxc):" >&2
	echo "  mariadb -h$DB_HOST -uroot -e 'SET GLOBAL max_connections = $need'" >&2
	exit 1
fi

# The sysbench tables, in their own database; prepared once and reused.
sql "CREATE DATABASE IF NOT EXISTS $DB_NAME"
have="$(sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB_NAME' AND TABLE_NAME LIKE 'sbtest%'")"
rows="$(sql "SELECT COALESCE(MAX(TABLE_ROWS),0) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB_NAME' AND TABLE_NAME='sbtest$TABLES'")"
SB_CONN=(--db-driver=mysql --mysql-host=127.0.0.1 --mysql-user="$DB_USER" --mysql-password="$DB_PW" --mysql-db="$DB_NAME" --mysql-ssl=off
	--tables="$TABLES" --table-size="$SIZE")
if [ "$have" != "$TABLES" ] || [ "$rows" -lt $((SIZE * 9 / 10)) ]; then
	sysbench oltp_read_only "${SB_CONN[@]}" --mysql-port="$DB_PORT" cleanup >/dev/null 2>&1 || true
	sysbench oltp_read_only "${SB_CONN[@]}" --mysql-port="$DB_PORT" --threads="$TABLES" prepare >/dev/null
fi

# sqlgate: the real binary of this tree (every mode runs it).
build_sqlgate "$work/sqlgate"

# sysbench_run test port threads -> "tps qps avg_ms p50_ms p95_ms p99_ms errors reconnects"
sysbench_run() {
	local res
	res="$(sysbench "$1" "${SB_CONN[@]}" --mysql-port="$2" --threads="$3" --time="$T" --report-interval=0 \
		--percentile=95 --histogram=on run 2>&1)" || {
		echo "$res" | tail -5 >&2
		echo "0 0 0 0 0 0 fail fail"
		return
	}
	printf '%s\n' "$res" >>"$work/sysbench.raw"
	awk '
		/transactions:/ { gsub(/[()]/, "", $3); tps = $3 }
		/queries:/ && $1 == "queries:" { gsub(/[()]/, "", $3); qps = $3 }
		/ignored errors:/ { errs = $3 }
		/reconnects:/ { rec = $2 }
		/^ +avg:/ { avg = $2 }
		/^ +[0-9.]+ \|/ { n++; v[n] = $1; c[n] = $NF; total += $NF }
		END {
			cum = 0; p50 = p95 = p99 = ""
			for (i = 1; i <= n; i++) {
				cum += c[i]
				if (p50 == "" && cum >= 0.50 * total) p50 = v[i]
				if (p95 == "" && cum >= 0.95 * total) p95 = v[i]
				if (p99 == "" && cum >= 0.99 * total) p99 = v[i]
			}
			printf "%s %s %s %s %s %s %s %s\n", tps, qps, avg, p50, p95, p99, errs, rec
		}' <<<"$res"
}

# slap_run port -> "conn_per_s avg_s"
slap_run() {
	local res
	res="$(mariadb-slap -h127.0.0.1 -P"$1" -u"$DB_USER" -p"$DB_PW" --skip-ssl --create-schema="$DB_NAME" --no-drop \
		--concurrency="$SLAP_C" --iterations="$SLAP_I" --number-of-queries="$SLAP_Q" --detach=1 \
		--query="SELECT 1" 2>&1)" || {
		echo "$res" | tail -3 >&2
		echo "0 fail"
		return
	}
	awk -v q="$SLAP_Q" '/Average number of seconds/ { printf "%.0f %s\n", q / $(NF-1), $(NF-1) }' <<<"$res"
}

# write_haproxy_cfg writes $work/haproxy.cfg: TCP mode (L4), no pooling,
# one database connection per client.
write_haproxy_cfg() {
	cat >"$work/haproxy.cfg" <<CFG
global
	maxconn 8000
	nbthread 2
defaults
	mode tcp
	timeout connect 5s
	timeout client 1h
	timeout server 1h
frontend mysql
	bind 127.0.0.1:$HA_PORT
	default_backend db
backend db
	server db $DB_HOST:$DB_PORT
CFG
}

if [ "$MODE" = serve ]; then
	ROUNDS="${ROUNDS_SET:-5}" THREAD_LIST="${THREAD_LIST:-64 1}"
	# shellcheck source=bench/serve_cpu.sh
	source bench/serve_cpu.sh
	serve_cpu "${2:-}"
	exit 0
fi

if [ "$MODE" = isolation ]; then
	ROUNDS="${ROUNDS_SET:-5}"
	# shellcheck source=bench/isolation_cpu.sh
	source bench/isolation_cpu.sh
	isolation_cpu "${2:?usage: bench/sysbench.sh isolation OLD_BIN|OLD_REF}"
	exit 0
fi

if [ "$MODE" = profile ]; then
	prof="${CPUPROFILE:-$PWD/bench/out/mysqlproxy-cpu.out}"
	mkdir -p "$(dirname "$prof")"
	read -r http pprof_port < <(free_ports 2)
	start_sqlgate sqlgate "$work/sqlgate" mysql "$SG_PORT" "$http" "$POOL" "" --pprof "127.0.0.1:$pprof_port"
	# The profile spans both sysbench runs (a second more for the start).
	curl -sS -o "$prof" "http://127.0.0.1:$pprof_port/debug/pprof/profile?seconds=$((2 * T + 1))" &
	prof_pid=$!
	pids+=("$prof_pid")
	for t in oltp_point_select oltp_read_only; do
		echo "$t via sqlgate: $(sysbench_run $t "$SG_PORT" "$THREADS")"
	done
	wait "$prof_pid"
	echo "mariadb-slap via sqlgate: $(slap_run "$SG_PORT")"
	cp "$work/sqlgate" "${prof%.out}.bin"
	echo "profile: $prof (binary ${prof%.out}.bin)"
	go tool pprof -top -cum "${prof%.out}.bin" "$prof" 2>/dev/null | head -60 || true
	exit 0
fi

# haproxy, TCP mode (L4): no pooling, one database connection per client.
write_haproxy_cfg
"$HAPROXY" -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
ha_pid=$!
pids+=("$ha_pid")
start_sqlgate sqlgate "$work/sqlgate" mysql "$SG_PORT" "$(free_ports 1)" "$POOL"
wait_port "$HA_PORT" "$ha_pid" "$work/haproxy.log"

mkdir -p bench/out
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="bench/out/sysbench-$stamp.txt"
{
	echo "# $(date -u +%FT%TZ) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) $(sysbench --version) $("$HAPROXY" -v | head -1 | cut -d' ' -f1-3) $(sql 'SELECT VERSION()') $(go version | cut -d' ' -f3)"
	echo "# T=${T}s threads=$THREADS rounds=$ROUNDS pool=$POOL tables=$TABLES size=$SIZE slap: -c $SLAP_C, $SLAP_Q queries x $SLAP_I iterations, --detach=1"
} | tee "$out"
targets=(direct haproxy sqlgate)
port_of() { case $1 in direct) echo "$DB_PORT" ;; haproxy) echo "$HA_PORT" ;; sqlgate) echo "$SG_PORT" ;; esac }
tsv="$work/rows.tsv"
echo "| test | threads | round | target | tps | qps | avg ms | p50 ms | p95 ms | p99 ms | errors | load1 |" | tee -a "$out"
echo "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|" | tee -a "$out"
run_matrix() { # test threads
	local r tg order
	for r in $(seq "$ROUNDS"); do
		order=("${targets[@]}")
		[ $((r % 2)) = 0 ] && order=(sqlgate haproxy direct)
		for tg in "${order[@]}"; do
			read -r tps qps avg p50 p95 p99 errs rec < <(sysbench_run "$1" "$(port_of "$tg")" "$2")
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$tg" "$tps" "$qps" "$avg" "$p50" "$p95" "$p99" "$errs" >>"$tsv"
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s/%s | %s |\n' "$1" "$2" "$r" "$tg" "$tps" "$qps" \
				"$avg" "$p50" "$p95" "$p99" "$errs" "$rec" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
		done
	done
}
run_matrix oltp_point_select "$THREADS"
run_matrix oltp_read_only "$THREADS"
run_matrix oltp_point_select 1 # added latency without queueing

echo | tee -a "$out"
echo "| mariadb-slap --detach=1 | round | target | connections+queries/s | avg s per iteration | load1 |" | tee -a "$out"
echo "|---|---:|---|---:|---:|---:|" | tee -a "$out"
slap_tsv="$work/slap.tsv"
for r in $(seq "$ROUNDS"); do
	order=("${targets[@]}")
	[ $((r % 2)) = 0 ] && order=(sqlgate haproxy direct)
	for tg in "${order[@]}"; do
		read -r cps secs < <(slap_run "$(port_of "$tg")")
		printf '%s\t%s\n' "$tg" "$cps" >>"$slap_tsv"
		printf '| -c %s SELECT 1 | %s | %s | %s | %s | %s |\n' "$SLAP_C" "$r" "$tg" "$cps" "$secs" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
	done
done

# Summary: means over rounds, ratios and added latency against direct.
{
	echo
	echo "Summary (mean of $ROUNDS rounds; ratio = throughput / direct; +p50 = p50 - direct p50):"
	echo
	echo "| test | threads | target | tps | ratio | p50 ms | +p50 ms | p95 ms | +p95 ms |"
	echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' '
		{ k = $1 SUBSEP $2 SUBSEP $3; n[k]++; tps[k] += $4; p50[k] += $7; p95[k] += $8
		  if (!(($1 SUBSEP $2) in seen)) { seen[$1 SUBSEP $2] = 1; order[++m] = $1 SUBSEP $2 } }
		END {
			split("direct haproxy sqlgate", tg, " ")
			for (i = 1; i <= m; i++) {
				split(order[i], tk, SUBSEP)
				d = order[i] SUBSEP "direct"
				for (j = 1; j <= 3; j++) {
					k = order[i] SUBSEP tg[j]
					if (!(k in n)) continue
					t = tps[k] / n[k]; a = p50[k] / n[k]; b = p95[k] / n[k]
					dt = tps[d] / n[d]; da = p50[d] / n[d]; db = p95[d] / n[d]
					if (tg[j] == "direct") printf "| %s | %s | %s | %.0f | | %.3f | | %.3f | |\n", tk[1], tk[2], tg[j], t, a, b
					else printf "| %s | %s | %s | %.0f | %.2fx | %.3f | %+.3f | %.3f | %+.3f |\n", tk[1], tk[2], tg[j], t, (dt ? t / dt : 0), a, a - da, b, b - db
				}
			}
		}' "$tsv"
	awk -F'\t' '{ n[$1]++; s[$1] += $2 } END {
		printf "| mariadb-slap --detach=1 | '"$SLAP_C"' | direct | %.0f/s | | | | | |\n", s["direct"] / n["direct"]
		printf "| mariadb-slap --detach=1 | '"$SLAP_C"' | haproxy | %.0f/s | %.2fx | | | | |\n", s["haproxy"] / n["haproxy"], s["haproxy"] / s["direct"]
		printf "| mariadb-slap --detach=1 | '"$SLAP_C"' | sqlgate | %.0f/s | %.2fx | | | | |\n", s["sqlgate"] / n["sqlgate"], s["sqlgate"] / s["direct"]
	}' "$slap_tsv"
	echo
	echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$out"

if [ "${SQLGATE_BENCH_APPEND:-0}" = 1 ]; then
	{
		echo
		echo "## MySQL proxy: sysbench and mariadb-slap"
		echo
		echo "Command: \`bench/sysbench.sh\` (sysbench --threads=$THREADS --time=$T, $ROUNDS interleaved rounds; pool $POOL backend connections for sqlgate; haproxy 2.6 mode tcp)."
		echo
		cat "$out"
	} >>bench/RESULTS.md
fi

#!/usr/bin/env bash
# PostgreSQL proxy CPU per transaction on the real `sqlgate serve` binary
# (each run as its own process, started by bench/serve.sh):
# pgbench -S (-M simple, extended and prepared; C clients and 1 client) through
# PgBouncer (Debian package, transaction mode), the binary OLD_BIN (e.g.
# main before a change, built to /tmp) and NEW_BIN, each with a pool of
# POOL backend connections, interleaved in an order rotated every round.
#   OLD_BIN=/tmp/sqlgate-old NEW_BIN=/tmp/sqlgate-new bench/pgbench_cpu.sh
# Knobs: T (seconds, 8), C (64), J (2), POOL (20), ROUNDS (5), SCALE (10),
# MODES ("simple extended prepared"), CLIENTS ("$C 1"), PGBOUNCER (the
# pgbouncer binary; default the Debian package's), PORT_BASE (16450: the
# proxies listen on PORT_BASE+1..5, sqlgate's HTTP on PORT_BASE+2001..2; set
# another base to run beside someone else's run).
# Per run: tps from pgbench; CPU µs per transaction = utime+stime of the
# proxy process (/proc/PID/stat) over the transactions pgbench processed
# (the raw rows add stime alone: the kernel's share, sys_us_per_txn);
# voluntary context switches per transaction summed over the process's
# threads (/proc/PID/task/*/status; threads that exited are not counted).
# The table gives medians over the rounds, each side's median CPU over
# old's, and in how many rounds the side used less CPU than old in the same
# round (a paired count, steadier than medians on a noisy machine).
# PROXY_CPUS pins every proxy (sqlgate from its start, so the Go runtime
# sizes GOMAXPROCS to it; PgBouncer, single-threaded, right after) to those
# CPUs with taskset, CLIENT_CPUS pins pgbench; PostgreSQL stays unpinned.
# PERF=1 adds, per run, the proxy's system calls and context switches per
# transaction counted by `perf stat` (read/recvfrom, write/sendto,
# epoll_pwait/epoll_wait, futex, nanosleep) to the raw rows.
# RATE (transactions per second over all clients) runs pgbench with -R RATE,
# so that every side gets the same offered load: at full speed the side that
# relays faster also waits more often for work (a sleep and a wake-up each
# time), and its CPU per transaction then mixes speed with idle overhead.
# FLOOR=1 adds three more sides, bench/cmd/relay-floor (built to the work
# dir) in its goroutine, epoll and coro modes: a one-to-one TCP relay
# without pooling or parsing, the least a Go relay can spend per
# transaction with goroutines, with an epoll loop, and with goroutine-style
# code run as coroutines of an epoll loop (it opens one backend connection
# per client; the pool knob does not apply to it).
# DIRECT=1 adds pgbench against PostgreSQL itself (its throughput only: the
# database's CPU is not a proxy's), interleaved as the other sides.
# FLOOR and DIRECT need PostgreSQL's max_connections >= C + 3 pools + 5.
# Medians over the rounds are printed; raw rows go to bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
B="${PORT_BASE:-16450}" T="${T:-8}" C="${C:-64}" J="${J:-2}" POOL="${POOL:-20}" ROUNDS="${ROUNDS:-5}" SCALE="${SCALE:-10}"
: "${OLD_BIN:?OLD_BIN: the sqlgate binary to compare against}" "${NEW_BIN:?NEW_BIN: the sqlgate binary under test}"
export PGUSER=sqlgate PGPASSWORD=sqlgatepw PGDATABASE=sqlgate_test PGSSLMODE=disable
PGBOUNCER="${PGBOUNCER:-$(command -v pgbouncer || echo /usr/sbin/pgbouncer)}"
[ -x "$PGBOUNCER" ] || { echo "pgbouncer missing: apt-get install -y pgbouncer" >&2; exit 1; }
# shellcheck source=bench/serve.sh
. bench/serve.sh
bench_work
chmod 755 "$work"

declare -A PID PORT
pin_client=()
[ -z "${PROXY_CPUS:-}" ] || SERVE_PREFIX=(taskset -c "$PROXY_CPUS")
[ -z "${CLIENT_CPUS:-}" ] || pin_client=(taskset -c "$CLIENT_CPUS")
# shellcheck source=bench/pgbouncer.sh
. bench/pgbouncer.sh
start_pgbouncer "$work" $((B + 3)) "$POOL"
pids+=("$PGBOUNCER_PID")
PID[pgbouncer]=$PGBOUNCER_PID PORT[pgbouncer]=$((B + 3))
[ -z "${PROXY_CPUS:-}" ] || taskset -a -p -c "$PROXY_CPUS" "$PGBOUNCER_PID" >/dev/null

start() { # name binary proxy-port http-port
	start_sqlgate "$1" "$2" postgres "$3" "$4" "$POOL"
	PID[$1]=${SG_PID[$1]} PORT[$1]=$3
}
start old "$OLD_BIN" $((B + 1)) $((B + 2001))
start new "$NEW_BIN" $((B + 2)) $((B + 2002))
targets=(pgbouncer old new)
if [ -n "${FLOOR:-}${DIRECT:-}" ]; then
	# Their clients connect to PostgreSQL one to one, beside the three pools.
	maxc="$(psql -h 127.0.0.1 -U postgres -d postgres -Atc 'SHOW max_connections' 2>/dev/null || echo 0)"
	if ((maxc < C + 3 * POOL + 5)); then
		echo "FLOOR and DIRECT need max_connections >= $((C + 3 * POOL + 5)) on PostgreSQL (has ${maxc:-?}):" >&2
		echo "  psql -h 127.0.0.1 -U postgres -c 'ALTER SYSTEM SET max_connections = 250', then restart it" >&2
		exit 1
	fi
fi
if [ -n "${DIRECT:-}" ]; then
	targets+=(direct)
	PORT[direct]=5432 PID[direct]=""
fi
if [ -n "${FLOOR:-}" ]; then
	go build -o "$work/relay-floor" ./bench/cmd/relay-floor
	p=$((B + 3))
	for fm in goroutine epoll coro; do
		p=$((p + 1))
		"${SERVE_PREFIX[@]}" "$work/relay-floor" -mode "$fm" -listen "127.0.0.1:$p" -backend 127.0.0.1:5432 >"$work/floor-$fm.log" 2>&1 &
		pids+=("$!")
		PID[floor-$fm]=$! PORT[floor-$fm]=$p
		wait_port "$p" "$!" "$work/floor-$fm.log"
		targets+=("floor-$fm")
	done
fi
pgbench -h 127.0.0.1 -p 5432 -i -q -s "$SCALE" >/dev/null 2>&1

hz="$(getconf CLK_TCK)"
perf_events=context-switches
for sc in read recvfrom write sendto epoll_pwait epoll_wait futex nanosleep; do perf_events+=",syscalls:sys_enter_$sc"; done
# per_txn N: perf stat's CSV (stdin) as counts per transaction.
per_txn() {
	awk -F, -v n="$1" '$1 ~ /^[0-9]+$/ && n > 0 {e = $3; sub("syscalls:sys_enter_", "", e); printf "%s%s=%.2f", sep, e, $1 / n; sep = " "}'
}
mkdir -p bench/out
out="bench/out/pgbench-cpu-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "# $(date -u +%FT%TZ) nproc=$(nproc) $("$PGBOUNCER" --version | head -1) old=$OLD_BIN new=$NEW_BIN T=$T C=$C J=$J pool=$POOL rounds=$ROUNDS rate=${RATE:-unlimited} proxy_cpus=${PROXY_CPUS:-all} client_cpus=${CLIENT_CPUS:-all} loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out"
declare -A US TPS CS KS
cases=()
for c in ${CLIENTS:-$C 1}; do for m in ${MODES:-simple extended prepared}; do cases+=("$m $c"); done; done
for r in $(seq "$ROUNDS"); do
	for cs in "${cases[@]}"; do
		read -r mode c <<<"$cs"
		rate=() && [ -z "${RATE:-}" ] || rate=(-R "$RATE")
		j=$J && [ "$c" -lt "$J" ] && j=$c
		rot=$((r % ${#targets[@]}))
		order=("${targets[@]:rot}" "${targets[@]:0:rot}")
		for tg in "${order[@]}"; do
			pid="${PID[$tg]}" # none for direct: PostgreSQL's throughput only
			if [ -n "$pid" ]; then
				[ -z "${PERF:-}" ] || { perf stat -x, -p "$pid" -e "$perf_events" -o "$work/perf.csv" & perf_pid=$!; sleep 0.2; }
				read -r c0 k0 < <(proc_cpu_sys_ticks "$pid")
				v0="$(proc_vcs "$pid")"
			fi
			res="$("${pin_client[@]}" pgbench -h 127.0.0.1 -p "${PORT[$tg]}" -n -S -M "$mode" -c "$c" -j "$j" -T "$T" "${rate[@]}" 2>&1 || true)"
			tps="$(awk '/^tps/ {print $3; exit}' <<<"$res")"
			if [ -z "$pid" ]; then
				TPS[$tg|$mode|$c]+="${tps:-0} "
				echo "# round $r -M $mode -c $c $tg: tps=${tps:-0} loadavg=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
				continue
			fi
			read -r c1 k1 < <(proc_cpu_sys_ticks "$pid")
			v1="$(proc_vcs "$pid")"
			n="$(awk '/actually processed/ {split($NF, a, "/"); print a[1]; exit}' <<<"$res")"
			sys=""
			[ -z "${PERF:-}" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; sys=" $(per_txn "${n:-0}" <"$work/perf.csv")"; }
			us="$(awk -v c="$((c1 - c0))" -v n="${n:-0}" -v hz="$hz" 'BEGIN {printf "%.1f", (n > 0 ? c * 1e6 / hz / n : 0)}')"
			ks="$(awk -v c="$((k1 - k0))" -v n="${n:-0}" -v hz="$hz" 'BEGIN {printf "%.1f", (n > 0 ? c * 1e6 / hz / n : 0)}')"
			sw="$(awk -v v="$((v1 - v0))" -v n="${n:-0}" 'BEGIN {printf "%.2f", (n > 0 ? v / n : 0)}')"
			k="$tg|$mode|$c"
			US[$k]+="$us " TPS[$k]+="${tps:-0} " CS[$k]+="$sw " KS[$k]+="$ks "
			echo "# round $r -M $mode -c $c $tg: txns=${n:-0} tps=${tps:-0} cpu_us_per_txn=$us sys_us_per_txn=$ks vcsw_per_txn=$sw$sys loadavg=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
		done
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# below A B: in how many rounds the CPU per transaction listed in A (one
# figure per round, in round order) was below B's of the same round, as
# "k/n": the paired count that a noisy machine's medians can hide.
below() { awk -v a="$1" -v b="$2" 'BEGIN {n = split(a, x, " "); split(b, y, " "); for (i = 1; i <= n; i++) k += (x[i] < y[i]); printf "%d/%d", k, n}'; }
echo "# end $(date -u +%FT%TZ) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
echo "| -M | -c | target | tps (median of $ROUNDS) | CPU µs/tx | of which kernel | vol. ctx switches/tx | CPU vs old | rounds below old |" | tee -a "$out"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|" | tee -a "$out"
for cs in "${cases[@]}"; do
	read -r mode c <<<"$cs"
	ref="$(median <<<"${US[old|$mode|$c]}")"
	for tg in "${targets[@]}"; do
		k="$tg|$mode|$c"
		if [ -z "${PID[$tg]}" ]; then
			printf '| %s | %s | %s | %.0f | - | - | - | - | - |\n' "$mode" "$c" "$tg" "$(median <<<"${TPS[$k]}")" | tee -a "$out"
			continue
		fi
		us="$(median <<<"${US[$k]}")"
		vs=- && [ "$tg" = old ] || vs="$(below "${US[$k]}" "${US[old|$mode|$c]}")"
		printf '| %s | %s | %s | %.0f | %.1f | %.1f | %.2f | %s | %s |\n' "$mode" "$c" "$tg" "$(median <<<"${TPS[$k]}")" "$us" \
			"$(median <<<"${KS[$k]}")" "$(median <<<"${CS[$k]}")" "$(awk -v a="$us" -v b="$ref" 'BEGIN {printf "%.2f×", (b > 0 ? a / b : 0)}')" "$vs" | tee -a "$out"
	done
done

#!/usr/bin/env bash
# PostgreSQL proxy isolation cost: proxy CPU µs per transaction of
# pgbench -S (simple and extended protocol) through three proxies side by
# side, each the real `sqlgate serve` binary run as its own process
# (bench/serve.sh): the binary built from OLD_REF (default: the merge base
# with main, i.e. before the isolation work; its config has no isolation
# key), this tree's binary in the default isolation mode, and this tree's
# binary with isolation: strict.
#   bench/pgbench_isolation.sh        # T=8 s per run, 64 clients, pool 20, 5 rounds
# Knobs: T, C, J, POOL, ROUNDS, OLD_REF, OLD_BIN (a prebuilt old sqlgate
# binary, skips building OLD_REF). CPU is utime+stime of the proxy
# process from /proc/PID/stat, divided by the transactions pgbench
# processed; targets run interleaved, in an order rotated every round, so
# neighbours' load hits them alike.
set -euo pipefail
cd "$(dirname "$0")/.."
T="${T:-8}" C="${C:-64}" J="${J:-2}" POOL="${POOL:-20}" ROUNDS="${ROUNDS:-5}" SCALE="${SCALE:-10}"
OLD_REF="${OLD_REF:-$(git merge-base HEAD main)}"
export PGUSER=sqlgate PGPASSWORD=sqlgatepw PGDATABASE=sqlgate_test PGSSLMODE=disable
# shellcheck source=bench/serve.sh
. bench/serve.sh
bench_work
build_sqlgate "$work/sqlgate"
if [ -z "${OLD_BIN:-}" ]; then
	OLD_BIN="$work/sqlgate-old"
	build_sqlgate "$OLD_BIN" "$OLD_REF"
else
	OLD_REF="$OLD_BIN"
fi
declare -A PID PORT=([old]=16441 [default]=16442 [strict]=16443)
read -r h1 h2 h3 < <(free_ports 3)
start_sqlgate old "$OLD_BIN" postgres "${PORT[old]}" "$h1" "$POOL"
start_sqlgate default "$work/sqlgate" postgres "${PORT[default]}" "$h2" "$POOL" default
start_sqlgate strict "$work/sqlgate" postgres "${PORT[strict]}" "$h3" "$POOL" strict
for tg in old default strict; do PID[$tg]=${SG_PID[$tg]}; done
pgbench -h 127.0.0.1 -p 5432 -i -q -s "$SCALE" >/dev/null 2>&1
hz="$(getconf CLK_TCK)"
mkdir -p bench/out
out="bench/out/pgbench-isolation-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "# $(date -u +%FT%TZ) nproc=$(nproc) old=$OLD_REF new=$(git rev-parse --short HEAD) T=$T C=$C J=$J pool=$POOL rounds=$ROUNDS loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out"
declare -A US TPS
for r in $(seq "$ROUNDS"); do
	for mode in simple extended; do
		order=(old default strict old default) # rotated per round: none always runs first
		for tg in "${order[@]:$((r % 3)):3}"; do
			c0="$(proc_cpu_ticks "${PID[$tg]}")"
			res="$(pgbench -h 127.0.0.1 -p "${PORT[$tg]}" -n -S -M "$mode" -c "$C" -j "$J" -T "$T" 2>&1 || true)"
			c1="$(proc_cpu_ticks "${PID[$tg]}")"
			n="$(awk '/actually processed/ {split($NF, a, "/"); print a[1]; exit}' <<<"$res")"
			tps="$(awk '/^tps/ {print $3; exit}' <<<"$res")"
			us="$(awk -v c="$((c1 - c0))" -v n="${n:-0}" -v hz="$hz" 'BEGIN {printf "%.1f", (n > 0 ? c * 1e6 / hz / n : 0)}')"
			US[$tg|$mode]+="$us " TPS[$tg|$mode]+="${tps:-0} "
			echo "# round $r $mode $tg: txns=${n:-0} tps=${tps:-0} cpu_us_per_txn=$us loadavg=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
		done
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "# end $(date -u +%FT%TZ) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
echo "| -M | proxy | CPU µs/txn (median of $ROUNDS) | vs old | tps (median) |" | tee -a "$out"
echo "|---|---|---:|---:|---:|" | tee -a "$out"
for mode in simple extended; do
	ref="$(median <<<"${US[old|$mode]}")"
	for tg in old default strict; do
		us="$(median <<<"${US[$tg|$mode]}")"
		printf '| %s | %s | %.1f | %+.1f %% | %.0f |\n' "$mode" "$tg" "$us" "$(awk -v a="$us" -v b="$ref" 'BEGIN {print (b > 0 ? (a / b - 1) * 100 : 0)}')" \
			"$(median <<<"${TPS[$tg|$mode]}")" | tee -a "$out"
	done
done

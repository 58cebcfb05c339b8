#!/usr/bin/env bash
# PostgreSQL proxy benchmark: pgbench against the
# database directly, PgBouncer (Debian's 1.18, transaction mode) and the
# sqlgate proxy (the real `sqlgate serve` binary of this tree, built from
# ./cmd/sqlgate and run as its own process by bench/serve.sh), side by
# side. Appends a section to bench/RESULTS.md when SQLGATE_BENCH_APPEND=1;
# the raw output goes to bench/out/pgbench-*.txt.
#   bench/pgbench.sh            # T=15 s per run, 100 clients, 2 threads, 3 rounds
# Knobs: T (seconds), C (clients), J (threads), POOL (backend connections),
# SCALE (pgbench -i scale), ROUNDS (interleaved rounds; the table shows the
# median of each row, the raw runs go to the output file too), PGBOUNCER
# (the pgbouncer binary).
# The machine is usually shared: targets run interleaved (postgres,
# PgBouncer, sqlgate, then again) so load from other processes hits them
# alike, and the load average is recorded before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
T="${T:-15}" C="${C:-100}" J="${J:-2}" POOL="${POOL:-20}" SCALE="${SCALE:-10}" ROUNDS="${ROUNDS:-3}"
PGUSER=sqlgate PGPASSWORD=sqlgatepw PGDATABASE=sqlgate_test
# No TLS anywhere: PgBouncer is configured without it (sqlgate offers TLS
# by default, and pgbench's sslmode=prefer would take it).
PGSSLMODE=disable
C_DIRECT="${C_DIRECT:-50}" # max_connections=100, and both poolers keep 20 open
export PGUSER PGPASSWORD PGDATABASE PGSSLMODE
command -v pgbench >/dev/null || { echo "pgbench missing: apt-get install postgresql-contrib" >&2; exit 1; }
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
	apt-get install -y pgbouncer >/dev/null
fi
PGBOUNCER="${PGBOUNCER:-$(command -v pgbouncer || echo /usr/sbin/pgbouncer)}"
# shellcheck source=bench/serve.sh
. bench/serve.sh
bench_work

# PgBouncer, transaction mode, same pool size.
# shellcheck source=bench/pgbouncer.sh
. bench/pgbouncer.sh
start_pgbouncer "$work" 16433 "$POOL"
pids+=("$PGBOUNCER_PID")

# sqlgate: the real binary, one PostgreSQL proxy with the same pool size.
build_sqlgate "$work/sqlgate"
start_sqlgate sqlgate "$work/sqlgate" postgres 16432 "$(free_ports 1)" "$POOL"
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 16433 && break; sleep 0.2; done

pgbench -h 127.0.0.1 -p 5432 -i -q -s "$SCALE" >/dev/null 2>&1

mkdir -p bench/out
out="bench/out/pgbench-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "# $(date -u +%FT%TZ) nproc=$(nproc) $(pgbench --version) $("$PGBOUNCER" --version | head -1) T=$T C=$C J=$J pool=$POOL scale=$SCALE rounds=$ROUNDS loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out"
run() { # target port mode extra... -> "tps lat failed"
	local target=$1 port=$2 mode=$3
	shift 3
	local res c=$C
	[ "$target" = postgres ] && c=$C_DIRECT
	res="$(pgbench -h 127.0.0.1 -p "$port" -n -S -M "$mode" -c "$c" -j "$J" -T "$T" "$@" 2>&1 || true)"
	grep -q '^tps' <<<"$res" || echo "$res" | tail -3 >>"$out"
	printf '%s %s %s\n' "$(awk '/^tps/ {print $3; exit}' <<<"$res")" "$(awk '/^latency average/ {print $4; exit}' <<<"$res")" \
		"$(awk '/failed transactions/ {print $5; exit}' <<<"$res")"
}
# median of the successful runs (a run that failed to connect reports 0).
median() { awk '$1 > 0' | sort -g | awk '{v[NR]=$1} END {if (NR == 0) print 0; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
declare -A TPS LAT FAIL
cases=("simple" "extended" "prepared" "simple -C" "extended -C")
targets=("postgres 5432" "pgbouncer 16433" "sqlgate 16432")
for r in $(seq "$ROUNDS"); do
	for cs in "${cases[@]}"; do
		for tg in "${targets[@]}"; do
			read -r target port <<<"$tg"
			# shellcheck disable=SC2086 # cs is "mode [-C]"
			read -r tps lat fail <<<"$(run $target $port $cs)"
			k="$target|$cs"
			TPS[$k]+="${tps:-0} " LAT[$k]+="${lat:-0} " FAIL[$k]=$((${FAIL[$k]:-0} + ${fail:-0}))
			echo "# round $r $target $cs: tps=${tps:-0} lat=${lat:-} failed=${fail:-0} loadavg=$(cut -d' ' -f1 /proc/loadavg)" >>"$out"
		done
	done
done
echo "# end $(date -u +%FT%TZ) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
echo "| target     |  -c | -M       | -C   | tps (median of $ROUNDS) | lat ms   | failed | vs pgbouncer |" | tee -a "$out"
echo "|---|---|---|---|---|---|---|---|" | tee -a "$out"
for cs in "${cases[@]}"; do
	read -r mode extra <<<"$cs"
	ref="$(tr ' ' '\n' <<<"${TPS[pgbouncer|$cs]}" | grep . | median)"
	for tg in "${targets[@]}"; do
		read -r target _ <<<"$tg"
		k="$target|$cs" c=$C
		[ "$target" = postgres ] && c=$C_DIRECT
		tps="$(tr ' ' '\n' <<<"${TPS[$k]}" | grep . | median)"
		lat="$(tr ' ' '\n' <<<"${LAT[$k]}" | grep . | median)"
		printf '| %-10s | %3s | %-8s | %-4s | %10.0f | %8.3f | %s | %.2f× |\n' "$target" "$c" "$mode" "${extra:-}" "$tps" "$lat" "${FAIL[$k]}" \
			"$(awk -v a="$tps" -v b="$ref" 'BEGIN {print (b > 0 ? a / b : 0)}')" | tee -a "$out"
	done
done
if [ "${SQLGATE_BENCH_APPEND:-0}" = 1 ]; then
	{
		echo
		echo "## PostgreSQL proxy: pgbench"
		echo
		echo "Command: \`bench/pgbench.sh\` (pgbench -S -c $C -j $J -T $T, pool $POOL backend connections for PgBouncer and sqlgate, $ROUNDS interleaved rounds, medians)."
		echo
		cat "$out"
	} >>bench/RESULTS.md
fi

# shellcheck shell=bash disable=SC2154 # work, pids and the rest come from sysbench.sh
# isolation_cpu.sh: `bench/sysbench.sh isolation OLD`, sourced by
# sysbench.sh (which builds $work/sqlgate from this tree, sources
# bench/serve.sh and prepares the sysbench tables). Three real
# `sqlgate serve` processes, each one MySQL proxy with a pool of $POOL
# backend connections, run side by side: OLD (a sqlgate binary of another
# commit, e.g. main before the isolation work, or a git ref to build one
# from; its config has no isolation key, which an old binary may not know)
# and this tree's binary with isolation default and strict. In each of
# $ROUNDS rounds (target order rotated), sysbench oltp_point_select with
# $THREADS threads runs $T seconds against each; the proxy's CPU time
# (utime+stime from /proc/PID/stat) over the queries sysbench reports gives
# CPU µs per query. Medians are printed.

# start_proxy NAME BINARY PORT ISOLATION starts a proxy and records its pid.
start_proxy() {
	start_sqlgate "$1" "$2" mysql "$3" "$(free_ports 1)" "$POOL" "$4"
	iso_pid[$1]=${SG_PID[$1]}
	iso_port[$1]=$3
}

isolation_cpu() {
	local old=$1 label=$1 hz r tg t0 t1 res queries us
	declare -gA iso_pid iso_port
	hz=$(getconf CLK_TCK)
	if [ ! -f "$old" ]; then
		build_sqlgate "$work/sqlgate-old" "$old"
		old="$work/sqlgate-old"
	fi
	start_proxy old "$old" $((SG_PORT + 10)) ""
	start_proxy default "$work/sqlgate" $((SG_PORT + 11)) default
	start_proxy strict "$work/sqlgate" $((SG_PORT + 12)) strict
	mkdir -p bench/out
	local out tsv
	out="bench/out/isolation-$(date -u +%Y%m%dT%H%M%SZ).txt" tsv="$work/iso.tsv"
	{
		echo "# $(date -u +%FT%TZ) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) $(sysbench --version) $(sql 'SELECT VERSION()')"
		echo "# oltp_point_select T=${T}s threads=$THREADS rounds=$ROUNDS pool=$POOL old=$label"
		echo "| round | target | queries | qps | proxy CPU s | CPU µs/query | load1 |"
		echo "|---:|---|---:|---:|---:|---:|---:|"
	} | tee "$out"
	local targets=(old default strict)
	for r in $(seq "$ROUNDS"); do
		local order=("${targets[@]:$((r % 3))}" "${targets[@]:0:$((r % 3))}")
		for tg in "${order[@]}"; do
			t0=$(proc_cpu_ticks "${iso_pid[$tg]}")
			res="$(sysbench oltp_point_select "${SB_CONN[@]}" --mysql-port="${iso_port[$tg]}" --threads="$THREADS" \
				--time="$T" --report-interval=0 run 2>&1)" || { echo "$res" | tail -5 >&2; continue; }
			t1=$(proc_cpu_ticks "${iso_pid[$tg]}")
			queries=$(awk '$1 == "queries:" { print $2 }' <<<"$res")
			us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v q="$queries" 'BEGIN { printf "%.2f", d / hz * 1e6 / q }')
			printf '%s\t%s\n' "$tg" "$us" >>"$tsv"
			printf '| %s | %s | %s | %.0f | %.2f | %s | %s |\n' "$r" "$tg" "$queries" \
				"$(awk -v q="$queries" -v t="$T" 'BEGIN { print q / t }')" "$(awk -v d=$((t1 - t0)) -v hz="$hz" 'BEGIN { print d / hz }')" \
				"$us" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
		done
	done
	{
		echo
		echo "Median CPU µs/query over $ROUNDS rounds:"
		echo
		echo "| target | median CPU µs/query | vs old |"
		echo "|---|---:|---:|"
		local base=""
		for tg in "${targets[@]}"; do
			local m
			m=$(awk -F'\t' -v t="$tg" '$1 == t { print $2 }' "$tsv" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
			[ -z "$base" ] && base=$m
			printf '| %s | %s | %s |\n' "$tg" "$m" "$(awk -v m="$m" -v b="$base" 'BEGIN { printf "%+.1f %%", (m / b - 1) * 100 }')"
		done
		echo
		echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	} | tee -a "$out"
}

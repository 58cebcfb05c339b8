# shellcheck shell=bash disable=SC2154 # work, pids and the rest come from sysbench.sh
# serve_cpu.sh: `bench/sysbench.sh serve [OLD_SQLGATE]`, sourced by
# sysbench.sh (which prepares the sysbench tables, builds $work/sqlgate from
# this tree, sources bench/serve.sh — start_sqlgate, wait_port,
# proc_cpu_ticks, proc_vcs, pids, $work — and defines sql, write_haproxy_cfg
# and SB_CONN).
# The real `sqlgate serve` binary of this tree runs the MySQL proxy (pool
# $POOL) as its own process next to haproxy in TCP mode (the L4 baseline)
# and MariaDB directly; OLD_SQLGATE, when given, is a sqlgate binary of
# another commit run the same way (before/after in one run). In each of
# $ROUNDS rounds, for each thread count in $THREAD_LIST, sysbench $SB_TEST
# (default oltp_point_select; oltp_read_only counts its 14 queries a
# transaction) runs $T seconds against every target (order rotated each
# round). SB_ARGS: more sysbench options (split on spaces), e.g.
# --db-ps-mode=disable to send every statement as text (COM_QUERY). For the
# proxies: CPU µs per query (utime+stime from /proc/PID/stat over the
# queries sysbench reports) and voluntary context switches per query
# (summed over /proc/PID/task/*/status). Medians are printed.

# start_serve NAME BINARY PORT starts `sqlgate serve` with one MySQL proxy
# (SERVE_FLAGS: extra serve flags, split on spaces).
start_serve() {
	# shellcheck disable=SC2086 # SERVE_FLAGS is a list of flags
	start_sqlgate "$1" "$2" mysql "$3" "$(free_ports 1)" "$POOL" "" ${SERVE_FLAGS:-}
	sv_pid[$1]=${SG_PID[$1]}
	sv_port[$1]=$3
}

serve_cpu() {
	local old=${1:-} hz r tg th t0 t1 v0 v1 res queries us vq
	declare -gA sv_pid sv_port
	hz=$(getconf CLK_TCK)
	local sb_extra=()
	read -ra sb_extra <<<"${SB_ARGS:-}"
	start_serve sqlgate "$work/sqlgate" "$SG_PORT"
	local targets=(direct haproxy sqlgate)
	if [ -n "$old" ]; then
		start_serve old "$old" $((SG_PORT + 20))
		targets+=(old)
	fi
	write_haproxy_cfg
	"$HAPROXY" -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
	sv_pid[haproxy]=$!
	pids+=("${sv_pid[haproxy]}")
	sv_port[haproxy]=$HA_PORT
	wait_port "$HA_PORT" "${sv_pid[haproxy]}" "$work/haproxy.log"
	sv_port[direct]=$DB_PORT
	mkdir -p bench/out
	local out tsv
	out="bench/out/serve-cpu-$(date -u +%Y%m%dT%H%M%SZ).txt" tsv="$work/serve.tsv"
	{
		echo "# $(date -u +%FT%TZ) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) $(sysbench --version) $("$HAPROXY" -v | head -1 | cut -d' ' -f1-3) $(sql 'SELECT VERSION()') $(go version | cut -d' ' -f3)"
		echo "# ${SB_TEST:-oltp_point_select} ${SB_ARGS:-} T=${T}s threads=${THREAD_LIST} rounds=$ROUNDS pool=$POOL old=${old:-none}"
		echo "| round | threads | target | queries | qps | proxy CPU µs/query | proxy vol. ctx switches/query | load1 |"
		echo "|---:|---:|---|---:|---:|---:|---:|---:|"
	} | tee "$out"
	local n=${#targets[@]}
	for r in $(seq "$ROUNDS"); do
		for th in $THREAD_LIST; do
			local order=("${targets[@]:$((r % n))}" "${targets[@]:0:$((r % n))}")
			for tg in "${order[@]}"; do
				if [ "$tg" != direct ]; then
					t0=$(proc_cpu_ticks "${sv_pid[$tg]}")
					v0=$(proc_vcs "${sv_pid[$tg]}")
				fi
				res="$(sysbench "${SB_TEST:-oltp_point_select}" "${SB_CONN[@]}" "${sb_extra[@]}" --mysql-port="${sv_port[$tg]}" \
					--threads="$th" --time="$T" --report-interval=0 run 2>&1)" || { echo "$res" | tail -5 >&2; continue; }
				queries=$(awk '$1 == "queries:" { print $2 }' <<<"$res")
				us=- vq=-
				if [ "$tg" != direct ]; then
					t1=$(proc_cpu_ticks "${sv_pid[$tg]}")
					v1=$(proc_vcs "${sv_pid[$tg]}")
					us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v q="$queries" 'BEGIN { printf "%.2f", d / hz * 1e6 / q }')
					vq=$(awk -v d=$((v1 - v0)) -v q="$queries" 'BEGIN { printf "%.3f", d / q }')
				fi
				printf '%s\t%s\t%s\t%s\t%s\n' "$th" "$tg" "$(awk -v q="$queries" -v t="$T" 'BEGIN { printf "%.0f", q / t }')" "$us" "$vq" >>"$tsv"
				printf '| %s | %s | %s | %s | %.0f | %s | %s | %s |\n' "$r" "$th" "$tg" "$queries" \
					"$(awk -v q="$queries" -v t="$T" 'BEGIN { print q / t }')" "$us" "$vq" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
			done
		done
	done
	{
		echo
		echo "Medians over $ROUNDS rounds:"
		echo
		echo "| threads | target | qps | proxy CPU µs/query | proxy vol. ctx switches/query |"
		echo "|---:|---|---:|---:|---:|"
		for th in $THREAD_LIST; do
			for tg in "${targets[@]}"; do
				printf '| %s | %s |' "$th" "$tg"
				for col in 3 4 5; do
					printf ' %s |' "$(awk -F'\t' -v t="$tg" -v h="$th" -v c=$col '$1 == h && $2 == t { print $c }' "$tsv" |
						sort -g | awk '{ v[NR] = $1 } END { if (NR == 0 || v[1] == "-") print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
				done
				echo
			done
		done
		echo
		echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	} | tee -a "$out"
}

# shellcheck shell=bash
# serve.sh, sourced by the proxy benchmarks (pgbench_isolation.sh,
# pgbench_cpu.sh, sysbench.sh with serve_cpu.sh and isolation_cpu.sh,
# callgrind.sh): sqlgate runs as its own process, the real `sqlgate serve`
# binary built from ./cmd/sqlgate, never a test binary with the proxy in it.
#
#   bench_work             $work (a new temporary directory), pids=() and an
#                          EXIT trap that stops every pid in pids and
#                          removes $work
#   free_ports N           prints N free loopback TCP ports
#   wait_port PORT PID LOG waits until PORT accepts connections; fails with
#                          LOG's tail if PID exits first or after 60 s
#   proc_cpu_ticks PID     prints the process's utime+stime in clock ticks
#   proc_cpu_sys_ticks PID prints utime+stime and stime alone (the kernel's
#                          share), from one read of /proc/PID/stat
#   proc_vcs PID           prints the voluntary context switches of all its
#                          threads (threads that exited are not counted)
#   build_sqlgate OUT [REF]
#                          builds ./cmd/sqlgate (CGO_ENABLED=0) to OUT: this
#                          tree's, or that of `git archive REF`
#   start_sqlgate NAME BINARY ENGINE PORT HTTP_PORT POOL [ISOLATION [FLAG...]]
#       writes $work/serve-NAME/config.yaml with one cluster, ENGINE
#       postgres (SERVE_PG_ADDR, 127.0.0.1:5432) or mysql (SERVE_MYSQL_ADDR,
#       127.0.0.1:3306, database SERVE_MYSQL_DB, sbtest), its budget POOL
#       backend connections, no Data API, and its proxy on 127.0.0.1:PORT
#       (auth secret bench-db, no IAM auth, 20000 clients, borrow timeout
#       120 s, `isolation: ISOLATION` unless that is empty — an old binary
#       may not know the key); creates the secret bench-db
#       (SERVE_DB_USER/SERVE_DB_PW, sqlgate/sqlgatepw) with `sqlgate secrets
#       create`; starts `BINARY serve` (HTTP on 127.0.0.1:HTTP_PORT, the
#       FLAGs appended, e.g. --pprof 127.0.0.1:6060; the array SERVE_PREFIX,
#       e.g. (taskset -c 1), in front; log in $work/serve-NAME/log) and
#       waits for the proxy port. Sets SG_PID[NAME] and adds it to pids.
# The root credentials are SQLGATE_ROOT_ACCESS_KEY_ID and
# SQLGATE_ROOT_SECRET_ACCESS_KEY (exported here, with bench values unless set).

: "${SQLGATE_ROOT_ACCESS_KEY_ID:=AKIASQLGATEBENCH0001}"
: "${SQLGATE_ROOT_SECRET_ACCESS_KEY:=benchRootSecretKey0123456789abcdefghijkl}"
export SQLGATE_ROOT_ACCESS_KEY_ID SQLGATE_ROOT_SECRET_ACCESS_KEY
: "${SERVE_PG_ADDR:=127.0.0.1:5432}" "${SERVE_MYSQL_ADDR:=127.0.0.1:3306}" "${SERVE_MYSQL_DB:=sbtest}"
: "${SERVE_DB_USER:=sqlgate}" "${SERVE_DB_PW:=sqlgatepw}"
SERVE_PREFIX=()
declare -gA SG_PID=()

bench_work() {
	work="$(mktemp -d)"
	pids=()
	trap bench_cleanup EXIT
}

bench_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}

free_ports() {
	python3 -c 'import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])' "$1"
}

wait_port() { # port pid log
	for _ in $(seq 300); do
		(: </dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.2
	done
	echo "port $1 did not open; $3:" >&2
	tail -5 "$3" >&2
	return 1
}

proc_cpu_ticks() { # pid
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

proc_cpu_sys_ticks() { # pid
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13, $13 }'
}

proc_vcs() { # pid
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'
}

build_sqlgate() { # out [ref]
	local out=$1 src
	[[ $out = /* ]] || out="$PWD/$out"
	if [ -z "${2:-}" ]; then
		CGO_ENABLED=0 go build -o "$out" ./cmd/sqlgate
		return
	fi
	src="$(mktemp -d "$work/src.XXXXXX")"
	git archive "$2" | tar -x -C "$src"
	(cd "$src" && CGO_ENABLED=0 go build -o "$out" ./cmd/sqlgate)
}

start_sqlgate() { # name binary engine port http-port pool [isolation [serve flag...]]
	local name=$1 bin=$2 engine=$3 port=$4 http=$5 pool=$6 iso=${7:-}
	shift $(($# < 7 ? $# : 7))
	local dir="$work/serve-$name"
	[[ $bin = */* || ! -f $bin ]] || bin="./$bin"
	mkdir -p "$dir"
	{
		echo "listen: {http: 127.0.0.1:$http}"
		echo "clusters:"
		case $engine in
		postgres) printf '  - name: pg\n    engine: postgres\n    address: %s\n' "$SERVE_PG_ADDR" ;;
		mysql) printf '  - name: maria\n    engine: mysql\n    address: %s\n    database: %s\n' "$SERVE_MYSQL_ADDR" "$SERVE_MYSQL_DB" ;;
		*) echo "start_sqlgate: engine $engine: want postgres or mysql" >&2 && return 1 ;;
		esac
		echo "    max_connections: $pool"
		echo "    data_api: false"
		echo "    proxy:"
		echo "      listen: 127.0.0.1:$port"
		echo "      auth_secrets: [bench-db]"
		echo "      iam_auth: disabled"
		echo "      max_client_connections: 20000"
		echo "      borrow_timeout: 120s"
		if [ -n "$iso" ]; then echo "      isolation: $iso"; fi
	} >"$dir/config.yaml"
	"$bin" secrets create bench-db "{\"username\":\"$SERVE_DB_USER\",\"password\":\"$SERVE_DB_PW\"}" \
		--config "$dir/config.yaml" --data-dir "$dir/data" >/dev/null
	"${SERVE_PREFIX[@]}" "$bin" serve --config "$dir/config.yaml" --data-dir "$dir/data" "$@" >"$dir/log" 2>&1 &
	SG_PID[$name]=$!
	pids+=("${SG_PID[$name]}")
	wait_port "$port" "${SG_PID[$name]}" "$dir/log" || { echo "sqlgate $name ($bin) did not start" >&2 && return 1; }
}

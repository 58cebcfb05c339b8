#!/usr/bin/env bash
# Data API server CPU per ExecuteStatement, every side its own process:
#   - sqlgate: the real `sqlgate serve` of this tree (production listener,
#     access log to a file), called with the root key and with an IAM user
#     whose inline policy allows the calls;
#   - old (optional): another sqlgate binary, run the same way, for
#     before/after in one run: bench/dataapi_cpu.sh /tmp/sqlgate-old
#   - baseline: bench/cmd/dataapi-baseline -mode minimal (net/http + SDK v4
#     signer + encoding/json + pgx/database-sql), frozen;
#   - hello: the same binary in -mode hello (net/http and a fixed body);
#   - direct: the load generator on the database itself (pgx or
#     go-sql-driver/mysql; N=1, raw-client rows only), for added latency.
# Engines: pg and maria (the shared servers), and lite, a SQLite cluster
# (a file per sqlgate process, made with the sqlite3 CLI); the baseline
# and direct have no SQLite side, so lite measures sqlgate (and old) only.
# The load generator (bench/cmd/dataapi-load) is its own process too; it
# reads the server's utime+stime from /proc/PID/stat and its MemStats
# Mallocs (via --pprof) around each timed window. Rounds are interleaved
# and the target order rotates each round; medians are printed.
#
# Knobs: ROUNDS (5), T (2s timed), WARMUP (500ms), NS ("32 1"), ENGINES
# ("pg maria lite"), CASES ("select1 rows100 insert"), CLIENTS ("raw sdk"),
# POOL (16 connections per database per server), PIN (a taskset CPU list
# for the servers, e.g. 1; empty: no pinning).
# Output: bench/out/dataapi-cpu-*.txt
set -euo pipefail
# Run from a copy: bash reads a script as it goes, so editing this file
# during a run (the tree is a work tree) would break the run.
if [ -z "${DATAAPI_CPU_REPO:-}" ]; then
	DATAAPI_CPU_REPO="$(cd "$(dirname "$0")/.." && pwd)"
	export DATAAPI_CPU_REPO
	copy="$(mktemp)"
	cp "$0" "$copy"
	exec bash "$copy" "$@"
fi
rm -f "$0"
cd "$DATAAPI_CPU_REPO"
OLD="${1:-}"
ROUNDS="${ROUNDS:-5}" T="${T:-2s}" WARMUP="${WARMUP:-500ms}" NS="${NS:-32 1}" ENGINES="${ENGINES:-pg maria lite}"
CASES="${CASES:-select1 rows100 insert}" CLIENTS="${CLIENTS:-raw sdk}" POOL="${POOL:-16}" PIN="${PIN:-}"
PG_URL='postgres://sqlgate:sqlgatepw@127.0.0.1:5432/sqlgate_test'
MY_DSN='sqlgate:sqlgatepw@tcp(127.0.0.1:3306)/sqlgate_test?interpolateParams=true'
work="$(mktemp -d)"
pids=()
tbl="dapi_rows_$$" ins="dapi_ins_$$"
psqlc() { PGPASSWORD=sqlgatepw psql -X -q -h 127.0.0.1 -U sqlgate -d sqlgate_test -c "$1"; }
mariac() { mariadb -h 127.0.0.1 -u sqlgate -psqlgatepw sqlgate_test -e "$1"; }
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	psqlc "DROP TABLE IF EXISTS $tbl, $ins" || true
	mariac "DROP TABLE IF EXISTS $tbl, $ins" || true
	rm -rf "$work"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# pin runs in a background subshell: exec keeps $! the server's PID.
pin() { if [ -n "$PIN" ]; then exec taskset -c "$PIN" "$@"; else exec "$@"; fi; }

CGO_ENABLED=0 go build -o "$work/bin/sqlgate" ./cmd/sqlgate
go build -o "$work/bin/baseline" ./bench/cmd/dataapi-baseline
go build -o "$work/bin/load" ./bench/cmd/dataapi-load

# 100 rows × 10 columns of mixed types, and an insert target.
psqlc "CREATE TABLE $tbl (id int PRIMARY KEY, n1 int, n2 bigint, s1 varchar(32), s2 varchar(64), f1 double precision,
	d1 numeric(10,2), t1 timestamp, b1 boolean, s3 text);
	INSERT INTO $tbl SELECT g, g*7, g*1000003, 'name-'||g, md5(g::text), g/3.0, g*1.25, timestamp '2024-01-02 03:04:05' + g * interval '1 minute', g%2=0, repeat('x', g%40) FROM generate_series(1,100) g;
	CREATE TABLE $ins (id serial PRIMARY KEY, v int)"
mariac "CREATE TABLE $tbl (id int PRIMARY KEY, n1 int, n2 bigint, s1 varchar(32), s2 varchar(64), f1 double,
	d1 decimal(10,2), t1 datetime, b1 boolean, s3 text);
	INSERT INTO $tbl SELECT seq, seq*7, seq*1000003, concat('name-',seq), md5(seq), seq/3.0, seq*1.25, timestamp '2024-01-02 03:04:05' + interval seq minute, seq%2=0, repeat('x', seq%40) FROM seq_1_to_100;
	CREATE TABLE $ins (id int AUTO_INCREMENT PRIMARY KEY, v int)"

export SQLGATE_ROOT_ACCESS_KEY_ID=AKIASQLGATEBENCH0001 SQLGATE_ROOT_SECRET_ACCESS_KEY=benchRootSecretKey0123456789abcdefghijkl
declare -A url pid allocs akid skey
# start_sqlgate LABEL BINARY: serve, root key and an IAM user "bench".
start_sqlgate() {
	local d="$work/$1" port pp
	mkdir -p "$d"
	port=$(freeport) pp=$(freeport)
	sqlite3 "$d/lite.db" "PRAGMA journal_mode=WAL;
	CREATE TABLE $tbl (id int PRIMARY KEY, n1 int, n2 bigint, s1 varchar(32), s2 varchar(64), f1 double precision,
	d1 numeric(10,2), t1 timestamp, b1 boolean, s3 text);
	WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g+1 FROM s WHERE g < 100)
	INSERT INTO $tbl SELECT g, g*7, g*1000003, 'name-'||g, substr(lower(hex(g*1000003))||'0123456789abcdef0123456789abcdef', 1, 32),
	g/3.0, g*1.25, datetime('2024-01-02 03:04:05', '+'||g||' minutes'), g%2=0, substr('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 1, g%40) FROM s;
	CREATE TABLE $ins (id INTEGER PRIMARY KEY, v int)" >/dev/null
	cat >"$d/config.yaml" <<YAML
listen: {http: 127.0.0.1:$port}
clusters:
  - {name: pg, engine: postgres, address: 127.0.0.1:5432, database: sqlgate_test, max_connections: $POOL}
  - {name: maria, engine: mysql, address: 127.0.0.1:3306, database: sqlgate_test, max_connections: $POOL}
  - {name: lite, engine: sqlite, address: $d/lite.db, max_connections: $POOL}
YAML
	local a=(--config "$d/config.yaml" --data-dir "$d/data")
	for c in pg maria lite; do "$2" secrets create "app-$c" '{"username":"sqlgate","password":"sqlgatepw"}' "${a[@]}" >/dev/null; done
	"$2" users create bench "${a[@]}" >/dev/null
	"$2" keys create bench "${a[@]}" >"$d/key"
	cat >"$d/policy.json" <<'JSON'
{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["rds-data:ExecuteStatement","rds-data:BatchExecuteStatement"],"Resource":"arn:aws:rds:us-east-1:000000000000:cluster:*"},
 {"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:000000000000:secret:app-*"}]}
JSON
	"$2" policies attach bench data-api --file "$d/policy.json" "${a[@]}" >/dev/null
	pin "$2" serve "${a[@]}" --log-format json --pprof "127.0.0.1:$pp" >"$d/server.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break; sleep 0.2; done
	for p in root iam; do
		url[$1-$p]="http://127.0.0.1:$port" pid[$1-$p]=${pids[-1]} allocs[$1-$p]="http://127.0.0.1:$pp/debug/pprof/"
	done
	akid[$1-root]=$SQLGATE_ROOT_ACCESS_KEY_ID skey[$1-root]=$SQLGATE_ROOT_SECRET_ACCESS_KEY
	akid[$1-iam]=$(sed -n 's/^AWS_ACCESS_KEY_ID=//p' "$d/key") skey[$1-iam]=$(sed -n 's/^AWS_SECRET_ACCESS_KEY=//p' "$d/key")
}
# start_baseline LABEL MODE
start_baseline() {
	local port pp
	port=$(freeport) pp=$(freeport)
	pin "$work/bin/baseline" -mode "$2" -listen "127.0.0.1:$port" -pprof "127.0.0.1:$pp" -conns "$POOL" \
		-akid "$SQLGATE_ROOT_ACCESS_KEY_ID" -secret "$SQLGATE_ROOT_SECRET_ACCESS_KEY" \
		-pg "$PG_URL" -mysql "$MY_DSN" >"$work/$1.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.2; done
	url[$1]="http://127.0.0.1:$port" pid[$1]=${pids[-1]} allocs[$1]="http://127.0.0.1:$pp/debug/pprof/"
	akid[$1]=$SQLGATE_ROOT_ACCESS_KEY_ID skey[$1]=$SQLGATE_ROOT_SECRET_ACCESS_KEY
}
start_sqlgate sqlgate "$work/bin/sqlgate"
targets=(sqlgate-root sqlgate-iam)
if [ -n "$OLD" ]; then
	start_sqlgate old "$OLD"
	targets+=(old-root old-iam)
fi
start_baseline baseline minimal
start_baseline hello hello
targets+=(baseline hello direct)
url[direct]="" pid[direct]="" allocs[direct]="" akid[direct]="" skey[direct]=""

case_sql() {
	case $1 in
	select1) echo "SELECT 1" ;;
	rows100) echo "SELECT * FROM $tbl ORDER BY id" ;;
	insert) echo "INSERT INTO $ins (v) VALUES (:v)" ;;
	esac
}
mkdir -p bench/out
out="bench/out/dataapi-cpu-$(date -u +%Y%m%dT%H%M%SZ).txt" tsv="$work/res.tsv"
{
	echo "# $(date -u +%FT%TZ) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) head=$(git rev-parse --short HEAD) old=${OLD:-none} $(go version | cut -d' ' -f3)"
	echo "# T=$T warmup=$WARMUP rounds=$ROUNDS NS=$NS engines=$ENGINES cases=$CASES clients=$CLIENTS pool=$POOL pin=${PIN:-none}"
	echo "| round | engine | case | N | client | target | req/s | p50 µs | p99 µs | server CPU µs/req | allocs/req | errors | load1 |"
	echo "|---:|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"
} | tee "$out"
nt=${#targets[@]}
for r in $(seq "$ROUNDS"); do
	for e in $ENGINES; do for c in $CASES; do for n in $NS; do for cl in $CLIENTS; do
		order=("${targets[@]:$((r % nt))}" "${targets[@]:0:$((r % nt))}")
		for tg in "${order[@]}"; do
			# hello has no database: measure it once per N and client (pg, select1).
			if [ "$tg" = hello ] && { [ "$e" != pg ] || [ "$c" != select1 ]; }; then continue; fi
			# The frozen baseline and direct have no SQLite.
			if [ "$e" = lite ] && { [ "$tg" = baseline ] || [ "$tg" = direct ]; }; then continue; fi
			# direct (the database itself, for added latency) has no HTTP
			# client; it runs at N=1 only (the latency target), which also
			# keeps PostgreSQL's connection count down.
			ccl=$cl
			if [ "$tg" = direct ]; then
				[ "$cl" = raw ] && [ "$n" = 1 ] || continue
				ccl=direct
			fi
			param=-1
			[ "$c" = insert ] && param=7
			line=$("$work/bin/load" -url "${url[$tg]}" -akid "${akid[$tg]}" -secret "${skey[$tg]}" -client "$ccl" -n "$n" \
				-direct-pg "$PG_URL" -direct-mysql "$MY_DSN" \
				-duration "$T" -warmup "$WARMUP" -pid "${pid[$tg]}" -allocs "${allocs[$tg]}" -param "$param" \
				-resource-arn "arn:aws:rds:us-east-1:000000000000:cluster:$e" -secret-arn "app-$e" -sql "$(case_sql "$c")" 2>&1) ||
				{ echo "# $tg $e $c N=$n $cl failed: $line" | tee -a "$out"; continue; }
			IFS=$'\t' read -r ops rps p50 p99 cpu al errs first <<<"$line"
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$e" "$c" "$n" "$cl" "$tg" "$rps" "$p50" "$p99" "$cpu" "$al" >>"$tsv"
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$r" "$e" "$c" "$n" "$cl" "$tg" \
				"$rps" "$p50" "$p99" "$cpu" "$al" "$errs" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
			[ "$errs" = 0 ] || echo "#   first error: $first" | tee -a "$out"
		done
	done; done; done; done
done
{
	echo
	echo "Medians over $ROUNDS rounds:"
	echo
	echo "| engine | case | N | client | target | req/s | p50 µs | p99 µs | server CPU µs/req | allocs/req |"
	echo "|---|---|---:|---|---|---:|---:|---:|---:|---:|"
	for e in $ENGINES; do for c in $CASES; do for n in $NS; do for cl in $CLIENTS; do for tg in "${targets[@]}"; do
		grep -q -P "^$e\t$c\t$n\t$cl\t$tg\t" "$tsv" || continue
		printf '| %s | %s | %s | %s | %s |' "$e" "$c" "$n" "$cl" "$tg"
		for col in 6 7 8 9 10; do
			printf ' %s |' "$(awk -F'\t' -v e="$e" -v c="$c" -v n="$n" -v cl="$cl" -v t="$tg" -v k=$col \
				'$1 == e && $2 == c && $3 == n && $4 == cl && $5 == t { print $k }' "$tsv" |
				sort -g | awk '{ v[NR] = $1 } END { if (NR == 0 || v[1] == "-") print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
		done
		echo
	done; done; done; done; done
	echo
	echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$out"

# lib.sh holds the helpers that e2e/run.sh and its suites share: result
# counting, JSON comparison, free ports and starting/stopping sqlgate.
# It is sourced, never run.

PASSED=0
FAILED=0
FAILED_NAMES=()

# pass NAME records a passing check.
pass() {
	PASSED=$((PASSED + 1))
	printf 'PASS %s\n' "$1"
}

# fail NAME DETAIL records a failing check; DETAIL is cut to 600 characters.
fail() {
	local detail=${2:-}
	detail=${detail//$'\n'/ }
	FAILED=$((FAILED + 1))
	FAILED_NAMES+=("$1")
	printf 'FAIL %s: %.600s\n' "$1" "$detail"
}

# tally_output NAME RC OUTPUT counts the PASS/FAIL lines a child script
# printed; a child that exited non-zero without any FAIL line counts as one
# failure named NAME.
tally_output() {
	local name=$1 rc=$2 out=$3 p f
	p=$(grep -c '^PASS ' <<<"$out" || true)
	f=$(grep -c '^FAIL ' <<<"$out" || true)
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	if ((f > 0)); then
		while IFS= read -r line; do
			FAILED_NAMES+=("${line#FAIL }")
		done < <(grep '^FAIL ' <<<"$out" | cut -d: -f1)
	fi
	if ((rc != 0 && f == 0)); then
		fail "$name" "exited $rc without reporting a failure: $(tail -n 5 <<<"$out")"
	elif ((p == 0 && f == 0)); then
		fail "$name" "ran no check"
	fi
}

# json_eq GOT WANT succeeds when both parse as JSON and are equal.
json_eq() {
	python3 -c 'import json,sys
sys.exit(0 if json.loads(sys.argv[1]) == json.loads(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}

# json_get JSON EXPR prints the Python expression EXPR evaluated with d bound
# to the parsed JSON (strings raw, others as JSON); empty on any error.
json_get() {
	python3 -c 'import json,sys
d = json.loads(sys.argv[1])
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2" 2>/dev/null || true
}

# free_ports N prints N distinct free TCP ports on 127.0.0.1.
free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# wait_http URL SECONDS [CURL_ARGS...] polls URL until it answers 200.
wait_http() {
	local url=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		if curl -fsS -o /dev/null --max-time 2 "$@" "$url" 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# start_server VAR LOG HEALTH_URL ARGS... starts `sqlgate ARGS` in the
# background, stores its pid in VAR and waits up to 30 s for HEALTH_URL.
start_server() {
	local var=$1 log=$2 url=$3 pid i
	shift 3
	printf '\n==== %s sqlgate %s\n' "$(date -u +%FT%TZ)" "$*" >>"$log"
	"$BIN" "$@" >>"$log" 2>&1 </dev/null &
	pid=$!
	printf -v "$var" '%s' "$pid"
	for ((i = 0; i < 150; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# stop_server PID sends SIGTERM, waits up to 20 s, then SIGKILL.
stop_server() {
	local pid=$1 i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "sqlgate pid $pid ignored SIGTERM for 20s; killing" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# awsj ARGS... runs the aws CLI against $ENDPOINT with JSON output and a
# bounded time. Its stderr goes to $AWS_ERR (see aws_err).
awsj() {
	timeout 90 aws --endpoint-url "$ENDPOINT" --output json \
		--cli-connect-timeout 5 --cli-read-timeout 60 "$@" 2>"$AWS_ERR"
}

# aws_err prints the stderr of the last awsj, on one line.
aws_err() {
	tr '\n' ' ' <"$AWS_ERR" 2>/dev/null || true
}

# section TITLE prints a suite header with the seconds since run.sh started.
section() {
	printf -- '--- [%ss] %s\n' "$SECONDS" "$1"
}

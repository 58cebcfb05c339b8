#!/usr/bin/env bash
# .ci/fuzz.sh runs every Go fuzz target in the module with the fuzzing
# engine for FUZZTIME each (`make fuzz`; `make test` runs it with 10s).
#
# Each package with targets is compiled once, instrumented for fuzzing
# (`go test -c -fuzz=.`); its targets are listed from that binary and run
# from it in the package directory, so testdata/fuzz/<Target> is the
# committed corpus and a crasher is written there as a new regression case.
# FUZZJOBS targets run at a time (default: the number of CPUs), each with
# one fuzz worker. FUZZPKGS (package directories, e.g. "./internal/oidc")
# limits the run. The script exits non-zero when any target failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
FUZZJOBS=${FUZZJOBS:-$(nproc)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cache=$($GO env GOCACHE)/fuzz
start=$SECONDS

# Packages whose tests declare a fuzz target.
mapfile -t dirs < <(grep -rl --include='*_test.go' '^func Fuzz' ${FUZZPKGS:-.} | xargs -n1 dirname | sort -u)

# build_pkg DIR compiles DIR's tests for fuzzing and writes its targets
# to $tmp/targets.DIR-as-file-name (FUZZJOBS packages build at a time:
# most of a build is the link, which runs on one CPU).
build_pkg() {
	local d=$1 pkg bin
	pkg=$(cd "$d" && $GO list .)
	bin="$tmp/$(echo "$pkg" | tr / _).test"
	$GO test -c -fuzz=. -o "$bin" "$d"
	"$bin" -test.list '^Fuzz' | grep '^Fuzz' | while read -r name; do
		echo "$d $bin $cache/$pkg $name"
	done >"$tmp/targets.$(echo "$pkg" | tr / _)"
}
export -f build_pkg
export GO tmp cache
printf '%s\n' "${dirs[@]}" | xargs -P "$FUZZJOBS" -I{} bash -c 'build_pkg "$1"' _ {}
cat "$tmp"/targets.* >"$tmp/targets"
if (($(cut -d' ' -f2 "$tmp/targets" | sort -u | wc -l) != ${#dirs[@]})); then
	echo "fuzz: a package with fuzz targets did not build or list them" >&2
	exit 1
fi
echo "fuzz: built $(wc -l <"$tmp/targets") targets in ${#dirs[@]} packages in $((SECONDS - start))s"

# run_target DIR BIN CACHEDIR NAME fuzzes one target; output goes to a log
# printed when it fails. Go before 1.27 can fail a target with a bare
# "context deadline exceeded" when a starved worker misses the end of
# -fuzztime (go.dev/issue/75804): with no failing input written, that is
# not a finding, so the committed corpus is replayed and decides.
run_target() {
	local d=$1 bin=$2 cachedir=$3 name=$4 log
	log=$(mktemp)
	if (cd "$d" && "$bin" -test.run '^$' -test.fuzz "^$name\$" -test.fuzztime "$FUZZTIME" \
		-test.parallel 1 -test.fuzzcachedir "$cachedir") >"$log" 2>&1; then
		echo "ok   $d $name"
	elif grep -q '^    context deadline exceeded$' "$log" && ! grep -q 'Failing input written' "$log" &&
		(cd "$d" && "$bin" -test.run "^$name\$") >>"$log" 2>&1; then
		echo "ok   $d $name (fuzz coordinator deadline race, go.dev/issue/75804; corpus replay passed)"
	else
		echo "FAIL $d $name"
		grep -v '^fuzz: elapsed' "$log" | sed 's/^/    /'
		rm -f "$log"
		return 1
	fi
	rm -f "$log"
}
export -f run_target
export FUZZTIME

fuzzed=$SECONDS
if xargs -P "$FUZZJOBS" -L 1 bash -c 'run_target "$@"' _ <"$tmp/targets"; then
	status=0
else
	status=1
fi
echo "fuzz: ran $(wc -l <"$tmp/targets") targets for $FUZZTIME each, $FUZZJOBS at a time, in $((SECONDS - fuzzed))s (total $((SECONDS - start))s)"
exit $status

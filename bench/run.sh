#!/usr/bin/env bash
# Runs the Data API benchmark against the local
# MariaDB and PostgreSQL that `make services` starts, and tees the output to
# bench/out/bench-<timestamp>.txt. Extra arguments go to `go test`, e.g.
#   bench/run.sh -cpuprofile /tmp/cpu.out
# Environment knobs (see TestBenchDataAPI): SQLGATE_BENCH_DURATION,
# SQLGATE_BENCH_WARMUP, SQLGATE_BENCH_ROUNDS, SQLGATE_BENCH_N, SQLGATE_BENCH_CASES.
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLGATE_BENCH=1
export SQLGATE_TEST_MYSQL_DSN="${SQLGATE_TEST_MYSQL_DSN-sqlgate:sqlgatepw@tcp(127.0.0.1:3306)/sqlgate_test}"
export SQLGATE_TEST_PG_URL="${SQLGATE_TEST_PG_URL-postgres://sqlgate:sqlgatepw@127.0.0.1:5432/sqlgate_test}"
mkdir -p bench/out
out="bench/out/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
	echo "# $(date -u +%FT%TZ) nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs) load=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $(go version)"
	echo "# SQLGATE_BENCH=1 go test -count=1 -timeout 30m -run TestBenchDataAPI -v ./bench/ $*"
} | tee "$out"
go test -count=1 -timeout 30m -run TestBenchDataAPI -v ./bench/ "$@" 2>&1 | tee -a "$out"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"

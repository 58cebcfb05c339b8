#!/usr/bin/env bash
# Benchmarks the MySQL engine against the go-sql-driver engine it replaced,
# in one process: the old engine is extracted from git (REV, default the
# last commit that had it) into bench/legacymysql, built with the
# "legacyengine" tag, and removed afterwards.
#
#   bench/engine_compare.sh [REV] [extra go test flags]
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-d8291ff}
shift || true
dir=bench/legacymysql
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"
for f in engine.go conn.go field.go types.go bind.go errors.go; do
	git show "$rev:internal/engine/mysql/$f" >"$dir/$f"
done
sed -i 's/^package mysql$/package legacymysql/' "$dir"/*.go
: "${SQLGATE_TEST_MYSQL_DSN:?set SQLGATE_TEST_MYSQL_DSN}"
go test -tags legacyengine -run '^$' -bench 'MySQLEngine' -benchmem -count "${COUNT:-5}" "$@" ./bench/

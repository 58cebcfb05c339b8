#!/usr/bin/env bash
# Benchmarks the MySQL engine against the go-sql-driver engine it replaced,
# in one process: the old engine is extracted from git (REV, default the
# last commit that had it) into bench/legacymysql, built with the
# "legacyengine" tag, and removed afterwards.
#
#   ROUNDS=5 bench/engine_compare.sh [REV] [extra test binary flags, e.g. -test.benchtime=2s]
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-d8291ff}
shift || true
dir=bench/legacymysql
legacy=bench/mysqlengine_legacy_test.go
trap 'rm -rf "$dir" "$legacy"' EXIT
mkdir -p "$dir"
for f in engine.go conn.go field.go types.go bind.go errors.go; do
	git show "$rev:internal/engine/mysql/$f" >"$dir/$f"
done
sed -i 's/^package mysql$/package legacymysql/' "$dir"/*.go
# The registration file exists only while the script runs, so that the
# module (go mod tidy, go vet) never sees an import of the generated package.
cat >"$legacy" <<'GO'
//go:build legacyengine

package bench

import (
	"github.com/sqlgate/sqlgate/bench/legacymysql"
	"github.com/sqlgate/sqlgate/internal/engine"
)

// The go-sql-driver engine, extracted by engine_compare.sh.
func init() {
	engines = append(engines, struct {
		name string
		open func(addr string) engine.Engine
	}{"old", func(addr string) engine.Engine { return legacymysql.New(legacymysql.Config{Address: addr}) }})
}
GO
: "${SQLGATE_TEST_MYSQL_DSN:?set SQLGATE_TEST_MYSQL_DSN}"
# ROUNDS separate runs, so old and new alternate through the load changes
# of a shared machine (go test -count would run each variant's repeats
# back to back).
go test -tags legacyengine -c -o "$dir/bench.test" ./bench/
for _ in $(seq "${ROUNDS:-5}"); do
	"$dir/bench.test" -test.run '^$' -test.bench 'MySQLEngine' -test.benchmem "$@"
done

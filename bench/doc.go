// Package bench measures sqlgate's Data API against the database drivers it
// fronts: N goroutines running SELECT 1 through ExecuteStatement (the AWS
// SDK client and a minimal hand-signed HTTP client) versus the same N
// goroutines on pgx or go-sql-driver/mysql directly, and the proxies beside
// PgBouncer and haproxy. The package holds only tests; run it with run.sh or
//
//	SQLGATE_BENCH=1 go test -run TestBenchDataAPI -v ./bench/
//
// dataapi_cpu.sh measures the real `sqlgate serve` as its own process
// beside two frozen yardsticks in bench/cmd/dataapi-baseline (a minimal Go
// server doing the same job, and a hello-world net/http server), driven by
// the separate load generator bench/cmd/dataapi-load; server CPU per
// request comes from /proc/PID/stat.
//
// The proxy benchmarks (pgbench_cpu.sh, pgbench_isolation.sh,
// sysbench.sh and its serve, isolation and profile modes, callgrind.sh,
// proxy_scale.sh) likewise run the real `sqlgate serve` binary built from
// ./cmd/sqlgate as its own process (serve.sh starts it for all but
// proxy_scale.sh), never the proxy inside a test binary; the tests here
// only generate load for them. pgbench_cpu.sh compares PgBouncer and two
// sqlgate binaries (DIRECT=1 adds PostgreSQL itself); with FLOOR=1 it also runs
// bench/cmd/relay-floor, a one-to-one TCP relay without pooling or parsing
// in three runtime models (goroutines, an epoll loop, goroutine-style code
// as coroutines of that loop): the least a Go relay spends per transaction
// in each.
//
// Results and the command used are recorded in RESULTS.md.
package bench

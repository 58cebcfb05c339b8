package bench

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/proxy/mysqlproxy"
)

// TestBenchMySQLProxyServe runs the MySQL proxy in front of
// SQLGATE_TEST_MYSQL_DSN on SQLGATE_BENCH_PROXY_ADDR until SIGTERM or
// SIGINT, for bench/sysbench.sh. It needs
// SQLGATE_BENCH=1. It uses the same mysqlproxy.Server the sqlgate binary
// starts for an engine: mysql cluster's proxy section, with the DSN's user
// as the auth secret (the DSN's database as the default schema) and a
// budget of SQLGATE_BENCH_PROXY_POOL backend connections (default 20).
// SQLGATE_BENCH_PROXY_ISOLATION sets the proxy's isolation mode (default
// or strict). With -test.cpuprofile the profile is written when the
// signal arrives.
func TestBenchMySQLProxyServe(t *testing.T) {
	if os.Getenv("SQLGATE_BENCH") != "1" {
		t.Skip("SQLGATE_BENCH=1 not set (run bench/sysbench.sh)")
	}
	addr := os.Getenv("SQLGATE_BENCH_PROXY_ADDR")
	if addr == "" {
		t.Skip("SQLGATE_BENCH_PROXY_ADDR unset (run bench/sysbench.sh)")
	}
	db, err := mysql.ParseDSN(os.Getenv("SQLGATE_TEST_MYSQL_DSN"))
	if err != nil || db.Addr == "" {
		t.Fatalf("SQLGATE_TEST_MYSQL_DSN unset or invalid: %v", err)
	}
	n := benchProxyPool(t)
	cl := benchProxyCluster("my", "mysql", db.Addr, n, addr)
	cl.Database = db.DBName
	secret := fmt.Sprintf(`{"username":%q,"password":%q,"dbname":%q}`, db.User, db.Passwd, db.DBName)
	srv, err := mysqlproxy.New(benchProxyDeps(t, cl, secret))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := listenUntilSignal(t, srv)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The label lets `go tool pprof -tagfocus side=sqlgate` drop the
		// test harness; every session goroutine inherits it.
		pprof.Do(context.Background(), pprof.Labels("side", "sqlgate"), func(c context.Context) {
			_ = srv.Serve(c)
		})
	}()
	fmt.Println("mysqlproxy listening on", srv.Addr())
	// The most backend connections open at once (busy + idle), sampled.
	maxOpen := 0
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case <-tick.C:
			st := srv.PoolStats()
			maxOpen = max(maxOpen, st.Busy+st.Idle)
		}
	}
	fmt.Printf("mysqlproxy stopping; pool %+v, max open backend connections %d (budget %d)\n", srv.PoolStats(), maxOpen, n)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	<-done
}

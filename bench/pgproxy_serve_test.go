package bench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/proxy/pgproxy"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestBenchPGProxyServe runs the PostgreSQL proxy in front of
// SQLGATE_TEST_PG_URL on SQLGATE_BENCH_PROXY_ADDR until SIGTERM, for
// bench/pgbench.sh. It uses the same pgproxy.Server the sqlgate binary
// starts for a cluster's proxy section, with the database user as the
// auth secret and a budget of SQLGATE_BENCH_PROXY_POOL (default 20);
// SQLGATE_BENCH_PROXY_ISOLATION sets the proxy's isolation mode.
func TestBenchPGProxyServe(t *testing.T) {
	addr := os.Getenv("SQLGATE_BENCH_PROXY_ADDR")
	if addr == "" {
		t.Skip("SQLGATE_BENCH_PROXY_ADDR unset (run bench/pgbench.sh)")
	}
	u, err := url.Parse(os.Getenv("SQLGATE_TEST_PG_URL"))
	if err != nil || u.Host == "" {
		t.Fatal("SQLGATE_TEST_PG_URL unset or invalid")
	}
	n := benchProxyPool(t)
	pw, _ := u.User.Password()
	cl := benchProxyCluster("pg", "postgres", u.Host, n, addr)
	secret := fmt.Sprintf(`{"username":%q,"password":%q}`, u.User.Username(), pw)
	srv, err := pgproxy.New(benchProxyDeps(t, cl, secret))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := listenUntilSignal(t, srv)
	defer stop()
	go func() { _ = srv.Serve(context.Background()) }()
	fmt.Println("pgproxy listening on", srv.Addr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
}

// benchProxyPool is SQLGATE_BENCH_PROXY_POOL, the proxy's connection
// budget (default 20).
func benchProxyPool(t *testing.T) int {
	n := 20
	if v := os.Getenv("SQLGATE_BENCH_PROXY_POOL"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("SQLGATE_BENCH_PROXY_POOL=%q: want a positive integer", v)
		}
	}
	return n
}

// benchProxyCluster is the cluster a proxy serve test runs: the proxy on
// addr in front of backend with a budget of n, the auth secret "app", no
// TLS and no IAM auth, limits far above what the benchmarks reach, and
// SQLGATE_BENCH_PROXY_ISOLATION as its isolation mode.
func benchProxyCluster(name, engine, backend string, n int, addr string) config.Cluster {
	return config.Cluster{Name: name, Engine: engine, Address: backend, MaxConnections: n, TLS: config.ClusterTLS{Mode: "disable"},
		Proxy: &config.Proxy{Listen: addr, AuthSecrets: []string{"app"}, IAMAuth: "disabled", MaxClientConnections: 20000,
			BorrowTimeout: 120 * time.Second, IdleClientTimeout: 30 * time.Minute,
			Isolation: os.Getenv("SQLGATE_BENCH_PROXY_ISOLATION")}}
}

// benchProxyDeps are the dependencies of a serve test's proxy for cl: its
// budget of cl.MaxConnections and the auth secret "app" holding secret.
func benchProxyDeps(t *testing.T, cl config.Cluster, secret string) proxy.Deps {
	return proxy.Deps{Cluster: cl, DataDir: t.TempDir(), Budget: proxytest.NewBudget(cl.MaxConnections),
		Secrets: proxytest.NewSecrets(map[string]string{"app": secret})}
}

// listenUntilSignal starts srv listening; the context ends at SIGTERM or
// an interrupt, when the serve test shuts it down.
func listenUntilSignal(t *testing.T, srv testdb.Server) (context.Context, context.CancelFunc) {
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
}

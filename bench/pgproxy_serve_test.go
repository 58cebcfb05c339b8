package bench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/proxy/pgproxy"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
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
	n := 20
	if v := os.Getenv("SQLGATE_BENCH_PROXY_POOL"); v != "" {
		_, _ = fmt.Sscan(v, &n)
	}
	pw, _ := u.User.Password()
	cl := config.Cluster{Name: "pg", Engine: "postgres", Address: u.Host, MaxConnections: n, TLS: config.ClusterTLS{Mode: "disable"},
		Proxy: &config.Proxy{Listen: addr, AuthSecrets: []string{"app"}, IAMAuth: "disabled", MaxClientConnections: 20000,
			BorrowTimeout: 120 * time.Second, IdleClientTimeout: 30 * time.Minute,
			Isolation: os.Getenv("SQLGATE_BENCH_PROXY_ISOLATION")}}
	secret := fmt.Sprintf(`{"username":%q,"password":%q}`, u.User.Username(), pw)
	srv, err := pgproxy.New(proxy.Deps{Cluster: cl, DataDir: t.TempDir(), Budget: proxytest.NewBudget(n),
		Secrets: proxytest.NewSecrets(map[string]string{"app": secret})})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { _ = srv.Serve(context.Background()) }()
	fmt.Println("pgproxy listening on", srv.Addr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
}

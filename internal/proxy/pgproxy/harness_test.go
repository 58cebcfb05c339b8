package pgproxy

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/fairshare"
	"github.com/sqlgate/sqlgate/internal/metrics"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// testProxy is a running proxy in front of the test database.
type testProxy struct {
	srv    *Server
	addr   string
	budget *proxytest.Budget
	logs   *testdb.LogBuffer
	reg    *metrics.Registry // the proxy's metrics
	db     *url.URL          // direct URL
	user   string
	pass   string
	dbname string
	// shares, when set before serve, is the cluster's per-principal
	// accounting.
	shares *fairshare.Shares
}

type opt func(*config.Cluster)

// startProxy runs a proxy with pool budget n in front of SQLGATE_TEST_PG_URL
// (or backendAddr when set, e.g. a fault relay).
func startProxy(t testing.TB, n int, opts ...opt) *testProxy {
	t.Helper()
	tp, cl := newTestProxy(t, n, opts...)
	tp.serve(t, cl, proxytest.Tokens{})
	return tp
}

// newTestProxy is startProxy before serve.
func newTestProxy(t testing.TB, n int, opts ...opt) (*testProxy, config.Cluster) {
	t.Helper()
	u, err := url.Parse(testdb.PGURL(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	tp := &testProxy{budget: proxytest.NewBudget(n), db: u, user: u.User.Username(), pass: pw, dbname: u.Path[1:]}
	cl := config.Cluster{Name: "pg", Engine: "postgres", Address: u.Host, MaxConnections: n, TLS: config.ClusterTLS{Mode: "disable"},
		Proxy: &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{"app"}, IAMAuth: "disabled",
			MaxClientConnections: 10000, BorrowTimeout: 10 * time.Second, IdleClientTimeout: time.Minute}}
	for _, o := range opts {
		o(&cl)
	}
	return tp, cl
}

// serve runs a proxy for cl whose auth secret "app" holds tp's user,
// password and database.
func (tp *testProxy) serve(t testing.TB, cl config.Cluster, tokens proxy.TokenVerifier) {
	t.Helper()
	secrets := proxytest.NewSecrets(map[string]string{
		"app": fmt.Sprintf(`{"username":%q,"password":%q,"dbname":%q}`, tp.user, tp.pass, tp.dbname)})
	log, logs := proxytest.Logger()
	tp.reg = metrics.NewRegistry()
	srv, err := New(proxy.Deps{Cluster: cl, DataDir: t.TempDir(), Budget: tp.budget, Secrets: secrets, Tokens: tokens, Log: log, Metrics: tp.reg, Shares: tp.shares})
	if err != nil {
		t.Fatal(err)
	}
	tp.srv, tp.logs = srv, logs
	tp.addr = testdb.Serve(t, srv)
}

// url returns a client URL through the proxy.
func (tp *testProxy) url(extra string) string {
	host, port, _ := net.SplitHostPort(tp.addr)
	u := fmt.Sprintf("postgres://%s:%s@%s:%s/%s?sslmode=disable", url.PathEscape(tp.user), url.PathEscape(tp.pass), host, port, tp.dbname)
	if extra != "" {
		u += "&" + extra
	}
	return u
}

func (tp *testProxy) connect(t testing.TB, extra string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, tp.url(extra))
	if err != nil {
		t.Fatalf("connect through proxy: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// direct opens a connection straight to the database.
func (tp *testProxy) direct(t testing.TB) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), tp.db.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func queryString(t testing.TB, c *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := c.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func exec(t testing.TB, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// waitRunning waits until a backend runs query (pg_stat_activity, seen
// through the direct connection d).
func waitRunning(t testing.TB, d *pgx.Conn, query string) {
	t.Helper()
	testdb.Eventually(t, 10*time.Second, 10*time.Millisecond, "backend running "+query, func() bool {
		return queryString(t, d, "select count(*)::text from pg_stat_activity where state = 'active' and query = $1", query) != "0"
	})
}

// waitClosed waits until the proxy closes c's connection.
func waitClosed(t testing.TB, c *pgx.Conn) {
	t.Helper()
	proxytest.WaitClosed(t, c.PgConn().Conn())
}

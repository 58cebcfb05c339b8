package pgproxy

import (
	"github.com/sqlgate/sqlgate/internal/testdb"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

func pgURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("SQLGATE_TEST_PG_URL"); u != "" {
		return u
	}
	if os.Getenv("SQLGATE_REQUIRE_DB") != "" {
		t.Fatal("SQLGATE_TEST_PG_URL unset")
	}
	t.Skip("no PostgreSQL configured")
	return ""
}

// fakeSecrets is a SecretReader over a map of id → JSON.
type fakeSecrets struct {
	mu sync.Mutex
	m  map[string]string
}

func (f *fakeSecrets) SecretString(_ context.Context, id string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[id]
	if !ok {
		return "", "", errors.New("secret not found")
	}
	return "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + id, v, nil
}

// fakeTokens accepts tokens equal to "Action=connect&X-Amz-Signature=ok-<user>".
type fakeTokens struct{}

func (fakeTokens) VerifyDBToken(_ context.Context, token, cluster, user string) error {
	if token != iamToken(user) {
		return errors.New("bad token")
	}
	return nil
}

func iamToken(user string) string {
	return "127.0.0.1:5432/?Action=connect&DBUser=" + user + "&X-Amz-Signature=ok-" + user
}

// semBudget is a Budget of n slots.
type semBudget struct{ ch chan struct{} }

func newBudget(n int) *semBudget { return &semBudget{ch: make(chan struct{}, n)} }

func (b *semBudget) Reserve(ctx context.Context) (func(), error) {
	select {
	case b.ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-b.ch }) }, nil
	default:
	}
	select {
	case b.ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-b.ch }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (b *semBudget) used() int { return len(b.ch) }

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer = testdb.LogBuffer

// testProxy is a running proxy in front of the test database.
type testProxy struct {
	srv    *Server
	addr   string
	budget *semBudget
	logs   *syncBuffer
	db     *url.URL // direct URL
	user   string
	pass   string
	dbname string
}

type opt func(*config.Cluster)

// startProxy runs a proxy with pool budget n in front of SQLGATE_TEST_PG_URL
// (or backendAddr when set, e.g. a fault relay).
func startProxy(t testing.TB, n int, opts ...opt) *testProxy {
	t.Helper()
	u, err := url.Parse(pgURL(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	tp := &testProxy{budget: newBudget(n), logs: &syncBuffer{}, db: u, user: u.User.Username(), pass: pw, dbname: u.Path[1:]}
	cl := config.Cluster{Name: "pg", Engine: "postgres", Address: u.Host, MaxConnections: n, TLS: config.ClusterTLS{Mode: "disable"},
		Proxy: &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{"app"}, IAMAuth: "disabled",
			MaxClientConnections: 10000, BorrowTimeout: 10 * time.Second, IdleClientTimeout: time.Minute}}
	for _, o := range opts {
		o(&cl)
	}
	secrets := &fakeSecrets{m: map[string]string{
		"app": fmt.Sprintf(`{"username":%q,"password":%q,"dbname":%q}`, tp.user, tp.pass, tp.dbname)}}
	log := slog.New(slog.NewTextHandler(tp.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(proxy.Deps{Cluster: cl, DataDir: t.TempDir(), Budget: tp.budget, Secrets: secrets, Tokens: fakeTokens{}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	t.Cleanup(func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(sctx)
		cancel()
		<-done
	})
	tp.srv, tp.addr = srv, srv.Addr().String()
	return tp
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

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

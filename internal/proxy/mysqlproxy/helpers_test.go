package mysqlproxy

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/metrics"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// mysqlDSN returns the test database, skipping when none is configured
// and failing when CI provisioned one (SQLGATE_REQUIRE_DB).
func mysqlDSN(t testing.TB) *mysql.Config {
	t.Helper()
	dsn := os.Getenv("SQLGATE_TEST_MYSQL_DSN")
	if dsn == "" {
		if os.Getenv("SQLGATE_REQUIRE_DB") != "" {
			t.Fatal("SQLGATE_TEST_MYSQL_DSN unset")
		}
		t.Skip("no MySQL configured (SQLGATE_TEST_MYSQL_DSN)")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("parse SQLGATE_TEST_MYSQL_DSN: %v", err)
	}
	return cfg
}

// fakeSecrets maps secret ids to SecretString JSON.
type fakeSecrets struct {
	mu sync.Mutex // guards m
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

// fakeBudget is a max_connections budget of n slots.
type fakeBudget struct{ ch chan struct{} }

func newBudget(n int) *fakeBudget { return &fakeBudget{ch: make(chan struct{}, n)} }

func (b *fakeBudget) Reserve(ctx context.Context) (func(), error) {
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

// fakeTokens accepts tokens ending in X-Amz-Signature=good for DBUser=user.
type fakeTokens struct{}

const goodToken = "127.0.0.1:13307/?Action=connect&DBUser=%s&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=good"

func (fakeTokens) VerifyDBToken(_ context.Context, token, _, user string) error {
	if token == fmt.Sprintf(goodToken, user) {
		return nil
	}
	return errors.New("bad signature")
}

// syncBuffer is a log sink safe for concurrent sessions.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testProxy struct {
	srv    *Server
	addr   string
	db     *mysql.Config // the backend
	logs   *syncBuffer
	reg    *metrics.Registry
	budget *fakeBudget
	relay  *faultRelay
}

type proxyOpts struct {
	pool          int
	borrowTimeout time.Duration
	requireTLS    bool
	iam           string
	maxClients    int
	plugin        string
	initQuery     string
	relay         bool // put a faultRelay between proxy and database
	isolation     string
	noDatabase    bool // the cluster names no database (clients may have none)
}

// startProxy runs a proxy in front of the test database; clients log in
// with the database's own user and password (the auth secret).
func startProxy(t testing.TB, o proxyOpts) *testProxy {
	t.Helper()
	db := mysqlDSN(t)
	if o.pool == 0 {
		o.pool = 4
	}
	if o.iam == "" {
		o.iam = "optional"
	}
	secret := fmt.Sprintf(`{"username":%q,"password":%q}`, db.User, db.Passwd)
	addr := db.Addr
	var relay *faultRelay
	if o.relay {
		relay = newFaultRelay(t, db.Addr)
		addr = relay.addr()
	}
	cl := config.Cluster{Name: "my", Engine: "mysql", Address: addr, Database: db.DBName, MaxConnections: o.pool,
		Proxy: &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{"app-db"}, IAMAuth: o.iam,
			RequireTLS: o.requireTLS, MaxClientConnections: o.maxClients, BorrowTimeout: o.borrowTimeout, InitQuery: o.initQuery,
			Isolation: o.isolation}}
	if o.noDatabase {
		cl.Database = ""
	}
	logs := &syncBuffer{}
	tp := &testProxy{db: db, logs: logs, reg: metrics.NewRegistry(), budget: newBudget(o.pool), relay: relay}
	srv, err := New(proxy.Deps{Cluster: cl, DataDir: t.TempDir(), Budget: tp.budget,
		Secrets: &fakeSecrets{m: map[string]string{"app-db": secret}}, Tokens: fakeTokens{}, Metrics: tp.reg,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if o.plugin != "" {
		srv.greetPlugin = o.plugin
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	tp.srv, tp.addr = srv, srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		cancel()
		<-done
	})
	return tp
}

// dsn is a go-sql-driver DSN for the proxy; extra is appended as params.
func (tp *testProxy) dsn(extra string) string {
	d := fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=5s", tp.db.User, tp.db.Passwd, tp.addr, tp.db.DBName)
	if extra != "" {
		d += "&" + extra
	}
	return d
}

// open returns a database/sql handle through the proxy.
func (tp *testProxy) open(t testing.TB, extra string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", tp.dsn(extra))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// direct returns a handle on the database itself, bypassing the proxy.
func (tp *testProxy) direct(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", tp.db.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// conn returns one dedicated client connection.
func (tp *testProxy) conn(t testing.TB, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func queryString(t testing.TB, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, query string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := q.QueryRowContext(context.Background(), query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s.String
}

func mustExec(t testing.TB, e interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) sql.Result {
	t.Helper()
	r, err := e.ExecContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return r
}

func mysqlErrNo(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// waitIdle waits until no backend is borrowed (sessions end asynchronously).
func (tp *testProxy) waitIdle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for tp.srv.PoolStats().Busy != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("backends still borrowed: %+v", tp.srv.PoolStats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ping opens one connection with dsn and pings.
func ping(dsn string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

package mysqlproxy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/metrics"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// mysqlDSN returns the test database (testdb.MySQLDSN), parsed.
func mysqlDSN(t testing.TB) *mysql.Config {
	t.Helper()
	cfg, err := mysql.ParseDSN(testdb.MySQLDSN(t))
	if err != nil {
		t.Fatalf("parse SQLGATE_TEST_MYSQL_DSN: %v", err)
	}
	return cfg
}

type testProxy struct {
	srv    *Server
	addr   string
	db     *mysql.Config // the backend
	logs   *testdb.LogBuffer
	reg    *metrics.Registry
	budget *proxytest.Budget
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
	noDatabase    bool   // the cluster names no database (clients may have none)
	address       string // dial this (a test's own relay) instead of the database
	idleTimeout   time.Duration
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
		addr = relay.Addr()
	}
	if o.address != "" {
		addr = o.address
	}
	cl := config.Cluster{Name: "my", Engine: "mysql", Address: addr, Database: db.DBName, MaxConnections: o.pool,
		Proxy: &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{"app-db"}, IAMAuth: o.iam,
			RequireTLS: o.requireTLS, MaxClientConnections: o.maxClients, BorrowTimeout: o.borrowTimeout, InitQuery: o.initQuery,
			Isolation: o.isolation, IdleClientTimeout: o.idleTimeout}}
	if o.noDatabase {
		cl.Database = ""
	}
	log, logs := proxytest.Logger()
	tp := &testProxy{db: db, logs: logs, reg: metrics.NewRegistry(), budget: proxytest.NewBudget(o.pool), relay: relay}
	srv, err := New(proxy.Deps{Cluster: cl, DataDir: t.TempDir(), Budget: tp.budget,
		Secrets: proxytest.NewSecrets(map[string]string{"app-db": secret}), Tokens: proxytest.Tokens{}, Metrics: tp.reg, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if o.plugin != "" {
		srv.greetPlugin = o.plugin
	}
	tp.srv, tp.addr = srv, testdb.Serve(t, srv)
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
	testdb.Eventually(t, 3*time.Second, 10*time.Millisecond, "no backend borrowed", func() bool { return tp.srv.PoolStats().Busy == 0 })
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

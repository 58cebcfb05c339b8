package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// runningServer is a sqlgate started with Run on loopback ports, as the
// binary runs it, with both proxies.
type runningServer struct {
	srv     *Server
	logs    *syncBuffer
	data    *rdsdata.Client
	secrets *secretsmanager.Client
	pg, my  dbTarget
	pgProxy string // host:port
	myProxy string
	stop    context.CancelFunc // cancels Run's ctx (SIGTERM)
	done    chan error         // Run's result
}

// proxyTargets returns the test databases as clusters "pg" and "maria"
// with max_connections n, a 1 s Data API borrow timeout and a proxy on a
// free port whose auth secret is "<cluster>-proxy".
func proxyTargets(t *testing.T, n int) (pg, my dbTarget) {
	pg, my = pgTarget(t, "pg"), mysqlTarget(t, "maria")
	for _, tg := range []*dbTarget{&pg, &my} {
		tg.cluster.MaxConnections = n
		tg.cluster.Limits.BorrowTimeout = time.Second
		tg.cluster.Proxy = &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{tg.cluster.Name + "-proxy"},
			BorrowTimeout: 2 * time.Second}
	}
	return pg, my
}

// startRunning runs a Server over cfg until the test ends (or rs.stop) and
// creates the proxies' auth secrets through the Secrets Manager API.
func startRunning(t *testing.T, cfg *config.Config, pg, my dbTarget) *runningServer {
	t.Helper()
	t.Setenv("SQLGATE_ROOT_ACCESS_KEY_ID", testAKID)
	t.Setenv("SQLGATE_ROOT_SECRET_ACCESS_KEY", testSecret)
	cfg.DataDir = t.TempDir()
	cfg.Listen = config.Listen{HTTP: "127.0.0.1:0"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	rs := &runningServer{logs: &syncBuffer{}, pg: pg, my: my, done: make(chan error, 1)}
	srv, err := New(context.Background(), cfg, Options{Log: slog.New(slog.NewTextHandler(rs.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	rs.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	rs.stop = cancel
	go func() { rs.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-rs.done:
		case <-time.After(40 * time.Second):
			t.Error("Run did not return after its ctx was cancelled")
		}
	})
	testdb.Eventually(t, 10*time.Second, 10*time.Millisecond, "listeners", func() bool { return len(srv.Addrs()) == 1 && len(srv.ProxyAddrs()) >= 2 })
	// Proxies start in cluster order: pg, then maria (then the
	// additional endpoints of maria's proxy, if any).
	rs.pgProxy, rs.myProxy = srv.ProxyAddrs()[0].String(), srv.ProxyAddrs()[1].String()
	endpoint := "http://" + srv.Addrs()[0].String()
	creds := credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")
	rs.data = rdsdata.New(rdsdata.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1})
	rs.secrets = secretsmanager.New(secretsmanager.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1})
	for _, tg := range []dbTarget{pg, my} {
		v := fmt.Sprintf(`{"username":%q,"password":%q}`, tg.user, tg.password)
		if _, err := rs.secrets.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
			Name: aws.String(tg.cluster.Name + "-proxy"), SecretString: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	return rs
}

// pgConnect connects to the PG proxy with the secret's password.
func (rs *runningServer) pgConnect(t *testing.T) *pgx.Conn {
	t.Helper()
	u := fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", url.PathEscape(rs.pg.user), url.PathEscape(rs.pg.password),
		rs.pgProxy, rs.pg.cluster.Database)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect through the pg proxy: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// myDB opens go-sql-driver/mysql on the MySQL proxy.
func (rs *runningServer) myDB(t *testing.T) *sql.DB {
	t.Helper()
	mc := mysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = rs.my.user, rs.my.password, "tcp", rs.myProxy, rs.my.cluster.Database
	mc.Timeout = 10 * time.Second
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// dataAPI runs sql on cluster through ExecuteStatement with its secret.
func (rs *runningServer) dataAPI(ctx context.Context, cluster, sql string) error {
	_, err := rs.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{
		ResourceArn: aws.String(rs.srv.ClusterARN(cluster)), SecretArn: aws.String(cluster + "-proxy"), Sql: aws.String(sql)})
	return err
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestServer_Proxies(t *testing.T) {
	ctx := context.Background()
	// Each case gets its own server: idle proxy connections left by one
	// case would hold the next one's budget.
	start := func(t *testing.T) *runningServer {
		pg, my := proxyTargets(t, 2)
		return startRunning(t, configFor(pg, my), pg, my)
	}

	t.Run("pgx and go-sql-driver", func(t *testing.T) {
		rs := start(t)
		var got string
		if err := rs.pgConnect(t).QueryRow(ctx, "select 'pg ' || current_user").Scan(&got); err != nil || got != "pg "+rs.pg.user {
			t.Fatalf("pg: %q %v", got, err)
		}
		if err := rs.myDB(t).QueryRowContext(ctx, "select concat('my ', current_user())").Scan(&got); err != nil || !strings.HasPrefix(got, "my "+rs.my.user+"@") {
			t.Fatalf("mysql: %q %v", got, err)
		}
		if got, want := metricOf(t, rs, "sqlgate_go_processors"), strconv.Itoa(runtime.GOMAXPROCS(0)); got != want {
			t.Fatalf("sqlgate_go_processors %q, want %s", got, want)
		}
	})

	// max_connections 2 is one budget for both doors: two proxy
	// transactions hold it all, so a Data API call waits borrow_timeout
	// and is throttled; once they end the Data API gets a connection.
	t.Run("shared budget pg", func(t *testing.T) {
		rs := start(t)
		a, b := rs.pgConnect(t), rs.pgConnect(t)
		for _, c := range []*pgx.Conn{a, b} {
			if _, err := c.Exec(ctx, "begin; select 1"); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		err := rs.dataAPI(ctx, "pg", "select 1")
		if errorCode(err) != "ThrottlingException" || time.Since(start) < 900*time.Millisecond {
			t.Fatalf("Data API with the budget held by the proxy: %v after %v, want ThrottlingException after ~1s", err, time.Since(start))
		}
		for _, c := range []*pgx.Conn{a, b} {
			if _, err := c.Exec(ctx, "commit"); err != nil {
				t.Fatal(err)
			}
		}
		// The proxy reuses its (now idle) connections for new transactions.
		for _, c := range []*pgx.Conn{b, a, rs.pgConnect(t)} {
			if _, err := c.Exec(ctx, "select 1"); err != nil {
				t.Fatal(err)
			}
		}
	})

	// And the other way round: Data API transactions hold the budget, a
	// proxy client that needs a connection gets borrow_timeout's error
	// and keeps its session.
	t.Run("shared budget mysql", func(t *testing.T) {
		rs := start(t)
		db := rs.myDB(t)
		conns := make([]*sql.Conn, 0, 2)
		var txIDs []string
		for range 2 {
			out, err := rs.data.BeginTransaction(ctx, &rdsdata.BeginTransactionInput{
				ResourceArn: aws.String(rs.srv.ClusterARN("maria")), SecretArn: aws.String("maria-proxy")})
			if err != nil {
				t.Fatal(err)
			}
			txIDs = append(txIDs, *out.TransactionId)
		}
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		start := time.Now()
		_, err = c.ExecContext(ctx, "select 1")
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1205 || time.Since(start) < 1500*time.Millisecond {
			t.Fatalf("proxy with the budget held by the Data API: %v after %v, want 1205 after ~2s", err, time.Since(start))
		}
		for _, id := range txIDs {
			if _, err := rs.data.RollbackTransaction(ctx, &rdsdata.RollbackTransactionInput{
				ResourceArn: aws.String(rs.srv.ClusterARN("maria")), SecretArn: aws.String("maria-proxy"), TransactionId: aws.String(id)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.ExecContext(ctx, "select 1"); err != nil {
			t.Fatalf("same proxy session after the Data API released: %v", err)
		}
		for _, c := range conns {
			_ = c.Close()
		}
	})

	// Idle proxy connections hold budget slots; the Data API must still be
	// able to get one (docs/proxy.md: "Idle Data API connections are closed
	// to make room for the proxy and vice versa").
	t.Run("idle proxy connections yield to the data api", func(t *testing.T) {
		// The cluster pool asks the proxies' pools (AddEvictor) to close
		// an idle connection before a Data API call waits for a slot.
		rs := start(t)
		a, b := rs.pgConnect(t), rs.pgConnect(t)
		for _, c := range []*pgx.Conn{a, b} {
			if _, err := c.Exec(ctx, "begin; select 1"); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []*pgx.Conn{a, b} {
			if _, err := c.Exec(ctx, "commit"); err != nil {
				t.Fatal(err)
			}
		}
		// Both proxy connections are idle now and hold the whole budget.
		if err := rs.dataAPI(ctx, "pg", "select 1"); err != nil {
			t.Fatalf("Data API with only idle proxy connections: %v", err)
		}
	})
}

// Shutdown (SIGTERM = Run's ctx cancelled) lets open proxy transactions
// commit, then closes their clients cleanly with the protocol's shutdown
// error; idle clients are closed at once.
func TestServer_ProxyShutdown(t *testing.T) {
	pg, my := proxyTargets(t, 4)
	rs := startRunning(t, configFor(pg, my), pg, my)
	ctx := context.Background()
	inTx, idle := rs.pgConnect(t), rs.pgConnect(t)
	if _, err := inTx.Exec(ctx, "begin; select 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := idle.Exec(ctx, "select 1"); err != nil {
		t.Fatal(err)
	}
	db := rs.myDB(t)
	myTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := myTx.ExecContext(ctx, "select 1"); err != nil {
		t.Fatal(err)
	}

	rs.stop()
	// The idle client was told the server is going away (57P01, read and
	// dropped by WaitClosed), then closed.
	proxytest.WaitClosed(t, idle.PgConn().Conn())
	if _, err := idle.Exec(ctx, "select 1"); err == nil {
		t.Fatal("idle client still served after shutdown began")
	} else if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code != "57P01" {
		t.Fatalf("idle client: %v, want 57P01 or a closed connection", err)
	}
	// Open transactions finish normally.
	if _, err := inTx.Exec(ctx, "select 2"); err != nil {
		t.Fatalf("statement in the open transaction during shutdown: %v", err)
	}
	if _, err := inTx.Exec(ctx, "commit"); err != nil {
		t.Fatalf("commit during shutdown: %v", err)
	}
	if err := myTx.Commit(); err != nil {
		t.Fatalf("mysql commit during shutdown: %v", err)
	}
	select {
	case err := <-rs.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		rs.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the last transaction ended")
	}
	// After the commit the session ended: the next statement fails with
	// the shutdown error or a closed connection, never hangs.
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := inTx.Exec(qctx, "select 1"); err == nil {
		t.Fatal("client served after the server stopped")
	} else if qctx.Err() != nil {
		t.Fatal("client hung after the server stopped")
	}
}

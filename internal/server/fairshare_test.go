package server

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/fairshare"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// fairEnv is a running sqlgate whose clusters "pg" and "maria" set
// per-principal limits, with two principals at each door: A (the root
// key; the database user of "<cluster>-proxy" at the proxies) and B (an
// IAM user "fair-b"; a database user of its own at the proxies).
type fairEnv struct {
	rs    *runningServer
	dataB *rdsdata.Client
	userB map[string][2]string // cluster → B's database user and password
}

func startFair(t *testing.T) *fairEnv {
	pg, my := proxyTargets(t, 6)
	for _, tg := range []*dbTarget{&pg, &my} {
		l := &tg.cluster.Limits
		l.MaxConnectionsPerPrincipal, l.MaxTransactionsPerPrincipal = 2, 2
		l.MaxWaitersPerPrincipal = new(int) // refuse at once: no wait in the test
		tg.cluster.Proxy.AuthSecrets = append(tg.cluster.Proxy.AuthSecrets, tg.cluster.Name+"-b")
	}
	rs := startRunning(t, configFor(pg, my), pg, my)
	hs := httptest.NewServer(rs.srv.Handler(false))
	t.Cleanup(hs.Close)
	env := &testEnv{srv: rs.srv, http: hs, akid: testAKID, secretKey: testSecret}
	env.iamOK(t, creds{}, "CreateUser", "UserName", "fair-b")
	env.iamOK(t, creds{}, "PutUserPolicy", "UserName", "fair-b", "PolicyName", "data", "PolicyDocument",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rds-data:*","secretsmanager:GetSecretValue"],"Resource":"*"}]}`)
	f := &fairEnv{rs: rs, userB: map[string][2]string{}}
	f.dataB, _ = env.clients(env.createKey(t, "fair-b"))
	for _, tg := range []dbTarget{pg, my} {
		user, pw := createFairUser(t, tg)
		f.userB[tg.cluster.Name] = [2]string{user, pw}
		if _, err := rs.secrets.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
			Name: aws.String(tg.cluster.Name + "-b"), SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw))}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// createFairUser makes a database user that may connect to the test
// database, dropped at cleanup.
func createFairUser(t *testing.T, tg dbTarget) (user, password string) {
	user, password = "sg_fair_"+randomHex(5), "pw"+randomHex(8)
	var admin *adminConn
	var stmts []string
	drop := "DROP ROLE IF EXISTS " + user
	if tg.cluster.Engine == "mysql" {
		admin = openMySQLAdmin(t, testdb.MySQLDSN(t))
		stmts = []string{"CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + password + "'",
			"GRANT SELECT ON " + tg.cluster.Database + ".* TO '" + user + "'@'%'"}
		drop = "DROP USER IF EXISTS '" + user + "'@'%'"
	} else {
		admin = openPGAdmin(t, testdb.PGURL(t))
		stmts = []string{"CREATE ROLE " + user + " LOGIN PASSWORD '" + password + "'"}
	}
	for _, s := range stmts {
		if err := admin.exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	t.Cleanup(func() {
		if err := admin.exec(drop); err != nil {
			t.Errorf("%s: %v", drop, err)
		}
	})
	return user, password
}

// data runs sql through ExecuteStatement as client c (A: rs.data).
func (f *fairEnv) data(ctx context.Context, c *rdsdata.Client, cluster, sql, tx string) error {
	in := &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(f.rs.srv.ClusterARN(cluster)),
		SecretArn: aws.String(cluster + "-proxy"), Sql: aws.String(sql)}
	if tx != "" {
		in.TransactionId = aws.String(tx)
	}
	_, err := c.ExecuteStatement(ctx, in)
	return err
}

func (f *fairEnv) begin(ctx context.Context, c *rdsdata.Client, cluster string) (string, error) {
	out, err := c.BeginTransaction(ctx, &rdsdata.BeginTransactionInput{ResourceArn: aws.String(f.rs.srv.ClusterARN(cluster)),
		SecretArn: aws.String(cluster + "-proxy")})
	if err != nil {
		return "", err
	}
	return *out.TransactionId, nil
}

// TestServer_FairShare: principal A opens Data API transactions and proxy
// transactions up to its limits (2 each way) and leaves them idle; A's
// next call beyond a limit gets its door's throttling error at once,
// while principal B's Data API calls and proxy queries keep succeeding.
func TestServer_FairShare(t *testing.T) {
	f := startFair(t)
	for _, cluster := range []string{"pg", "maria"} {
		t.Run(cluster, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			a, b := f.rs.data, f.dataB
			// A: two idle Data API transactions hold both of its connections.
			var txs []string
			for range 2 {
				tx, err := f.begin(ctx, a, cluster)
				if err != nil {
					t.Fatalf("A BeginTransaction: %v", err)
				}
				if err := f.data(ctx, a, cluster, "select 1", tx); err != nil {
					t.Fatal(err)
				}
				txs = append(txs, tx)
			}
			if _, err := f.begin(ctx, a, cluster); errorCode(err) != "ThrottlingException" {
				t.Fatalf("A's third BeginTransaction: got %v, want ThrottlingException", err)
			}
			if err := f.data(ctx, a, cluster, "select 1", ""); errorCode(err) != "ThrottlingException" {
				t.Fatalf("A's ExecuteStatement beyond its connections: got %v, want ThrottlingException", err)
			}
			// A at the proxy (its database user): two idle transactions.
			proxyA := f.proxyClients(t, cluster, f.rs.pg.user, f.rs.pg.password, f.rs.my.user, f.rs.my.password)
			proxyA.beginIdle(t, ctx)
			proxyA.beginIdle(t, ctx)
			if err := proxyA.query(t, ctx); !proxyA.throttled(err) {
				t.Fatalf("A's third proxy transaction: got %v, want the proxy's too-many-connections error", err)
			}
			// B is not blocked by anything A holds, at either door.
			ub := f.userB[cluster]
			proxyB := f.proxyClients(t, cluster, ub[0], ub[1], ub[0], ub[1])
			for i := range 5 {
				if err := f.data(ctx, b, cluster, "select 1", ""); err != nil {
					t.Fatalf("B's Data API call %d while A holds its share: %v", i, err)
				}
				tx, err := f.begin(ctx, b, cluster)
				if err != nil {
					t.Fatalf("B's BeginTransaction %d: %v", i, err)
				}
				if _, err := b.CommitTransaction(ctx, &rdsdata.CommitTransactionInput{ResourceArn: aws.String(f.rs.srv.ClusterARN(cluster)),
					SecretArn: aws.String(cluster + "-proxy"), TransactionId: aws.String(tx)}); err != nil {
					t.Fatal(err)
				}
				if err := proxyB.query(t, ctx); err != nil {
					t.Fatalf("B's proxy query %d while A holds its share: %v", i, err)
				}
			}
			// A's share comes back as its transactions end.
			if _, err := a.RollbackTransaction(ctx, &rdsdata.RollbackTransactionInput{ResourceArn: aws.String(f.rs.srv.ClusterARN(cluster)),
				SecretArn: aws.String(cluster + "-proxy"), TransactionId: aws.String(txs[0])}); err != nil {
				t.Fatal(err)
			}
			if err := f.data(ctx, a, cluster, "select 1", ""); err != nil {
				t.Fatalf("A after a rollback: %v", err)
			}
			proxyA.endAll(t, ctx)
			if err := proxyA.query(t, ctx); err != nil {
				t.Fatalf("A's proxy query after its transactions ended: %v", err)
			}
		})
	}
	var buf bytes.Buffer
	f.rs.srv.metrics.reg.Write(&buf)
	for _, want := range []string{`sqlgate_principal_refusals_total{cluster="pg",limit="transactions"} 1`,
		`sqlgate_principal_refusals_total{cluster="maria",limit="waiters"} 2`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(buf.String(), "sqlgate_principal"))
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// proxyClients are one principal's clients of one cluster's proxy.
type proxyClients struct {
	pgURL string
	my    *sql.DB
	pgs   []*pgx.Conn
	mys   []*sql.Conn
	// openPG and openMy are the clients beginIdle left in a transaction.
	openPG []*pgx.Conn
	openMy []*sql.Conn
}

func (f *fairEnv) proxyClients(t *testing.T, cluster, pgUser, pgPW, myUser, myPW string) *proxyClients {
	pc := &proxyClients{}
	if cluster == "pg" {
		pc.pgURL = fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", url.PathEscape(pgUser), url.PathEscape(pgPW),
			f.rs.pgProxy, f.rs.pg.cluster.Database)
		return pc
	}
	mc := mysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = myUser, myPW, "tcp", f.rs.myProxy, f.rs.my.cluster.Database
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	pc.my = db
	return pc
}

// conn opens a new client connection.
func (pc *proxyClients) exec(t *testing.T, ctx context.Context, q string) error {
	if pc.my == nil {
		c, err := pgx.Connect(ctx, pc.pgURL)
		if err != nil {
			return err
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		pc.pgs = append(pc.pgs, c)
		_, err = c.Exec(ctx, q)
		return err
	}
	c, err := pc.my.Conn(ctx)
	if err != nil {
		return err
	}
	t.Cleanup(func() { _ = c.Close() })
	pc.mys = append(pc.mys, c)
	_, err = c.ExecContext(ctx, q)
	return err
}

// beginIdle opens a client that starts a transaction and leaves it open.
func (pc *proxyClients) beginIdle(t *testing.T, ctx context.Context) {
	if err := pc.exec(t, ctx, "begin"); err != nil {
		t.Fatal(err)
	}
	q := "select 1"
	if err := pc.execLast(ctx, q); err != nil {
		t.Fatal(err)
	}
	if pc.my == nil {
		pc.openPG = append(pc.openPG, pc.pgs[len(pc.pgs)-1])
	} else {
		pc.openMy = append(pc.openMy, pc.mys[len(pc.mys)-1])
	}
}

func (pc *proxyClients) execLast(ctx context.Context, q string) error {
	if pc.my == nil {
		_, err := pc.pgs[len(pc.pgs)-1].Exec(ctx, q)
		return err
	}
	_, err := pc.mys[len(pc.mys)-1].ExecContext(ctx, q)
	return err
}

// query runs one statement on a new client connection.
func (pc *proxyClients) query(t *testing.T, ctx context.Context) error {
	return pc.exec(t, ctx, "select 1")
}

// endAll commits the transactions beginIdle left open (a COMMIT on
// another client would borrow a connection of its own).
func (pc *proxyClients) endAll(t *testing.T, ctx context.Context) {
	for _, c := range pc.openPG {
		if _, err := c.Exec(ctx, "commit"); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range pc.openMy {
		if _, err := c.ExecContext(ctx, "commit"); err != nil {
			t.Fatal(err)
		}
	}
}

// throttled reports the proxy's answer to a principal over its share:
// PostgreSQL 53300 too_many_connections, MySQL 1040 ER_CON_COUNT_ERROR.
func (pc *proxyClients) throttled(err error) bool {
	var pe *pgconn.PgError
	var me *mysql.MySQLError
	return errors.As(err, &pe) && pe.Code == "53300" || errors.As(err, &me) && me.Number == 1040
}

// TestEndpoints_FairShare: an API key that holds its share of the
// cluster's connections (one, no waiting) gets 429 with Retry-After for
// its next call at once, while another key is served.
func TestEndpoints_FairShare(t *testing.T) {
	tg := pgTarget(t, "db")
	tg.cluster.Limits.MaxConnectionsPerPrincipal = 1
	tg.cluster.Limits.MaxWaitersPerPrincipal = new(int)
	cfg := configFor(tg)
	cfg.Endpoints = []config.Endpoint{{Name: "slow", Method: "GET", Path: "/v1/slow", Cluster: "db", Secret: "app",
		SQL: config.Statements{"SELECT pg_sleep(:secs)::text AS slept"}, APIKeyRequired: true,
		Params: map[string]config.Param{"secs": {From: "query", Type: "number", Required: true}}}}
	keyA, keyB := "fair-share-key-a-0123456789", "fair-share-key-b-0123456789"
	cfg.APIKeys = []config.APIKey{{Name: "a", Value: keyA}, {Name: "b", Value: keyB}}
	env := newTestEnv(t, cfg)
	env.createSecret(t, "app", tg.user, tg.password)
	shares := env.srv.clusters[0].exec.Shares
	done := make(chan int, 1)
	slow, _ := http.NewRequest(http.MethodGet, env.http.URL+"/v1/slow?secs=3", nil)
	slow.Header.Set("x-api-key", keyA)
	go func() {
		resp, err := env.http.Client().Do(slow)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	testdb.Eventually(t, 10*time.Second, 5*time.Millisecond, "key a's slow call holding its connection",
		func() bool { return shares.Stats().Top[fairshare.Connections] == 1 })
	req, _ := http.NewRequest(http.MethodGet, env.http.URL+"/v1/slow?secs=0", nil)
	req.Header.Set("x-api-key", keyA)
	resp, err := env.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(body), "max_connections_per_principal") {
		t.Fatalf("key a's second call: %d %q %s, want 429 with Retry-After: 1", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if status, body := get(t, env.http.URL+"/v1/slow?secs=0", keyB); status != http.StatusOK {
		t.Fatalf("key b while key a holds its share: %d %s", status, body)
	}
	if status := <-done; status != http.StatusOK {
		t.Fatalf("key a's slow call: %d", status)
	}
	if status, body := get(t, env.http.URL+"/v1/slow?secs=0", keyA); status != http.StatusOK {
		t.Fatalf("key a after its call ended: %d %s", status, body)
	}
}

// TestServer_ReloadShares: SIGHUP's ReloadPools changes the per-principal
// limits of a running cluster; setting the first ones on a cluster started
// without any needs a restart and says so.
func TestServer_ReloadShares(t *testing.T) {
	cfg := config.Default()
	cfg.Clusters = append(cfg.Clusters, config.Cluster{Name: "other", Engine: "sqlite"})
	cfg.Clusters[0].Limits.MaxTransactionsPerPrincipal = 2
	cfg.ApplyClusterDefaults()
	env := newTestEnv(t, cfg)
	next := *cfg
	next.Clusters = append([]config.Cluster(nil), cfg.Clusters...)
	next.Clusters[0].Limits.MaxTransactionsPerPrincipal = 5
	next.Clusters[0].Limits.MaxConnectionsPerPrincipal = 3
	if err := env.srv.ReloadPools(&next); err != nil {
		t.Fatal(err)
	}
	if got := env.srv.clusters[0].exec.Shares.Limits(); got != (fairshare.Limits{Connections: 3, Transactions: 5, Waiters: -1}) {
		t.Fatalf("limits after reload: %+v", got)
	}
	next.Clusters[1].Limits.MaxTransactionsPerPrincipal = 1
	if err := env.srv.ReloadPools(&next); err == nil || !strings.Contains(err.Error(), "clusters[1].limits: setting or removing all per-principal limits needs a restart") {
		t.Fatalf("first limits on a running cluster: %v", err)
	}
}

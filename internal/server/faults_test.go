package server

import (
	"github.com/sqlgate/sqlgate/internal/testdb"

	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/config"
)

// Clusters of a fault environment: all front the same database, each with
// the limits one kind of fault needs.
const (
	clMain  = "main"  // statement_timeout 1s, max_response_bytes 10000
	clLong  = "long"  // AWS defaults
	clIdle  = "idle"  // tx_idle_timeout 1s
	clSmall = "small" // max_connections 2 (SQLite 1), borrow_timeout 300ms
)

// faultEnv is one engine behind an in-process sqlgate, logging in as a
// login made for this test alone, so the backend's connections from
// sqlgate can be counted exactly even while other tests share the
// database; admin is a direct connection as the CI user.
type faultEnv struct {
	*testEnv
	engine string // mysql | postgres | sqlite
	secret string
	admin  *adminConn // nil for SQLite
	user   string     // the dedicated login ("" for SQLite)
	table  string     // a table the login may write
	small  int        // max_connections of clSmall
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newFaultEnv sets up engine ("mysql", "postgres" or "sqlite"). It does
// not touch the process environment, so callers may run in parallel.
func newFaultEnv(t *testing.T, engine string) *faultEnv {
	t.Helper()
	f := &faultEnv{engine: engine, small: 2}
	var base dbTarget
	switch engine {
	case "mysql":
		base = mysqlTarget(t, clMain)
		f.admin = openMySQLAdmin(t, testdb.MySQLDSN(t))
	case "postgres":
		base = pgTarget(t, clMain)
		f.admin = openPGAdmin(t, testdb.PGURL(t))
	case "sqlite":
		base = dbTarget{cluster: config.Cluster{Name: clMain, Engine: "sqlite"}, user: "lite", password: "lite"}
		f.small = 1 // BEGIN IMMEDIATE: one writer at a time
	}
	if f.admin != nil {
		// Registered before the server starts, so it runs after the
		// server's cleanup has closed every pool.
		base.user, base.password = f.createLogin(t)
	}
	var tgs []dbTarget
	for _, name := range []string{clMain, clLong, clIdle, clSmall} {
		tg := base
		tg.cluster.Name = name
		switch name {
		case clMain:
			tg.cluster.Limits = config.Limits{StatementTimeout: time.Second, MaxResponseBytes: 10000,
				MaxDetachedStatement: 5 * time.Second}
		case clIdle:
			tg.cluster.Limits = config.Limits{TxIdleTimeout: time.Second}
		case clSmall:
			tg.cluster.MaxConnections = f.small
			tg.cluster.Limits = config.Limits{BorrowTimeout: 300 * time.Millisecond}
		}
		tgs = append(tgs, tg)
	}
	f.testEnv = startTestEnv(t, configFor(tgs...))
	f.secret = f.createSecret(t, "fault-app", base.user, base.password)
	if f.admin == nil {
		f.table = "faults"
		for _, cl := range []string{clMain, clLong} {
			f.mustExec(t, cl, "CREATE TABLE "+f.table+" (x int)")
		}
	}
	return f
}

// adminConn is a direct connection to the test database as the CI user.
// Its queries interpolate only generated names and numbers.
type adminConn struct {
	mu sync.Mutex // guards following fields
	my *sql.DB
	pg *pgconn.PgConn
}

func openMySQLAdmin(t *testing.T, dsn string) *adminConn {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("admin connection: %v", err)
	}
	return &adminConn{my: db}
}

func openPGAdmin(t *testing.T, url string) *adminConn {
	t.Helper()
	c, err := pgconn.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("admin connection: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return &adminConn{pg: c}
}

// query runs q and returns its rows as text.
func (a *adminConn) query(q string) ([][]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out [][]string
	if a.pg != nil {
		res, err := a.pg.Exec(context.Background(), q).ReadAll()
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			for _, row := range r.Rows {
				var vals []string
				for _, v := range row {
					vals = append(vals, string(v))
				}
				out = append(out, vals)
			}
		}
		return out, nil
	}
	rows, err := a.my.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func (a *adminConn) exec(q string) error {
	_, err := a.query(q)
	return err
}

// count runs a query returning one number.
func (a *adminConn) count(t *testing.T, q string) int {
	t.Helper()
	rows, err := a.query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var n int
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: got %v, want one number", q, rows)
	}
	if _, err := fmt.Sscan(rows[0][0], &n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// createLogin makes a database user and a table it may write, dropped
// again at cleanup.
func (f *faultEnv) createLogin(t *testing.T) (user, password string) {
	t.Helper()
	f.user, password = "sg_fault_"+randomHex(6), "pw"+randomHex(8)
	f.table = "fault_" + randomHex(6)
	var stmts, drops []string
	if f.engine == "mysql" {
		stmts = []string{
			"CREATE USER '" + f.user + "'@'%' IDENTIFIED BY '" + password + "'",
			"CREATE TABLE " + f.table + " (x int)",
			"GRANT ALL ON " + f.table + " TO '" + f.user + "'@'%'",
		}
		drops = []string{"DROP TABLE IF EXISTS " + f.table, "DROP USER IF EXISTS '" + f.user + "'@'%'"}
	} else {
		stmts = []string{
			"CREATE ROLE " + f.user + " LOGIN PASSWORD '" + password + "'",
			"CREATE TABLE " + f.table + " (x int)",
			"GRANT ALL ON " + f.table + " TO " + f.user,
		}
		drops = []string{"DROP TABLE IF EXISTS " + f.table, "DROP ROLE IF EXISTS " + f.user}
	}
	t.Cleanup(func() {
		for _, s := range drops {
			if err := f.admin.exec(s); err != nil {
				t.Errorf("cleanup %s: %v", s, err)
			}
		}
	})
	for _, s := range stmts {
		if err := f.admin.exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return f.user, password
}

func (f *faultEnv) input(cluster, sql string) *rdsdata.ExecuteStatementInput {
	return &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(f.clusterARN(cluster)), SecretArn: aws.String(f.secret), Sql: aws.String(sql)}
}

func (f *faultEnv) exec(ctx context.Context, in *rdsdata.ExecuteStatementInput) (*rdsdata.ExecuteStatementOutput, error) {
	return f.data.ExecuteStatement(ctx, in)
}

func (f *faultEnv) mustExec(t *testing.T, cluster, sql string) *rdsdata.ExecuteStatementOutput {
	t.Helper()
	out, err := f.exec(context.Background(), f.input(cluster, sql))
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func (f *faultEnv) begin(t *testing.T, cluster string) string {
	t.Helper()
	out, err := f.data.BeginTransaction(context.Background(), &rdsdata.BeginTransactionInput{
		ResourceArn: aws.String(f.clusterARN(cluster)), SecretArn: aws.String(f.secret)})
	if err != nil {
		t.Fatalf("begin on %s: %v", cluster, err)
	}
	return *out.TransactionId
}

func (f *faultEnv) commit(cluster, txID string) error {
	_, err := f.data.CommitTransaction(context.Background(), &rdsdata.CommitTransactionInput{
		ResourceArn: aws.String(f.clusterARN(cluster)), SecretArn: aws.String(f.secret), TransactionId: &txID})
	return err
}

// sleepSQL is a statement that runs for sec seconds and carries marker, so
// it can be found among the backend's running queries.
func (f *faultEnv) sleepSQL(sec int, marker string) string {
	if f.engine == "mysql" {
		return fmt.Sprintf("SELECT SLEEP(%d), '%s'", sec, marker)
	}
	return fmt.Sprintf("SELECT pg_sleep(%d), '%s'", sec, marker)
}

// bigSQL selects one string of n characters.
func (f *faultEnv) bigSQL(n int) string {
	switch f.engine {
	case "mysql":
		return fmt.Sprintf("SELECT REPEAT('x', %d)", n)
	case "postgres":
		return fmt.Sprintf("SELECT repeat('x', %d)", n)
	}
	return fmt.Sprintf("SELECT hex(zeroblob(%d))", n/2)
}

// running counts the login's statements on the backend that carry marker.
func (f *faultEnv) running(t *testing.T, marker string) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '" + f.user + "' AND INFO LIKE '%" + marker + "%'"
	if f.engine == "postgres" {
		q = "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + f.user + "' AND state = 'active' AND query LIKE '%" + marker + "%'"
	}
	return f.admin.count(t, q)
}

// backendConns counts the backend's sessions of the login.
func (f *faultEnv) backendConns(t *testing.T) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '" + f.user + "'"
	if f.engine == "postgres" {
		q = "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + f.user + "'"
	}
	return f.admin.count(t, q)
}

// kill ends a backend session from the admin connection.
func (f *faultEnv) kill(t *testing.T, id int64) {
	t.Helper()
	q := fmt.Sprintf("KILL %d", id)
	if f.engine == "postgres" {
		q = fmt.Sprintf("SELECT pg_terminate_backend(%d)", id)
	}
	if err := f.admin.exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// killAll ends every backend session of the login (a database restart, as
// far as sqlgate can tell).
func (f *faultEnv) killAll(t *testing.T) int {
	t.Helper()
	q := "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '" + f.user + "'"
	if f.engine == "postgres" {
		q = "SELECT pid FROM pg_stat_activity WHERE usename = '" + f.user + "'"
	}
	rows, err := f.admin.query(q)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range rows {
		var id int64
		if _, err := fmt.Sscan(r[0], &id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		f.kill(t, id)
	}
	return len(ids)
}

func (f *faultEnv) pool(t *testing.T, name string) *cluster {
	t.Helper()
	for _, c := range f.srv.clusters {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no cluster %s", name)
	return nil
}

// checkIdle waits until no connection of cluster is busy.
func (f *faultEnv) checkIdle(t *testing.T, cluster string) {
	t.Helper()
	p := f.pool(t, cluster).pool
	testdb.EventuallyState(t, 3*time.Second, 50*time.Millisecond, func() (bool, string) {
		st := p.Stats()
		return st.Busy == 0 && st.Waiting == 0, fmt.Sprintf("%s pool: %+v", cluster, st)
	})
}

// checkNoLeak asserts that nothing is busy and that the backend holds no
// more sessions of the login than the pools keep idle.
func (f *faultEnv) checkNoLeak(t *testing.T) {
	t.Helper()
	idle := 0
	for _, c := range f.srv.clusters {
		f.checkIdle(t, c.name)
		idle += c.pool.Stats().Idle
	}
	if n := f.srv.txns.Count(); n != 0 {
		t.Errorf("open transactions = %d, want 0", n)
	}
	if f.admin == nil {
		return
	}
	testdb.EventuallyState(t, 3*time.Second, 50*time.Millisecond, func() (bool, string) {
		n := f.backendConns(t)
		return n <= idle, fmt.Sprintf("backend sessions of %s = %d, pools hold %d idle", f.user, n, idle)
	})
}

// apiCode returns the AWS error code and HTTP status of an SDK error.
func apiCode(err error) (string, int) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", 0
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

// TestDataAPI_Faults runs the fault tests on every engine:
// statement timeout, oversize responses, client disconnects, killed
// backends, expired and concurrently used transactions, pool exhaustion.
// Afterwards nothing is busy and the backend holds no leaked sessions.
//
// The engines run at once, from goroutines rather than t.Parallel: most of
// the time goes to sleeping statements, which need no CPU, and the test
// binary's -parallel limit is the CPU count.
func TestDataAPI_Faults(t *testing.T) {
	var wg sync.WaitGroup
	for _, engine := range []string{"sqlite", "mysql", "postgres"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(engine, func(t *testing.T) {
				f := newFaultEnv(t, engine)
				expiry := f.startTxIdleExpiry(t)
				t.Run("StatementTimeout", f.testStatementTimeout)
				t.Run("ContinueAfterTimeout", f.testContinueAfterTimeout)
				t.Run("DetachedLimit", f.testDetachedLimit)
				t.Run("ResponseTooLarge", f.testResponseTooLarge)
				t.Run("ClientDisconnect", f.testClientDisconnect)
				t.Run("BackendKilledInTransaction", f.testBackendKilled)
				t.Run("TxConcurrentUse", f.testTxConcurrentUse)
				t.Run("PoolExhaustion", f.testPoolExhaustion)
				t.Run("TxIdleExpiry", expiry)
				// Last: it leaves dead idle connections in the other
				// clusters' pools (see the BUG it reports).
				t.Run("BackendRestarted", f.testBackendRestarted)
				f.checkNoLeak(t)
				if _, err := f.exec(context.Background(), f.input(clLong, "SELECT 1")); err != nil {
					t.Fatalf("after all faults: %v", err)
				}
			})
		}()
	}
	wg.Wait()
}

func (f *faultEnv) testStatementTimeout(t *testing.T) {
	marker := "timeout_" + randomHex(4)
	stmt := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*), '" + marker + "' FROM c"
	if f.admin != nil {
		// Far longer than the timeout, so a cancel that never lands shows.
		stmt = f.sleepSQL(10, marker)
	}
	start := time.Now()
	_, err := f.exec(context.Background(), f.input(clMain, stmt))
	took := time.Since(start)
	var te *types.StatementTimeoutException
	if !errors.As(err, &te) {
		t.Fatalf("got %v, want StatementTimeoutException", err)
	}
	if te.DbConnectionId == 0 {
		t.Errorf("dbConnectionId not set: %+v", te)
	}
	if took < 900*time.Millisecond || took > 5*time.Second {
		t.Errorf("timed out after %v, want about 1s", took)
	}
	if f.admin != nil {
		testdb.EventuallyState(t, 2*time.Second, 50*time.Millisecond, func() (bool, string) {
			n := f.running(t, marker)
			return n == 0, fmt.Sprintf("%d statements still running on the backend", n)
		})
	}
	f.checkIdle(t, clMain)
	f.mustExec(t, clMain, "SELECT 1")
}

func (f *faultEnv) testContinueAfterTimeout(t *testing.T) {
	if f.admin == nil {
		t.Skip("SQLite has no sleep to run past the timeout")
	}
	stmt := "INSERT INTO " + f.table + " (x) SELECT 7 + SLEEP(2)"
	if f.engine == "postgres" {
		stmt = "INSERT INTO " + f.table + " (x) SELECT 7 FROM pg_sleep(2)"
	}
	in := f.input(clMain, stmt)
	in.ContinueAfterTimeout = true
	_, err := f.exec(context.Background(), in)
	var te *types.StatementTimeoutException
	if !errors.As(err, &te) {
		t.Fatalf("got %v, want StatementTimeoutException", err)
	}
	testdb.EventuallyState(t, 5*time.Second, 50*time.Millisecond, func() (bool, string) {
		n := f.admin.count(t, "SELECT COUNT(*) FROM "+f.table+" WHERE x = 7")
		return n == 1, fmt.Sprintf("%d rows inserted by the detached statement, want 1", n)
	})
	f.checkIdle(t, clMain)
	f.mustExec(t, clMain, "SELECT 1")
}

// testDetachedLimit: a continueAfterTimeout statement runs on after its
// call, but is cancelled at max_detached_statement (5 s on clMain) and its
// connection closed, rather than held for the minute it asks for.
func (f *faultEnv) testDetachedLimit(t *testing.T) {
	if f.admin == nil {
		t.Skip("SQLite has no sleep to run past the limit")
	}
	marker := "detached_" + randomHex(4)
	in := f.input(clMain, f.sleepSQL(60, marker))
	in.ContinueAfterTimeout = true
	_, err := f.exec(context.Background(), in)
	var te *types.StatementTimeoutException
	if !errors.As(err, &te) {
		t.Fatalf("got %v, want StatementTimeoutException", err)
	}
	if n := f.running(t, marker); n != 1 {
		t.Fatalf("%d detached statements running after the call returned, want 1", n)
	}
	testdb.EventuallyState(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		n := f.running(t, marker)
		return n == 0, fmt.Sprintf("%d detached statements still running past max_detached_statement", n)
	})
	testdb.EventuallyState(t, 5*time.Second, 50*time.Millisecond, func() (bool, string) {
		ok := strings.Contains(f.logs.String(), "detached statement cancelled at its limit")
		return ok, "no log line for the cancelled detached statement"
	})
	f.checkIdle(t, clMain)
	f.mustExec(t, clMain, "SELECT 1")
}

func (f *faultEnv) testResponseTooLarge(t *testing.T) {
	ctx := context.Background()
	jsonIn := f.input(clMain, f.bigSQL(20000))
	jsonIn.FormatRecordsAs = types.RecordsFormatTypeJson
	tests := []struct {
		name string
		in   *rdsdata.ExecuteStatementInput
	}{
		{"over max_response_bytes", f.input(clMain, f.bigSQL(20000))},
		{"formatted over max_response_bytes", jsonIn},
		{"over the default 1 MiB", f.input(clLong, f.bigSQL(1100000))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.exec(ctx, tt.in)
			var ue *types.UnsupportedResultException
			if !errors.As(err, &ue) {
				t.Fatalf("got %v, want UnsupportedResultException", err)
			}
		})
	}
	f.mustExec(t, clMain, f.bigSQL(1000)) // under the limit

	t.Run("in a transaction", func(t *testing.T) {
		tx := f.begin(t, clMain)
		in := f.input(clMain, f.bigSQL(20000))
		in.TransactionId = &tx
		_, err := f.exec(ctx, in)
		var ue *types.UnsupportedResultException
		if !errors.As(err, &ue) {
			t.Fatalf("got %v, want UnsupportedResultException", err)
		}
		err = f.commit(clMain, tx)
		var tnf *types.TransactionNotFoundException
		if !errors.As(err, &tnf) {
			t.Fatalf("commit after oversize result: %v, want TransactionNotFoundException", err)
		}
	})
	f.checkIdle(t, clMain)
	f.checkIdle(t, clLong)
}

func (f *faultEnv) testClientDisconnect(t *testing.T) {
	if f.admin == nil {
		t.Skip("SQLite has no sleep to disconnect from")
	}
	marker := "disconnect_" + randomHex(4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := f.newRawRequest(t, ctx, rawRequest{Path: "/Execute", Body: jsonBody(t, map[string]any{
		"resourceArn": f.clusterARN(clLong), "secretArn": f.secret, "sql": f.sleepSQL(3, marker)})})
	done := make(chan error, 1)
	go func() {
		resp, err := f.http.Client().Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("request finished with %s", resp.Status)
		}
		done <- err
	}()
	testdb.EventuallyState(t, 2*time.Second, 50*time.Millisecond, func() (bool, string) {
		return f.running(t, marker) == 1, "the statement never started"
	})
	testdb.Elapse(200 * time.Millisecond)
	start := time.Now()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want context.Canceled", err)
	}
	testdb.EventuallyState(t, 2*time.Second, 50*time.Millisecond, func() (bool, string) {
		n := f.running(t, marker)
		return n == 0, fmt.Sprintf("%d statements still running after the client left", n)
	})
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("statement stopped %v after the disconnect", d)
	}
	f.checkIdle(t, clLong)
	f.mustExec(t, clLong, "SELECT 1")
}

func (f *faultEnv) testBackendKilled(t *testing.T) {
	if f.admin == nil {
		t.Skip("SQLite has no server session to kill")
	}
	ctx := context.Background()
	tx := f.begin(t, clLong)
	inTx := func(sql string) *rdsdata.ExecuteStatementInput {
		in := f.input(clLong, sql)
		in.TransactionId = &tx
		return in
	}
	idSQL := "SELECT CONNECTION_ID()"
	if f.engine == "postgres" {
		idSQL = "SELECT pg_backend_pid()"
	}
	out, err := f.exec(ctx, inTx(idSQL))
	if err != nil {
		t.Fatal(err)
	}
	id := out.Records[0][0].(*types.FieldMemberLongValue).Value
	f.kill(t, id)
	testdb.EventuallyState(t, 2*time.Second, 50*time.Millisecond, func() (bool, string) {
		q := fmt.Sprintf("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %d", id)
		if f.engine == "postgres" {
			q = fmt.Sprintf("SELECT count(*) FROM pg_stat_activity WHERE pid = %d", id)
		}
		return f.admin.count(t, q) == 0, "the killed session is still there"
	})

	_, err = f.exec(ctx, inTx("SELECT 1"))
	code, status := apiCode(err)
	switch {
	case err == nil:
		t.Fatal("statement on a killed session succeeded")
	case status >= 500 && code != "DatabaseUnavailableException":
		t.Fatalf("statement on a killed session: %d %s (%v)", status, code, err)
	case code != "DatabaseUnavailableException" && code != "TransactionNotFoundException" && code != "DatabaseErrorException":
		t.Fatalf("statement on a killed session: %d %s (%v)", status, code, err)
	}
	t.Logf("statement on a killed session: %d %s", status, code)
	err = f.commit(clLong, tx)
	var tnf *types.TransactionNotFoundException
	if !errors.As(err, &tnf) {
		t.Fatalf("commit on a killed session: %v, want TransactionNotFoundException", err)
	}
	f.mustExec(t, clLong, "SELECT 1")
	f.checkIdle(t, clLong)
}

// testBackendRestarted kills every session of the login, idle pooled ones
// included, as a database restart does.
func (f *faultEnv) testBackendRestarted(t *testing.T) {
	if f.admin == nil {
		t.Skip("SQLite has no server to restart")
	}
	// Fill the pool with three idle connections.
	const idle = 3
	var txs []string
	for range idle {
		txs = append(txs, f.begin(t, clLong))
	}
	for _, tx := range txs {
		if err := f.commit(clLong, tx); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.pool(t, clLong).pool.Stats().Idle; n < idle {
		// An engine that cannot yet prove a session clean (Dirty always
		// true, Reset unsupported) closes every connection after use.
		t.Skipf("the %s engine keeps no idle connections (%d idle): nothing to restart", f.engine, n)
	}
	if n := f.killAll(t); n < idle {
		t.Fatalf("killed %d sessions, want at least %d", n, idle)
	}
	testdb.EventuallyState(t, 2*time.Second, 50*time.Millisecond, func() (bool, string) {
		n := f.backendConns(t)
		return n == 0, fmt.Sprintf("%d sessions left after killing them all", n)
	})
	// Each pooled connection that died while idle fails one request with
	// DatabaseUnavailableException before the pool has replaced them all;
	// after that every request succeeds.
	failed := 0
	for i := range idle + 3 {
		_, err := f.exec(context.Background(), f.input(clLong, "SELECT 1"))
		if err == nil {
			continue
		}
		code, status := apiCode(err)
		if i >= idle || code != "DatabaseUnavailableException" || status != http.StatusGatewayTimeout {
			t.Fatalf("request %d after the restart: %d %s (%v)", i, status, code, err)
		}
		failed++
	}
	f.checkIdle(t, clLong)
	// Connections that died while idle less than pool.validateAfter ago
	// fail one request each with 504 DatabaseUnavailableException, which
	// the SDKs' standard retryer retries (a server fault); connections
	// idle longer are pinged on borrow. Nothing else may fail.
	t.Logf("%d of %d requests right after the restart got a retryable 504", failed, idle+3)
}

// startTxIdleExpiry begins a transaction on the cluster whose idle timeout
// is 1s and returns the test that later finds it expired. The reaper ticks
// every second, so 3s is enough; the other faults run meanwhile.
func (f *faultEnv) startTxIdleExpiry(t *testing.T) func(*testing.T) {
	tx := f.begin(t, clIdle)
	began := time.Now()
	return func(t *testing.T) {
		testdb.Elapse(time.Until(began.Add(3 * time.Second)))
		err := f.commit(clIdle, tx)
		var tnf *types.TransactionNotFoundException
		if !errors.As(err, &tnf) {
			t.Fatalf("commit after idle expiry: %v, want TransactionNotFoundException", err)
		}
		if !strings.Contains(aws.ToString(tnf.Message), "Transaction may be expired.") {
			t.Errorf("message %q does not say the transaction expired", aws.ToString(tnf.Message))
		}
		f.checkIdle(t, clIdle)
		f.mustExec(t, clIdle, "SELECT 1")
	}
}

func (f *faultEnv) testTxConcurrentUse(t *testing.T) {
	if f.admin == nil {
		t.Skip("SQLite has no sleep to hold the transaction")
	}
	ctx := context.Background()
	marker := "concurrent_" + randomHex(4)
	tx := f.begin(t, clLong)
	inTx := func(sql string) *rdsdata.ExecuteStatementInput {
		in := f.input(clLong, sql)
		in.TransactionId = &tx
		return in
	}
	first := make(chan error, 1)
	go func() {
		_, err := f.exec(ctx, inTx(f.sleepSQL(1, marker)))
		first <- err
	}()
	testdb.EventuallyState(t, 2*time.Second, 50*time.Millisecond, func() (bool, string) {
		return f.running(t, marker) == 1, "the first statement never started"
	})
	_, err := f.exec(ctx, inTx("SELECT 1"))
	var dbe *types.DatabaseErrorException
	if !errors.As(err, &dbe) || aws.ToString(dbe.Message) != "Transaction is still running a query" {
		t.Fatalf("second statement: %v, want DatabaseErrorException: Transaction is still running a query", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first statement: %v", err)
	}
	if err := f.commit(clLong, tx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	f.checkIdle(t, clLong)
}

func (f *faultEnv) testPoolExhaustion(t *testing.T) {
	ctx := context.Background()
	var txs []string
	for range f.small {
		txs = append(txs, f.begin(t, clSmall))
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"execute", func() error { _, err := f.exec(ctx, f.input(clSmall, "SELECT 1")); return err }},
		{"begin", func() error {
			_, err := f.data.BeginTransaction(ctx, &rdsdata.BeginTransactionInput{
				ResourceArn: aws.String(f.clusterARN(clSmall)), SecretArn: aws.String(f.secret)})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := tt.call()
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("throttled after %v, want about the 300ms borrow timeout", d)
			}
			if code, status := apiCode(err); code != "ThrottlingException" || status != http.StatusTooManyRequests {
				t.Fatalf("got %d %s (%v), want 429 ThrottlingException", status, code, err)
			}
		})
	}
	for _, tx := range txs {
		if err := f.commit(clSmall, tx); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	f.mustExec(t, clSmall, "SELECT 1")
	f.checkIdle(t, clSmall)
	if st := f.pool(t, clSmall).pool.Stats(); st.Busy+st.Idle > f.small {
		t.Errorf("pool holds %+v, over its budget of %d", st, f.small)
	}
}

package server

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// failoverHC is the health-check interval of the failover load tests: the
// load must resume within 2 × failoverHC of the promotion.
const failoverHC = 2 * time.Second

// failoverTopology is the test's own replicated topology (its own data
// directory and ports, see testdb.OwnReplicas), so killing and promoting
// never disturbs the shared one. engine is started now and stopped (its
// data kept, the replica rebuilt at the next start) when the test ends.
func failoverTopology(t *testing.T, engine string) testdb.Replicas {
	r := testdb.OwnReplicas(t, "failover", 28306, 28432)
	r.Run(t, "start", engine)
	t.Cleanup(func() { r.Run(t, "stop", engine) })
	return r
}

// failoverServer runs a server (Run, both proxies) with clusters "pg" and
// "maria" over r, health-checked every failoverHC.
func failoverServer(t *testing.T, r testdb.Replicas) *runningServer {
	pg, my := replicatedTargets(r, failoverHC)
	rs := startRunning(t, configFor(pg, my), pg, my)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log, topology lines:\n%s", grepLines(rs.logs.String(), "component=topology"))
		}
	})
	return rs
}

// replicatedTargets are the clusters "pg" and "maria" over r's instances,
// health-checked every hc with the proxies' own auth secrets.
func replicatedTargets(r testdb.Replicas, hc time.Duration) (pg, my dbTarget) {
	target := func(name, eng, writer, reader string) dbTarget {
		return dbTarget{user: "sqlgate", password: "sqlgatepw", cluster: config.Cluster{
			Name: name, Engine: eng, Address: writer, Database: "sqlgate_test", MaxConnections: 12,
			Instances:   []config.Instance{{Address: writer, Role: config.RoleWriter}, {Address: reader, Role: config.RoleReader}},
			HealthCheck: config.HealthCheck{Interval: hc, Secret: name + "-proxy"},
			Limits:      config.Limits{BorrowTimeout: 2 * time.Second},
			Proxy:       &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{name + "-proxy"}, BorrowTimeout: 2 * time.Second}}}
	}
	return target("pg", "postgres", r.PGPrimary, r.PGReplica), target("maria", "mysql", r.MySQLPrimary, r.MySQLReplica)
}

// ledger records every write the database acknowledged, and when.
type ledger struct {
	mu    sync.Mutex // guards following fields
	acked [][2]int   // (worker, seq)
	at    []time.Time
	errs  map[string]int // error text → count (for the log)
	n     atomic.Int64
}

func (l *ledger) ack(worker, seq int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked = append(l.acked, [2]int{worker, seq})
	l.at = append(l.at, time.Now())
	l.n.Add(1)
}

func (l *ledger) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.errs == nil {
		l.errs = map[string]int{}
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	l.errs[msg]++
}

// firstAfter returns the first acknowledgement after t (zero if none).
func (l *ledger) firstAfter(t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, at := range l.at {
		if at.After(t) {
			return at
		}
	}
	return time.Time{}
}

// worker is one load client: op runs write seq and reports whether the
// database acknowledged it; errors are recorded and the worker goes on
// (reconnecting is op's business).
type worker func(ctx context.Context, seq int) error

// runLoad runs the workers until stop is closed, recording acks in l.
func runLoad(ctx context.Context, l *ledger, workers []worker, stop <-chan struct{}) (wait func()) {
	var wg sync.WaitGroup
	for w, op := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 1; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := op(ctx, seq); err != nil {
					l.fail(err)
					testdb.Elapse(20 * time.Millisecond) // pace retries while nothing answers
					continue
				}
				l.ack(w, seq)
			}
		}()
	}
	return wg.Wait
}

// failoverRun is one failover under load: the writer is killed while the
// workers write, the replica promoted, and the load must resume within
// 2 × failoverHC of the promotion. It returns the ledger after the load
// ran on the new writer for a while.
func failoverRun(t *testing.T, r testdb.Replicas, engine string, workers []worker) *ledger {
	ctx := context.Background()
	l := &ledger{}
	stop := make(chan struct{})
	wait := runLoad(ctx, l, workers, stop)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wait()
	}()
	fallbacks := semiSyncFallbacks(t, r, engine)
	testdb.Eventually(t, 30*time.Second, 10*time.Millisecond, "load on the old writer", func() bool { return l.n.Load() >= 40 })
	if n := semiSyncFallbacks(t, r, engine); n != fallbacks {
		t.Errorf("the primary fell back to asynchronous replication during the load (%d times): "+
			"commits it acknowledged may be missing from the replica, whatever sqlgate does", n-fallbacks)
	}
	r.Run(t, "kill", engine, "primary")
	killed := l.n.Load()
	r.Run(t, "promote", engine)
	promoted := time.Now()
	testdb.EventuallyState(t, 2*failoverHC, 5*time.Millisecond, func() (bool, string) {
		l.mu.Lock()
		errs := fmt.Sprint(l.errs)
		l.mu.Unlock()
		return !l.firstAfter(promoted).IsZero(), "load resumed within 2 × the health-check interval of the promotion; errors: " + errs
	})
	t.Logf("load resumed %v after the promotion (%d writes acknowledged before the kill)", l.firstAfter(promoted).Sub(promoted), killed)
	after := l.n.Load()
	testdb.Eventually(t, 30*time.Second, 10*time.Millisecond, "load on the new writer", func() bool { return l.n.Load() >= after+40 })
	close(stop)
	wait()
	l.mu.Lock()
	t.Logf("%d writes acknowledged; errors seen: %v", len(l.acked), l.errs)
	l.mu.Unlock()
	return l
}

// semiSyncFallbacks is how often the MariaDB primary has switched
// semi-sync off (0 for PostgreSQL, whose synchronous commit never falls
// back): the test's claim that no acknowledged write is lost holds only
// while the primary waits for the replica.
func semiSyncFallbacks(t *testing.T, r testdb.Replicas, engine string) int {
	if engine != "mariadb" {
		return 0
	}
	a := openMySQLAdmin(t, fmt.Sprintf("sqlgate:sqlgatepw@tcp(%s)/sqlgate_test", r.MySQLPrimary))
	return a.count(t, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_NO_TIMES'")
}

// checkLedger fails the test unless every acknowledged write is on the
// new writer (read directly, not through sqlgate).
func checkLedger(t *testing.T, l *ledger, newWriter *adminConn, table string) {
	rows, err := newWriter.query("SELECT worker, seq FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range rows {
		have[r[0]+"/"+r[1]] = true
	}
	lost := 0
	for _, a := range l.acked {
		if !have[fmt.Sprintf("%d/%d", a[0], a[1])] {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged write worker %d seq %d is not on the new writer", a[0], a[1])
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged writes lost (%d rows on the new writer)", lost, len(l.acked), len(rows))
	}
	t.Logf("all %d acknowledged writes are on the new writer (%d rows: the rest were in flight at the kill)", len(l.acked), len(rows))
}

// loadConn is one client connection through a proxy.
type loadConn interface {
	exec(ctx context.Context, q string) error
	value(ctx context.Context, q string) (string, error)
	close()
}

type pgLoadConn struct{ c *pgx.Conn }

func (c pgLoadConn) exec(ctx context.Context, q string) error {
	_, err := c.c.Exec(ctx, q)
	return err
}

func (c pgLoadConn) value(ctx context.Context, q string) (string, error) {
	var v any
	err := c.c.QueryRow(ctx, q).Scan(&v)
	return fmt.Sprint(v), err
}

func (c pgLoadConn) close() { _ = c.c.Close(context.Background()) }

type myLoadConn struct{ c *sql.Conn }

func (c myLoadConn) exec(ctx context.Context, q string) error {
	_, err := c.c.ExecContext(ctx, q)
	return err
}

func (c myLoadConn) value(ctx context.Context, q string) (string, error) {
	var v string
	err := c.c.QueryRowContext(ctx, q).Scan(&v)
	return v, err
}

func (c myLoadConn) close() { _ = c.c.Close() }

// proxyLoad is the proxy side of a failover test for one engine.
type proxyLoad struct {
	connect  func(ctx context.Context) (loadConn, error)
	table    string
	serverID string // query naming the server (port or server id)
	newID    string // its answer on the new writer
}

func (p *proxyLoad) insert(worker, seq int) string {
	return fmt.Sprintf("INSERT INTO %s (worker, seq) VALUES (%d, %d)", p.table, worker, seq)
}

// worker writes through its own client connection, opened again after
// any error (the load generator reconnects; pgbench would abort).
func (p *proxyLoad) worker(w int) (worker, func()) {
	var conn loadConn
	return func(ctx context.Context, seq int) error {
			if conn == nil {
				c, err := p.connect(ctx)
				if err != nil {
					return err
				}
				conn = c
			}
			if err := conn.exec(ctx, p.insert(w, seq)); err != nil {
				conn.close()
				conn = nil
				return err
			}
			return nil
		}, func() {
			if conn != nil {
				conn.close()
			}
		}
}

// TestFailover_ProxyLoad: writes through the proxy from load clients that
// reconnect on errors, while the writer is killed and the replica
// promoted (PostgreSQL synchronous replication, MariaDB semi-sync
// AFTER_SYNC). Idle clients keep their connections and their next
// transaction runs on the new writer; a client that was in a transaction
// gets the database's error; the load resumes within 2 × the
// health-check interval; every acknowledged write is on the new writer.
func TestFailover_ProxyLoad(t *testing.T) {
	for _, engine := range []string{"postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			r := failoverTopology(t, engine)
			rs := failoverServer(t, r)
			p := &proxyLoad{table: "fo_ledger_" + randomHex(4)}
			var newWriter *adminConn
			if engine == "postgres" {
				url := fmt.Sprintf("postgres://sqlgate:sqlgatepw@%s/sqlgate_test?sslmode=disable", rs.pgProxy)
				p.connect = func(ctx context.Context) (loadConn, error) {
					c, err := pgx.Connect(ctx, url)
					return pgLoadConn{c}, err
				}
				p.serverID, p.newID = "SELECT inet_server_port()", fmt.Sprint(port(t, r.PGReplica))
				newWriter = openPGAdmin(t, fmt.Sprintf("postgres://sqlgate:sqlgatepw@%s/sqlgate_test?sslmode=disable", r.PGReplica))
			} else {
				db := rs.myDB(t)
				p.connect = func(ctx context.Context) (loadConn, error) {
					c, err := db.Conn(ctx)
					return myLoadConn{c}, err
				}
				p.serverID, p.newID = "SELECT @@server_id", "2"
				newWriter = openMySQLAdmin(t, fmt.Sprintf("sqlgate:sqlgatepw@tcp(%s)/sqlgate_test", r.MySQLReplica))
			}
			ctx := context.Background()
			conn := func() loadConn {
				c, err := p.connect(ctx)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(c.close)
				if err := c.exec(ctx, "SELECT 1"); err != nil {
					t.Fatal(err)
				}
				return c
			}
			if err := conn().exec(ctx, "CREATE TABLE "+p.table+" (worker int, seq int, PRIMARY KEY (worker, seq))"); err != nil {
				t.Fatal(err)
			}
			idle := []loadConn{conn(), conn()}
			inTx := conn()
			for _, q := range []string{"BEGIN", p.insert(-1, 1)} {
				if err := inTx.exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			var workers []worker
			for w := range 4 {
				op, done := p.worker(w)
				t.Cleanup(done)
				workers = append(workers, op)
			}
			l := failoverRun(t, r, engine, workers)
			checkLedger(t, l, newWriter, p.table)

			// The idle clients' connections stayed open: their next
			// transaction runs, at the first attempt, on the new writer.
			for i, c := range idle {
				if err := c.exec(ctx, "BEGIN"); err != nil {
					t.Fatalf("idle client %d: begin after the failover: %v", i, err)
				}
				if id, err := c.value(ctx, p.serverID); err != nil || id != p.newID {
					t.Fatalf("idle client %d: server %q, %v; want the new writer %s", i, id, err, p.newID)
				}
				if err := c.exec(ctx, p.insert(-2, i)); err != nil {
					t.Fatalf("idle client %d: write: %v", i, err)
				}
				if err := c.exec(ctx, "COMMIT"); err != nil {
					t.Fatalf("idle client %d: commit: %v", i, err)
				}
			}
			// The client that was in a transaction gets an error for its
			// commit, and its write is not on the new writer.
			if err := inTx.exec(ctx, "COMMIT"); err == nil {
				t.Fatal("a commit of a transaction begun on the dead writer succeeded")
			} else {
				t.Logf("in-transaction client's commit: %v", err)
			}
			if n := newWriter.count(t, "SELECT count(*) FROM "+p.table+" WHERE worker = -1"); n != 0 {
				t.Fatalf("the dead writer's uncommitted transaction is on the new writer (%d rows)", n)
			}
			if n := newWriter.count(t, "SELECT count(*) FROM "+p.table+" WHERE worker = -2"); n != len(idle) {
				t.Fatalf("%d of the idle clients' writes on the new writer, want %d", n, len(idle))
			}
			if err := newWriter.exec("DROP TABLE " + p.table); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestFailover_DataAPILoad is the failover under load through the Data API
// (aws-sdk-go-v2 rdsdata, its retries off so every answer is seen): a call
// during the switch gets an error the SDK retries, never a wrong answer —
// each acknowledged INSERT updated one row, a read after it sees it, and
// every acknowledged write is on the new writer.
func TestFailover_DataAPILoad(t *testing.T) {
	retryable := retry.IsErrorRetryables(retry.DefaultRetryables)
	for _, engine := range []string{"postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			r := failoverTopology(t, engine)
			rs := failoverServer(t, r)
			cluster, writer := "pg", r.PGReplica
			newWriter := func() *adminConn {
				return openPGAdmin(t, fmt.Sprintf("postgres://sqlgate:sqlgatepw@%s/sqlgate_test?sslmode=disable", writer))
			}
			if engine == "mariadb" {
				cluster, writer = "maria", r.MySQLReplica
				newWriter = func() *adminConn {
					return openMySQLAdmin(t, fmt.Sprintf("sqlgate:sqlgatepw@tcp(%s)/sqlgate_test", writer))
				}
			}
			table := "fo_data_" + randomHex(4)
			ctx := context.Background()
			exec := func(ctx context.Context, q string) (*rdsdata.ExecuteStatementOutput, error) {
				return rs.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(rs.srv.ClusterARN(cluster)),
					SecretArn: aws.String(cluster + "-proxy"), Sql: aws.String(q)})
			}
			if _, err := exec(ctx, "CREATE TABLE "+table+" (worker int, seq int, PRIMARY KEY (worker, seq))"); err != nil {
				t.Fatal(err)
			}
			var wrong atomic.Value // first wrong answer or non-retryable error
			check := func(err error) error {
				if err != nil && retryable.IsErrorRetryable(err) != aws.TrueTernary {
					wrong.CompareAndSwap(nil, fmt.Sprintf("a call got an error the SDK does not retry: %v", err))
				}
				return err
			}
			var workers []worker
			for w := range 4 {
				workers = append(workers, func(ctx context.Context, seq int) error {
					out, err := exec(ctx, fmt.Sprintf("INSERT INTO %s (worker, seq) VALUES (%d, %d)", table, w, seq))
					if check(err) != nil {
						return err
					}
					if out.NumberOfRecordsUpdated != 1 {
						wrong.CompareAndSwap(nil, fmt.Sprintf("INSERT answered %d rows updated", out.NumberOfRecordsUpdated))
					}
					// Read your write: an answer that misses it is wrong.
					got, err := exec(ctx, fmt.Sprintf("SELECT max(seq) FROM %s WHERE worker = %d", table, w))
					if check(err) != nil {
						return nil // the write itself was acknowledged
					}
					if v, ok := got.Records[0][0].(*types.FieldMemberLongValue); !ok || v.Value < int64(seq) {
						wrong.CompareAndSwap(nil, fmt.Sprintf("worker %d read %#v after its write %d was acknowledged", w, got.Records[0][0], seq))
					}
					return nil
				})
			}
			l := failoverRun(t, r, engine, workers)
			if w := wrong.Load(); w != nil {
				t.Fatal(w)
			}
			nw := newWriter()
			checkLedger(t, l, nw, table)
			if err := nw.exec("DROP TABLE " + table); err != nil {
				t.Error(err)
			}
		})
	}
}

package exec

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engine/mysql"
	"github.com/sqlgate/sqlgate/internal/engine/postgres"
	"github.com/sqlgate/sqlgate/internal/pool"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// watched is a one-connection cluster on a real server whose engine is an
// engine.Interrupter, so Exec runs its statements under the janitor.
type watched struct {
	cl    *Cluster
	creds engine.Credentials
	sleep func(sec float64) string
}

func (w watched) exec(ctx context.Context, t *testing.T, sql string) (*engine.Result, int64, error) {
	t.Helper()
	s, err := w.cl.Open(context.Background(), w.creds)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.Conn().(engine.Interrupter); !ok {
		t.Fatalf("%T is not an engine.Interrupter", s.Conn())
	}
	res, err := s.Exec(ctx, Statement{SQL: sql, Last: true})
	return res, s.ID(), err
}

func watchedClusters(t *testing.T, timeout time.Duration) map[string]watched {
	t.Helper()
	newCl := func(name string, d engine.Dialect, eng engine.Engine) *Cluster {
		p := pool.New(eng, pool.Config{Max: 1})
		t.Cleanup(func() { p.Close(); _ = eng.Close() })
		return &Cluster{Name: name, Dialect: d, Pool: p, StatementTimeout: timeout,
			BorrowTimeout: 5 * time.Second, MaxResponseBytes: 1 << 20}
	}
	u, err := url.Parse(testdb.PGURL(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	my, err := gomysql.ParseDSN(testdb.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]watched{
		"postgres": {newCl("pg", engine.DialectPostgres, postgres.New(postgres.Config{Address: u.Host, ConnectTimeout: 5 * time.Second})),
			engine.Credentials{User: u.User.Username(), Password: pw, Database: strings.TrimPrefix(u.Path, "/")},
			func(s float64) string { return fmt.Sprintf("SELECT pg_sleep(%g)", s) }},
		"mysql": {newCl("maria", engine.DialectMySQL, mysql.New(mysql.Config{Address: my.Addr, ConnectTimeout: 5 * time.Second})),
			engine.Credentials{User: my.User, Password: my.Passwd, Database: my.DBName},
			func(s float64) string { return fmt.Sprintf("SELECT SLEEP(%g)", s) }},
	}
}

// TestJanitor_Timeout: a statement past the statement timeout is stopped
// on the backend and classified as a timeout; a caller that goes away
// stops its statement too; the connection is reused afterwards.
func TestJanitor_Timeout(t *testing.T) {
	for name, w := range watchedClusters(t, 300*time.Millisecond) {
		t.Run(name, func(t *testing.T) {
			_, id, err := w.exec(context.Background(), t, "SELECT 1")
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, id2, err := w.exec(context.Background(), t, w.sleep(10))
			took := time.Since(start)
			if Classify(err) != ClassTimeout || !errors.Is(err, engine.ErrTimeout) {
				t.Fatalf("sleep past the timeout: %v (class %d), want a timeout", err, Classify(err))
			}
			if took < 300*time.Millisecond || took > 3*time.Second {
				t.Errorf("stopped after %v, want about 300ms", took)
			}
			if id2 != id {
				t.Errorf("connection %d replaced by %d: a stopped statement must leave it usable", id, id2)
			}

			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			start = time.Now()
			_, _, err = w.exec(ctx, t, w.sleep(10))
			took = time.Since(start)
			if Classify(err) != ClassCanceled || !errors.Is(err, context.Canceled) {
				t.Fatalf("caller gone: %v (class %d), want cancelled", err, Classify(err))
			}
			if took > 3*time.Second {
				t.Errorf("stopped after %v, want about 100ms", took)
			}
			res, _, err := w.exec(context.Background(), t, "SELECT 2")
			if err != nil || len(res.Rows) != 1 || res.Rows[0][0].Long != 2 {
				t.Fatalf("after the stops: %v %v", res, err)
			}
		})
	}
}

// TestJanitor_Race: statements that end about when their timeout passes
// race the janitor's interrupt. Each either succeeds or times out, and
// the interrupt never reaches the connection's next statement.
func TestJanitor_Race(t *testing.T) {
	for name, w := range watchedClusters(t, 20*time.Millisecond) {
		t.Run(name, func(t *testing.T) {
			var timeouts, slow int
			for i := range 30 {
				_, _, err := w.exec(context.Background(), t, w.sleep(0.018+0.001*float64(i%10)))
				switch {
				case err == nil:
				case Classify(err) == ClassTimeout:
					timeouts++
				default:
					t.Fatalf("statement %d: %v (class %d)", i, err, Classify(err))
				}
				slow += w.selectThree(t, i)
			}
			t.Logf("%d of 30 timed out; %d statements after them ran past the timeout themselves", timeouts, slow)
		})
	}
}

// selectThree runs SELECT 3 after statement i and fails the test unless it
// answers 3. An interrupt meant for statement i would end it with the
// database's own error (MariaDB 1317, PostgreSQL 57014), never as a
// timeout; a SELECT 3 that ran past the 20 ms timeout itself (a loaded
// machine) proves nothing either way and runs again, up to four times.
// It returns how many times it timed out.
func (w watched) selectThree(t *testing.T, i int) int {
	t.Helper()
	for n := 0; ; n++ {
		res, _, err := w.exec(context.Background(), t, "SELECT 3")
		if err != nil && Classify(err) == ClassTimeout && n < 4 {
			continue
		}
		if err != nil || res.Rows[0][0].Long != 3 {
			t.Fatalf("statement after %d: %v %v", i, res, err)
		}
		return n
	}
}

// nopInterrupter is a connection that is never interrupted in the
// benchmark (its statements end long before their timeout).
type nopInterrupter struct{}

func (nopInterrupter) Interrupt() {}

// BenchmarkStatementWatch is what a statement's timeout costs when it
// ends in time: the janitor's arm and disarm, against the context and
// timer it replaces.
func BenchmarkStatementWatch(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("janitor", func(b *testing.B) {
		b.ReportAllocs()
		var s Session
		for b.Loop() {
			sc := &s.sc
			sc.Context, sc.conn = ctx, nopInterrupter{}
			sc.deadline = time.Now().Add(time.Minute)
			sc.why.Store(stopNone)
			stmtJanitor.arm(sc)
			stmtJanitor.disarm(sc)
		}
	})
	b.Run("WithTimeout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sctx, cancel := context.WithTimeout(ctx, time.Minute)
			_ = sctx.Done()
			cancel()
		}
	})
}

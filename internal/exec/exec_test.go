package exec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engine/sqlite"
	"github.com/sqlgate/sqlgate/internal/pool"
)

// liteCluster is an execution-service cluster over a real SQLite engine
// whose pool holds one connection. The statement timeout leaves room for
// DDL on a loaded machine under -race (200 ms did not); the endless-query
// test waits it out.
func liteCluster(t *testing.T) *Cluster {
	t.Helper()
	eng, err := sqlite.New(sqlite.Config{Path: filepath.Join(t.TempDir(), "main.db")})
	if err != nil {
		t.Fatal(err)
	}
	p := pool.New(eng, pool.Config{Max: 1})
	t.Cleanup(func() { p.Close(); eng.Close() })
	return &Cluster{Name: "lite", Dialect: engine.DialectSQLite, Pool: p, StatementTimeout: 2 * time.Second,
		BorrowTimeout: 200 * time.Millisecond, MaxResponseBytes: 1 << 20}
}

func run(t *testing.T, cl *Cluster, sqls ...string) (*engine.Result, error) {
	t.Helper()
	sess, err := cl.Open(context.Background(), engine.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var res *engine.Result
	for _, sql := range sqls {
		if res, err = sess.Exec(context.Background(), Statement{SQL: sql}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func TestSession_CleanPerCall(t *testing.T) {
	cl := liteCluster(t)
	if _, err := run(t, cl, "CREATE TABLE t (i INTEGER)", "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if st := cl.Pool.Stats(); st.Idle != 1 || st.Busy != 0 {
		t.Fatalf("a clean connection is kept idle: %+v", st)
	}
	// One session holds its state across its statements…
	res, err := run(t, cl, "PRAGMA foreign_keys = 0", "CREATE TEMP TABLE tmp (i)", "PRAGMA foreign_keys")
	if err != nil || res.Rows[0][0].Long != 0 {
		t.Fatalf("within one session: %v %v", res, err)
	}
	// …and the next starts clean: the dirty connection was closed.
	if st := cl.Pool.Stats(); st.Idle != 0 || st.Busy != 0 {
		t.Fatalf("a dirty connection is not kept: %+v", st)
	}
	res, err = run(t, cl, "PRAGMA foreign_keys")
	if err != nil || res.Rows[0][0].Long != 1 {
		t.Fatalf("next session: foreign_keys %v %v", res, err)
	}
	if _, err := run(t, cl, "SELECT * FROM tmp"); err == nil {
		t.Fatal("the next session sees the temporary table")
	}
}

func TestSession_TransactionControl(t *testing.T) {
	cl := liteCluster(t)
	for _, sql := range []string{"BEGIN", "COMMIT", "ROLLBACK", "END TRANSACTION", "SAVEPOINT a", "RELEASE a", "ROLLBACK TO a"} {
		_, err := run(t, cl, sql)
		var tce *TxControlError
		if !errors.As(err, &tce) || Classify(err) != ClassTxControl {
			t.Errorf("%q: %v, want TxControlError", sql, err)
		}
	}
	sess, err := cl.Open(context.Background(), engine.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx := context.Background()
	if err := sess.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"CREATE TABLE s (i)", "SAVEPOINT a", "INSERT INTO s VALUES (1)", "ROLLBACK TO a", "RELEASE a"} {
		if _, err := sess.Exec(ctx, Statement{SQL: sql}); err != nil {
			t.Fatalf("in a transaction: %s: %v", sql, err)
		}
	}
	if _, err := sess.Exec(ctx, Statement{SQL: "COMMIT"}); Classify(err) != ClassTxControl {
		t.Fatalf("COMMIT in a transaction: %v", err)
	}
	if err := sess.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSession_TimeoutAndClassify(t *testing.T) {
	cl := liteCluster(t)
	_, err := run(t, cl, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")
	if Classify(err) != ClassTimeout {
		t.Fatalf("endless query: %v (class %d), want a timeout", err, Classify(err))
	}
	_, err = run(t, cl, "SELECT * FROM no_such_table")
	if Classify(err) != ClassDatabase {
		t.Fatalf("bad table: %v", err)
	}
	// The pool's one connection is busy: the borrow times out.
	sess, err := cl.Open(context.Background(), engine.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.Open(context.Background(), engine.Credentials{})
	sess.Close()
	if Classify(err) != ClassExhausted {
		t.Fatalf("second borrow: %v, want exhausted", err)
	}
	for _, tc := range []struct {
		err  error
		want Class
	}{
		{nil, ClassNone}, {&engine.ParamError{Msg: "x"}, ClassParam}, {fmt.Errorf("x: %w", engine.ErrResultTooLarge), ClassTooLarge},
		{&engine.UnsupportedTypeError{TypeName: "MONEY"}, ClassUnsupported}, {fmt.Errorf("x: %w", engine.ErrUnavailable), ClassUnavailable},
		{context.Canceled, ClassCanceled}, {errors.New("boom"), ClassInternal},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestParseSecret(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want Secret
	}{
		{`{"username":"app","password":"pw","dbname":"d","engine":"mysql"}`, true, Secret{"app", "pw", "d"}},
		{`{"username":"app","password":""}`, true, Secret{"app", "", ""}},
		{`{"username":"app"}`, false, Secret{}},
		{`{"username":"","password":"x"}`, false, Secret{}},
		{`{"password":"x"}`, false, Secret{}},
		{`{"username":1,"password":"x"}`, false, Secret{}},
		{`not json`, false, Secret{}},
		{``, false, Secret{}},
	} {
		got, err := ParseSecret(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSecret(%q) = %+v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidSecret) {
			t.Errorf("ParseSecret(%q) error %v is not ErrInvalidSecret", tc.in, err)
		}
	}
}

func FuzzParseSecret(f *testing.F) {
	for _, s := range []string{`{"username":"a","password":"b"}`, `{}`, `[]`, `{"username":null}`, "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sec, err := ParseSecret(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSecret) {
				t.Fatalf("ParseSecret(%q): %v", s, err)
			}
			return
		}
		b, _ := json.Marshal(map[string]string{"username": sec.Username, "password": sec.Password, "dbname": sec.DBName})
		if again, err := ParseSecret(string(b)); err != nil || again != sec {
			t.Fatalf("ParseSecret(%q) = %+v; re-encoded %s parses as %+v, %v", s, sec, b, again, err)
		}
	})
}

// TestSecretCache: a cached secret follows its value (a new version is
// parsed anew) and invalid values are refused every time.
func TestSecretCache(t *testing.T) {
	var c SecretCache
	const arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app-AbCdEf"
	for i, tc := range []struct{ value, user, pw string }{
		{`{"username":"app","password":"one"}`, "app", "one"},
		{`{"username":"app","password":"one"}`, "app", "one"},
		{`{"username":"app","password":"two","dbname":"x"}`, "app", "two"},
		{`{"username":"app","password":"one"}`, "app", "one"},
	} {
		s, err := c.Parse(arn, tc.value)
		if err != nil || s.Username != tc.user || s.Password != tc.pw {
			t.Fatalf("step %d: got %+v, %v", i, s, err)
		}
	}
	for range 2 {
		if _, err := c.Parse(arn, `{"username":"app"}`); !errors.Is(err, ErrInvalidSecret) {
			t.Fatalf("invalid secret: %v", err)
		}
	}
}

func BenchmarkSecretCacheParse(b *testing.B) {
	var c SecretCache
	const v = `{"username":"app","password":"s3cr3t-password-0123456789","engine":"postgres","host":"db","port":5432}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Parse("arn:aws:secretsmanager:us-east-1:000000000000:secret:app-AbCdEf", v); err != nil {
			b.Fatal(err)
		}
	}
}

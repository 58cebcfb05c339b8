package exec

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engine/sqlite"
	"github.com/sqlgate/sqlgate/internal/pool"
)

// passwordEngine is a SQLite engine that, like a database whose password
// was just changed, refuses every login but the one with password want.
type passwordEngine struct {
	*sqlite.Engine
	want   string
	logins []string
}

func (e *passwordEngine) Connect(ctx context.Context, c engine.Credentials) (engine.Conn, error) {
	e.logins = append(e.logins, c.Password)
	if c.Password != e.want {
		return nil, &engine.DBError{Message: "password authentication failed", SQLState: "28P01"}
	}
	return e.Engine.Connect(ctx, c)
}

func TestCluster_OpenRetriesOtherVersion(t *testing.T) {
	lite, err := sqlite.New(sqlite.Config{Path: filepath.Join(t.TempDir(), "main.db")})
	if err != nil {
		t.Fatal(err)
	}
	eng := &passwordEngine{Engine: lite, want: "two"}
	p := pool.New(eng, pool.Config{Max: 2})
	t.Cleanup(func() { p.Close(); lite.Close() })
	other := map[string]string{"arn:s": `{"username":"app","password":"two"}`}
	var asked []string
	cl := &Cluster{Name: "lite", Dialect: engine.DialectSQLite, Pool: p, StatementTimeout: time.Second, BorrowTimeout: time.Second,
		Other: func(_ context.Context, arn string) (string, bool, error) {
			asked = append(asked, arn)
			v, ok := other[arn]
			return v, ok, nil
		}}
	ctx := context.Background()

	// The secret's login races a password change: retried once with the
	// other version, which the database accepts.
	sess, err := cl.Open(ctx, engine.Credentials{User: "app", Password: "one", Secret: "arn:s"})
	if err != nil {
		t.Fatalf("Open with the changed password: %v (logins %v)", err, eng.logins)
	}
	sess.Close()
	if len(eng.logins) != 2 || eng.logins[1] != "two" || len(asked) != 1 {
		t.Fatalf("logins %v, other asked for %v", eng.logins, asked)
	}

	// No secret, or no other version: the refusal is the answer.
	for _, c := range []engine.Credentials{{User: "app", Password: "one"}, {User: "app", Password: "one", Secret: "arn:none"}} {
		if _, err := cl.Open(ctx, c); !engine.LoginRefused(err) {
			t.Fatalf("Open(%+v) = %v, want the refused login", c, err)
		}
	}
	// The other version is the one that was refused: not retried.
	eng.logins = nil
	if _, err := cl.Open(ctx, engine.Credentials{User: "app", Password: "two", Secret: "arn:s"}); err != nil || len(eng.logins) > 1 {
		t.Fatalf("Open(current) = %v, logins %v", err, eng.logins)
	}
	eng.want = "three"
	eng.logins = nil
	fresh := pool.New(eng, pool.Config{Max: 2}) // no idle connection to reuse
	t.Cleanup(fresh.Close)
	cl.Pool = fresh
	if _, err := cl.Open(ctx, engine.Credentials{User: "app", Password: "two", Secret: "arn:s"}); !engine.LoginRefused(err) || len(eng.logins) != 1 {
		t.Fatalf("Open with no other version to try = %v, logins %v", err, eng.logins)
	}
}

package postgres

import (
	"github.com/sqlgate/sqlgate/internal/testdb"

	"context"
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// pgURL returns the test server URL; see CONTRIBUTING.md "Testing".
func pgURL(t testing.TB) string { t.Helper(); return testdb.PGURL(t) }

// testServer splits the test URL into an Engine and the credentials of its
// database.
func testServer(t testing.TB) (*Engine, engine.Credentials) {
	t.Helper()
	u, err := url.Parse(pgURL(t))
	if err != nil {
		t.Fatalf("parse SQLGATE_TEST_PG_URL: %v", err)
	}
	pw, _ := u.User.Password()
	mode := u.Query().Get("sslmode")
	if mode == "prefer" || mode == "allow" {
		mode = ""
	}
	e := New(Config{Address: u.Host, TLSMode: mode, ConnectTimeout: 5 * time.Second})
	return e, engine.Credentials{User: u.User.Username(), Password: pw, Database: strings.TrimPrefix(u.Path, "/")}
}

// connect opens a Conn to the test database, closed at the end of the test.
func connect(t *testing.T) *Conn {
	t.Helper()
	e, creds := testServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.Connect(ctx, creds)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*Conn)
}

func exec(t *testing.T, c *Conn, sql string, params ...engine.Param) *engine.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Exec(ctx, sql, params, 0)
	if err != nil {
		t.Fatalf("Exec(%q): %v", sql, err)
	}
	return res
}

// sameValue is reflect.DeepEqual with NaN equal to NaN and nil slices equal
// to empty ones.
func sameValue(a, b engine.Value) bool {
	if a.Kind == engine.KindDouble && b.Kind == engine.KindDouble && math.IsNaN(a.Double) && math.IsNaN(b.Double) {
		return true
	}
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case engine.KindArray:
		if a.ElemKind != b.ElemKind || len(a.Array) != len(b.Array) {
			return false
		}
		for i := range a.Array {
			if !sameValue(a.Array[i], b.Array[i]) {
				return false
			}
		}
		return true
	case engine.KindBlob:
		return string(a.Blob) == string(b.Blob)
	}
	return reflect.DeepEqual(a, b)
}

func arr(elem engine.Kind, vs ...engine.Value) engine.Value {
	return engine.Value{Kind: engine.KindArray, ElemKind: elem, Array: vs}
}

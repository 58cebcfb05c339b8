package mysqlproxy

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSession_PreparedAcrossBackends: binary-protocol statements
// prepared while on one backend execute on another (lazy re-prepare and id
// remap) without pinning.
func TestSession_PreparedAcrossBackends(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 2, borrowTimeout: 5 * time.Second})
	db := tp.open(t, "")
	c := tp.conn(t, db)
	ctx := context.Background()
	stmt, err := c.PrepareContext(ctx, "SELECT CONNECTION_ID(), ?")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	var first uint64
	var v string
	if err := stmt.QueryRowContext(ctx, "a").Scan(&first, &v); err != nil || v != "a" {
		t.Fatalf("execute: %v %q", err, v)
	}
	// Another client holds the backend just used; the next execute must
	// land on the other one.
	hold := tp.conn(t, db)
	mustExec(t, hold, "BEGIN")
	var held uint64
	if err := hold.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&held); err != nil {
		t.Fatal(err)
	}
	var second uint64
	if err := stmt.QueryRowContext(ctx, 7).Scan(&second, &v); err != nil || v != "7" {
		t.Fatalf("execute on the other backend: %v %q", err, v)
	}
	if second == held {
		t.Fatalf("statement ran on the held backend %d", held)
	}
	mustExec(t, hold, "COMMIT")
	if strings.Contains(tp.logs.String(), "pinned") {
		t.Fatalf("prepared statements pinned the session:\n%s", tp.logs.String())
	}

	t.Run("many statements beyond the per-backend cache", func(t *testing.T) {
		for i := range maxStmtsPerBackend + 20 {
			var got int
			if err := c.QueryRowContext(ctx, fmt.Sprintf("SELECT %d + ?", i), 1).Scan(&got); err != nil || got != i+1 {
				t.Fatalf("statement %d: %v %d", i, err, got)
			}
		}
	})
	t.Run("long data", func(t *testing.T) {
		mustExec(t, tp.direct(t), "CREATE TABLE IF NOT EXISTS blobs (id int, b longblob)")
		small := tp.open(t, "maxAllowedPacket=4096") // args ≥ 2 KiB go as COM_STMT_SEND_LONG_DATA
		blob := bytes.Repeat([]byte("0123456789"), 10000)
		mustExec(t, small, "DELETE FROM blobs WHERE id = 1")
		mustExec(t, small, "INSERT INTO blobs VALUES (?, ?)", 1, blob)
		var n int
		if err := small.QueryRow("SELECT LENGTH(b) FROM blobs WHERE id = ?", 1).Scan(&n); err != nil || n != len(blob) {
			t.Fatalf("long data round trip: %v, length %d want %d", err, n, len(blob))
		}
	})
	t.Run("types rebound", func(t *testing.T) {
		s, err := db.Prepare("SELECT CONCAT(?, '')")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, arg := range []any{1, "two", 3.5, []byte("four"), nil} {
			var got *string
			if err := s.QueryRow(arg).Scan(&got); err != nil {
				t.Fatalf("%v: %v", arg, err)
			}
		}
	})
	t.Run("unknown statement", func(t *testing.T) {
		s, err := db.Prepare("SELECT ?")
		if err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
		if _, err := s.Exec(1); err == nil {
			t.Fatal("closed statement executed")
		}
	})
	tp.waitIdle(t)
}

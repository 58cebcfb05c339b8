package mysqlproxy

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// sessionsOf returns the proxy's current client sessions.
func sessionsOf(tp *testProxy) []*session {
	tp.srv.mu.Lock()
	defer tp.srv.mu.Unlock()
	var out []*session
	for _, s := range tp.srv.sessions {
		out = append(out, s)
	}
	return out
}

// waitParked waits until n sessions exist and all of them park (rest, on
// systems without parking).
func waitParked(t *testing.T, tp *testProxy, n int) {
	t.Helper()
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "the idle sessions rest and park", func() bool {
		all := sessionsOf(tp)
		for _, s := range all {
			if !s.ps.Resting() || runtime.GOOS == "linux" && !s.ps.Parked() {
				return false
			}
		}
		return len(all) == n
	})
}

// An idle client rests and parks (its packet buffers go back to the pool,
// its goroutine ends) and then carries on: its session variables, a
// prepared statement made before, a packet larger than the buffers and a
// transaction all work.
func TestSession_idleClientParks(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 1, idleTimeout: time.Minute})
	db := tp.open(t, "")
	c := tp.conn(t, db)
	ctx := context.Background()
	mustExec(t, c, "SET time_zone = '+02:00'")
	stmt, err := c.PrepareContext(ctx, "SELECT ? + 1")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	waitParked(t, tp, 1)
	if tz := queryString(t, c, "SELECT @@time_zone"); tz != "+02:00" {
		t.Fatalf("time_zone after parking: %q", tz)
	}
	var n int
	if err := stmt.QueryRowContext(ctx, 41).Scan(&n); err != nil || n != 42 {
		t.Fatalf("prepared after parking: %d, %v", n, err)
	}
	waitParked(t, tp, 1)
	big := strings.Repeat("x", 40<<10) // larger than the 16 KiB buffers
	if got := queryString(t, c, "SELECT LENGTH(?)", big); got != "40960" {
		t.Fatalf("large packet after parking: %s", got)
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, tx, "SELECT 'in a transaction'"); got != "in a transaction" {
		t.Fatalf("transaction after parking: %q", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A parked session still ends at its idle timeout, and KILL CONNECTION
// from another client ends a parked one at once.
func TestSession_parkedSessionEnds(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sessions park on Linux only")
	}
	tp := startProxy(t, proxyOpts{pool: 2, idleTimeout: 6 * time.Second})
	db := tp.open(t, "")
	db.SetMaxIdleConns(0)
	ctx := context.Background()
	killed := tp.conn(t, db)
	mustExec(t, killed, "SELECT 1")
	killedID := sessionsOf(tp)[0].id // the proxy's connection id
	timedOut := tp.conn(t, db)
	mustExec(t, timedOut, "SELECT 1")
	waitParked(t, tp, 2)
	killer := tp.conn(t, db)
	mustExec(t, killer, fmt.Sprintf("KILL CONNECTION %d", killedID))
	if _, err := killed.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Fatal("a killed parked client still runs statements")
	}
	_ = killer.Close()
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "the parked session's idle timeout", func() bool {
		return len(sessionsOf(tp)) == 0
	})
	if _, err := timedOut.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Fatal("a parked client past its idle timeout still runs statements")
	}
}

// Shutting down with parked clients wakes them and ends their sessions;
// Shutdown returns without waiting for a drain deadline.
func TestSession_parkedSessionShutdown(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sessions park on Linux only")
	}
	tp := startProxy(t, proxyOpts{pool: 1, idleTimeout: time.Minute})
	db := tp.open(t, "")
	c := tp.conn(t, db)
	mustExec(t, c, "SELECT 1")
	waitParked(t, tp, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := tp.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a parked client: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %v with only a parked client", d)
	}
	if n := len(sessionsOf(tp)); n != 0 {
		t.Fatalf("%d sessions left after shutdown", n)
	}
	if _, err := c.ExecContext(context.Background(), "SELECT 1"); err == nil {
		t.Fatal("a parked client still runs statements after shutdown")
	}
}

// Clients that connect while more sessions than the crowded bound are
// awake park right after their handshake (proxy.Session.Crowded), before
// any command and without resting, and are served when they send one.
func TestSession_crowdedClientsParkFresh(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sessions park on Linux only")
	}
	const awake, n = 3, 8
	tp := startProxy(t, proxyOpts{pool: 2, idleTimeout: time.Minute})
	tp.srv.Core().SetCrowded(awake)
	db := tp.open(t, "")
	db.SetMaxIdleConns(n)
	conns := make([]*sql.Conn, n)
	for i := range conns {
		conns[i] = tp.conn(t, db)
	}
	// At least one: sessions that rested meanwhile (a slow machine) leave
	// room awake. The client's handshake ends when the proxy's OK arrives,
	// a moment before the session parks, hence the wait.
	testdb.Eventually(t, 10*time.Second, 10*time.Millisecond, "a session parked after its handshake", func() bool {
		for _, s := range sessionsOf(tp) {
			if s.ps.Parked() && !s.ps.Resting() {
				return true
			}
		}
		return false
	})
	for i, c := range conns {
		if got := queryString(t, c, "SELECT ?", i); got != fmt.Sprint(i) {
			t.Fatalf("client %d: %q", i, got)
		}
	}
}

package pgproxy

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// An idle client rests (its read buffer goes back to the pool) and then
// carries on: a query split across the rest, a plain one, a transaction
// and a prepared statement made before it all work.
func TestServer_idleClientRests(t *testing.T) {
	tp := startProxy(t, 1)
	c := tp.connect(t, "")
	ctx := context.Background()
	if _, err := c.Exec(ctx, "SET application_name = 'rester'"); err != nil {
		t.Fatal(err)
	}
	sd, err := c.Prepare(ctx, "q", "SELECT $1::int + 1")
	if err != nil {
		t.Fatal(err)
	}
	var sess *session
	tp.srv.mu.Lock()
	for _, s := range tp.srv.sessions {
		sess = s
	}
	tp.srv.mu.Unlock()
	if sess == nil {
		t.Fatal("no session registered")
	}
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "the idle session rests", sess.ps.Resting)
	if runtime.GOOS == "linux" {
		testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "the resting session parks", sess.ps.Parked)
	}
	var app string
	if err := c.QueryRow(ctx, "SELECT current_setting('application_name')").Scan(&app); err != nil || app != "rester" {
		t.Fatalf("after rest: %q, %v", app, err)
	}
	var n int
	if err := c.QueryRow(ctx, sd.Name, 41).Scan(&n); err != nil || n != 42 {
		t.Fatalf("prepared after rest: %d, %v", n, err)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 3*readerSize) // longer than the read buffer
	var got string
	if err := tx.QueryRow(ctx, "SELECT $1::text", big).Scan(&got); err != nil || got != big {
		t.Fatalf("large frame after rest: %d bytes, %v", len(got), err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// A parked session (no goroutine while its client is idle) still ends at
// its idle timeout with the FATAL a waiting one gets, and a parked client
// that hangs up ends its session.
func TestServer_parkedSessionEnds(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sessions park on Linux only")
	}
	tp := startProxy(t, 1, func(c *config.Cluster) { c.Proxy.IdleClientTimeout = 5 * time.Second })
	ctx := context.Background()
	sessions := func() []*session {
		tp.srv.mu.Lock()
		defer tp.srv.mu.Unlock()
		var out []*session
		for _, s := range tp.srv.sessions {
			out = append(out, s)
		}
		return out
	}
	timedOut := tp.connect(t, "")
	if _, err := timedOut.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	hangUp := tp.connect(t, "")
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "both sessions park", func() bool {
		all := sessions()
		return len(all) == 2 && all[0].ps.Parked() && all[1].ps.Parked()
	})
	_ = hangUp.PgConn().Conn().Close()
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "the hung-up session ends", func() bool { return len(sessions()) == 1 })
	conn := timedOut.PgConn().Conn()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 1024)
	n, err := conn.Read(buf)
	if err != nil || n == 0 || buf[0] != 'E' || !bytes.Contains(buf[:n], []byte("57P05")) {
		t.Fatalf("parked client at its idle timeout: %q, %v", buf[:n], err)
	}
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "the timed-out session ends", func() bool { return len(sessions()) == 0 })
}

// Shutting the proxy down ends a parked session as it ends a waiting one:
// FATAL 57P01, and Shutdown does not wait for the drain deadline.
func TestServer_parkedSessionShutdown(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sessions park on Linux only")
	}
	tp := startProxy(t, 1)
	c := tp.connect(t, "")
	var sess *session
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "the session parks", func() bool {
		tp.srv.mu.Lock()
		defer tp.srv.mu.Unlock()
		for _, s := range tp.srv.sessions {
			sess = s
		}
		return sess != nil && sess.ps.Parked()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tp.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a parked session: %v", err)
	}
	conn := c.PgConn().Conn()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 1024)
	n, err := conn.Read(buf)
	if err != nil || n == 0 || buf[0] != 'E' || !bytes.Contains(buf[:n], []byte("57P01")) {
		t.Fatalf("parked client at shutdown: %q, %v", buf[:n], err)
	}
}

// Clients that connect while more sessions than the crowded bound are
// awake park right after the start-up exchange (proxy.Session.Crowded),
// before any query and without resting, and are served when they send
// one.
func TestServer_crowdedClientsParkFresh(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sessions park on Linux only")
	}
	const awake, n = 3, 8
	tp := startProxy(t, 2)
	tp.srv.Core().SetCrowded(awake)
	var conns []*pgx.Conn
	for range n {
		conns = append(conns, tp.connect(t, ""))
	}
	// At least one: sessions that rested meanwhile (a slow machine) leave
	// room awake. The client's start-up ends when ReadyForQuery arrives, a
	// moment before the session parks, hence the wait.
	testdb.Eventually(t, 10*time.Second, 10*time.Millisecond, "a session parked after its start-up exchange", func() bool {
		tp.srv.mu.Lock()
		defer tp.srv.mu.Unlock()
		for _, s := range tp.srv.sessions {
			if s.ps.Parked() && !s.ps.Resting() {
				return true
			}
		}
		return false
	})
	for i, c := range conns {
		var got int
		if err := c.QueryRow(context.Background(), "SELECT $1::int", i).Scan(&got); err != nil || got != i {
			t.Fatalf("client %d: %d, %v", i, got, err)
		}
	}
}

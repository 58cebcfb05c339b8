package pgproxy

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// The query that reads back the tracked parameters a unit changed goes to
// the backend after the client has the unit's reply, and the client may
// have sent part of its next unit by then: here a Bind (with a Flush),
// whose Describe and Execute follow. The query must wait for the end of
// that unit; sent in between it would drop the unnamed portal the Bind
// created ("portal "" does not exist").
func TestCapture_waitsForTheClientsUnit(t *testing.T) {
	var first atomic.Bool
	attempted := make(chan bool, 1) // whether the Bind had reached the backend
	testHookCapture = func(b *backend, send func()) {
		if !first.CompareAndSwap(false, true) {
			send()
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for !b.unsynced.Load() && time.Now().Before(deadline) {
			runtime.Gosched()
		}
		send()
		attempted <- b.unsynced.Load()
	}
	t.Cleanup(func() { testHookCapture = nil })
	tp := startProxy(t, 1)
	c := tp.connect(t, "")
	fe := c.PgConn().Frontend()
	if err := c.PgConn().Conn().SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	receiveUntil := func(what string, done func(pgproto3.BackendMessage) bool) []pgproto3.BackendMessage {
		t.Helper()
		var got []pgproto3.BackendMessage
		for {
			m, err := fe.Receive()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if e, ok := m.(*pgproto3.ErrorResponse); ok {
				t.Fatalf("%s: ERROR %s %s", what, e.Code, e.Message)
			}
			got = append(got, m)
			if done(m) {
				return got
			}
		}
	}
	isReady := func(m pgproto3.BackendMessage) bool { _, ok := m.(*pgproto3.ReadyForQuery); return ok }

	// The first unit is sent in two writes, so that the backend's reader,
	// not the session's goroutine, relays its replies.
	fe.Send(&pgproto3.Parse{Query: "SET IntervalStyle = sql_standard"})
	fe.Send(&pgproto3.Describe{ObjectType: 'S'})
	fe.Send(&pgproto3.Flush{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	receiveUntil("parse", func(m pgproto3.BackendMessage) bool { _, ok := m.(*pgproto3.NoData); return ok })
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	receiveUntil("sync", isReady)

	fe.Send(&pgproto3.Bind{})
	fe.Send(&pgproto3.Flush{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if !<-attempted {
		t.Fatal("the Bind did not reach the backend before the capture")
	}
	fe.Send(&pgproto3.Describe{ObjectType: 'P'})
	fe.Send(&pgproto3.Execute{})
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	got := receiveUntil("execute", isReady)
	var tag string
	for _, m := range got {
		if cc, ok := m.(*pgproto3.CommandComplete); ok {
			tag = string(cc.CommandTag)
		}
	}
	if tag != "SET" {
		t.Fatalf("replies %v, want the SET's CommandComplete", got)
	}
	_ = c.PgConn().Conn().SetReadDeadline(time.Time{})
	if style := queryString(t, c, "SHOW IntervalStyle"); style != "sql_standard" {
		t.Fatalf("IntervalStyle %q, want sql_standard", style)
	}
}

package proxy

import (
	"errors"
	"net"
	"testing"
	"time"
)

// The janitor's rest nudge: one per idle spell, only while the front end
// peeks and has opted in; the idle timeout still ends the session.
func TestSession_restNudge(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	s := &Session{raw: a, Conn: a, srv: &Server{drainCh: make(chan struct{})}}
	read := func() error {
		_, err := a.Read(make([]byte, 1))
		return s.IdleErr(err)
	}
	_ = s.WaitIdle()
	start := s.idleSince
	s.Peeking(true)
	s.expireIdle(start.Add(restAfter), time.Hour)
	if s.armed {
		t.Fatal("nudged a session that did not opt in")
	}
	s.AllowRest()
	s.Peeking(false)
	s.expireIdle(start.Add(restAfter), time.Hour)
	if s.armed {
		t.Fatal("nudged while the front end may be mid-message")
	}
	s.Peeking(true)
	s.expireIdle(start.Add(restAfter-time.Millisecond), time.Hour)
	if s.armed {
		t.Fatal("nudged before restAfter")
	}
	s.expireIdle(start.Add(restAfter), time.Hour)
	if err := read(); !errors.Is(err, ErrRest) {
		t.Fatalf("read after the nudge: %v, want ErrRest", err)
	}
	if err := s.Rest(); err != nil {
		t.Fatal(err)
	}
	s.expireIdle(start.Add(2*restAfter), time.Hour)
	if s.armed {
		t.Fatal("a second nudge in the same idle spell")
	}
	go func() { _, _ = b.Write([]byte("x")) }()
	if err := read(); err != nil {
		t.Fatalf("read after Rest: %v", err)
	}
	s.expireIdle(start.Add(time.Hour), time.Hour)
	if err := read(); !errors.Is(err, ErrIdleTimeout) {
		t.Fatalf("read after the idle timeout: %v, want ErrIdleTimeout", err)
	}
	s.Busy()
	if s.resting || s.armed {
		t.Fatal("Busy kept the rest state")
	}
	_ = s.WaitIdle()
	s.expireIdle(s.idleSince.Add(restAfter), time.Hour)
	if !s.armed || !s.restWake {
		t.Fatal("no nudge in the next idle spell")
	}
	close(s.srv.drainCh)
	if err := s.Rest(); !errors.Is(err, ErrShuttingDown) || !s.armed {
		t.Fatalf("Rest while draining: %v (armed %v)", err, s.armed)
	}
}

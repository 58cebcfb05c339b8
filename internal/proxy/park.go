package proxy

// Parked sessions. A resting session (idle.go) still costs a goroutine
// blocked in a read of its client, and that goroutine's stack (grown to
// 8 KiB by the start-up exchange) is most of what 10,000 idle clients
// cost. A front end may instead park the session: it calls Park with the
// function that carries on serving it and returns ErrParked from
// ServeSession. The goroutine ends; one watcher per process waits for
// every parked client socket at once (epoll on Linux, park_linux.go) and
// starts a new goroutine running the resume function when the client
// sends something or hangs up. The janitor's idle timeout, a shutdown
// nudge and the server's forced close wake a parked session the same way
// (unpark), so it ends exactly as a blocked one would: its read fails.

import (
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// ErrParked is returned by a front end's ServeSession after Park: the
// session is not over, its resume function will carry on.
var ErrParked = errors.New("session parked")

// ErrNoPark is returned by Park where sessions cannot be parked (not
// Linux, a TLS connection, or a connection without a file descriptor):
// the front end keeps its goroutine waiting.
var ErrNoPark = errors.New("parking not supported for this connection")

// parkState is a session's parking bookkeeping.
type parkState struct {
	resume func(ctx context.Context) error // set by Park, run on wake
	parked atomic.Bool                     // registered with the watcher
	fd     int
	gen    uint32
	closed bool // Close ran (under the session's mu)
	// fresh: parked at the start of the session (ParkFresh), with no
	// memory of an idle spell to reclaim.
	fresh bool
	ctx   context.Context // the session's, kept across goroutines
	start time.Time
}

// Park asks the server to end the session's goroutine once ServeSession
// returns ErrParked, and to run resume on a new goroutine when the client
// sends something, hangs up, or the session is woken (idle timeout,
// shutdown). It returns ErrNoPark when the connection cannot be parked;
// then the front end must go on waiting itself. Only an idle session
// whose front end holds no unread client bytes may park.
func (s *Session) Park(resume func(ctx context.Context) error) error {
	if s.tls || resume == nil {
		return ErrNoPark
	}
	fd, ok := connFD(s.raw)
	if !ok {
		return ErrNoPark
	}
	s.park.resume, s.park.fd, s.park.fresh = resume, fd, false
	return nil
}

// Parking fresh sessions. A client that connects and then stays idle
// (a connection pool filled at start-up) would otherwise hold its
// goroutine and buffers until its rest nudge, and a wave of thousands
// connecting together leaves behind what that peak cost: the runtime
// keeps a g for every goroutine that ever ran at once, and the heap
// spans of their buffers stay partly used. Parking costs a wake-up
// through the watcher when the client sends (tens of microseconds of a
// connection's CPU), so a session parks right after its setup only
// while more than crowdedAbove sessions are awake: clients that connect
// for one statement and leave pay nothing until the proxy is crowded.
const crowdedAbove = 256

// Crowded reports whether a session that just finished its setup should
// park at once (ParkFresh) rather than wait for its first message on its
// goroutine: more than crowdedAbove sessions of the endpoint are awake.
func (s *Session) Crowded() bool { return s.srv.awake.Load() > s.srv.crowded.Load() }

// SetCrowded sets how many awake sessions make the endpoint crowded
// (Session.Crowded; crowdedAbove until set). Tests set a small bound so
// that a handful of clients reach it.
func (s *Server) SetCrowded(n int) { s.crowded.Store(int64(n)) }

// ParkFresh is Park for a session that just finished its setup and waits
// for its first message: it parks without counting towards a reclaim
// (its garbage is the setup's, which the collector frees in its own
// time), so that a wave of clients connecting does not force
// collections.
func (s *Session) ParkFresh(resume func(ctx context.Context) error) error {
	if err := s.Park(resume); err != nil {
		return err
	}
	s.park.fresh = true
	return nil
}

// Parked reports whether the session is parked: no goroutine serves it
// until its client sends something.
func (s *Session) Parked() bool { return s.park.parked.Load() }

// parkSession registers sess with the watcher after its goroutine
// returned ErrParked. It reports false when that failed; the caller then
// resumes the session on its own goroutine.
func (s *Server) parkSession(sess *Session) bool {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.armed || sess.park.closed {
		return false // woken (idle timeout, shutdown, close) before it parked
	}
	if !watch(sess) {
		return false
	}
	s.awake.Add(-1)
	if !sess.park.fresh {
		reclaimAfterParks()
	}
	return true
}

// unpark wakes a parked session: on the watcher's report (its socket is
// readable or hung up), or when armLocked made its read fail (idle
// timeout, shutdown) or its connection is being closed. Only the first
// of them resumes it.
func (s *Session) unpark() {
	if s.park.parked.CompareAndSwap(true, false) {
		unwatch(s)
		go s.srv.resume(s)
	}
}

// resume runs a parked session's resume function on a new goroutine and
// ends (or parks) the session like run.
func (s *Server) resume(sess *Session) {
	s.awake.Add(1)
	err := s.recovered(sess, func() error { return sess.park.resume(sess.park.ctx) })
	s.finish(sess, err)
}

// Close closes the client connection (shutdown, KILL CONNECTION), waking
// the session first if it is parked (a closed descriptor would never
// report to the watcher): its resume finds the connection closed.
func (s *Session) Close() {
	s.mu.Lock()
	s.park.closed = true // parkSession must not register it any more
	s.unpark()
	s.mu.Unlock()
	_ = s.raw.Close()
}

// Memory of parked sessions. Their goroutine stacks and buffers become
// garbage, but with the process otherwise idle no collection runs to free
// them, and RSS stays at its peak. Once parking quiets down (no park for
// reclaimQuiet, or reclaimMax after the first park of a steady stream),
// if at least reclaimMin sessions parked since the last time, the runtime
// collects twice (pooled buffers survive one collection) and returns free
// memory to the system. Waiting for the quiet catches a whole wave of
// clients going idle together, tail included, in one collection.
const (
	reclaimMin   = 64
	reclaimQuiet = time.Second
	reclaimMax   = 5 * time.Second
)

var reclaim struct {
	mu    sync.Mutex
	parks int       // since the last reclaim
	first time.Time // of those parks
	timer *time.Timer
}

func reclaimAfterParks() {
	reclaim.mu.Lock()
	defer reclaim.mu.Unlock()
	now := time.Now()
	if reclaim.parks == 0 {
		reclaim.first = now
	}
	reclaim.parks++
	delay := min(reclaimQuiet, max(reclaim.first.Add(reclaimMax).Sub(now), 0))
	if reclaim.timer == nil {
		reclaim.timer = time.AfterFunc(delay, reclaimNow)
		return
	}
	reclaim.timer.Reset(delay)
}

// reclaimNow runs the reclaim the parks since the last one call for.
func reclaimNow() {
	reclaim.mu.Lock()
	n := reclaim.parks
	reclaim.parks = 0
	reclaim.mu.Unlock()
	if n >= reclaimMin {
		runtime.GC()
		debug.FreeOSMemory()
	}
}

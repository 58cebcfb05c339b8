package proxy

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Session is one client connection. The front end owns it for the duration
// of Handler.ServeSession.
type Session struct {
	// ID is the proxy-issued connection id (logs, cancel keys, KILL).
	ID uint64
	// Conn is the client connection; UpgradeTLS replaces it.
	Conn net.Conn
	// user and database, once the front end knows them (Identify), go
	// into the session's log lines.
	user, database string
	// Counters accumulate until Flush.
	Counters Counters

	raw       net.Conn
	srv       *Server
	pinReason string
	tls       bool
	// peeking: the front end waits for the client's next message without
	// consuming (Peeking), so a rest nudge cannot cut a message in half.
	peeking atomic.Bool
	park    parkState
	watch   clientWatch // shared with the watch loop (watch.go)

	mu        sync.Mutex // guards following fields
	idleSince time.Time  // when idle was set
	idle      bool
	armed     bool // a read deadline in the past is set (janitor, nudge)
	restOK    bool // the front end takes rest nudges (AllowRest)
	resting   bool // the front end rested during this idle spell
	restWake  bool // the armed deadline is a rest nudge
}

// Server returns the endpoint the session belongs to.
func (s *Session) Server() *Server { return s.srv }

// UpgradeTLS replaces Conn by its TLS server side (after the handshake the
// front end performs) and counts the session as TLS.
func (s *Session) UpgradeTLS(c *tls.Conn) {
	s.Conn = c
	s.tls = true
	s.srv.mu.Lock()
	s.srv.nTLS++
	s.srv.mu.Unlock()
}

// TLS reports whether the client connection is encrypted.
func (s *Session) TLS() bool { return s.tls }

// Loopback reports whether the client connected over a loopback address.
func (s *Session) Loopback() bool {
	if a, ok := s.raw.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.IsLoopback()
	}
	return false
}

// Draining reports whether the server is shutting down; a front end ends
// the session at the next transaction boundary.
func (s *Session) Draining() bool {
	select {
	case <-s.srv.drainCh:
		return true
	default:
		return false
	}
}

// WaitIdle marks the session idle (no transaction, no borrowed backend)
// and starts its idle_client_timeout; a front end calls it when a
// transaction ends and before it blocks reading the client. The timeout
// is enforced by the server's janitor (idle.go), not a deadline per
// transaction. When draining it makes the pending read fail at once and
// returns ErrShuttingDown. Read only without consuming on an idle session
// (e.g. bufio.Reader.Peek), then call Busy, so a shutdown nudge or the
// janitor cannot cut a message in half.
func (s *Session) WaitIdle() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	wasIdle := s.idle
	s.idle = true
	if s.Draining() {
		s.armLocked()
		return ErrShuttingDown
	}
	if !wasIdle {
		s.idleSince = time.Now()
		s.resting = false
	}
	return nil
}

// Busy clears the idle mark, and the read deadline if the janitor or a
// shutdown nudge set one.
func (s *Session) Busy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.idle {
		return
	}
	s.idle = false
	s.resting, s.restWake = false, false
	if s.armed {
		s.armed = false
		_ = s.raw.SetReadDeadline(time.Time{})
	}
}

// armLocked makes the pending client read fail now; s.mu is held.
func (s *Session) armLocked() {
	s.armed = true
	_ = s.raw.SetReadDeadline(time.Now())
	s.unpark()
}

// IdleErr maps a read error on an idle session: a deadline becomes
// ErrShuttingDown (drain nudge) or ErrIdleTimeout.
func (s *Session) IdleErr(err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	if s.Draining() {
		return ErrShuttingDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.restWake {
		return ErrRest
	}
	return ErrIdleTimeout
}

// nudge wakes an idle session blocked in a read so it sees Draining.
func (s *Session) nudge() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idle {
		s.armLocked()
	}
}

// LastBackend is the pool id of the backend connection a session last
// borrowed (0: none, or forgotten after the client reset its session).
// Both front ends decide with it whether a borrowed connection must be
// reset before the session uses it (Foreign).
type LastBackend uint64

// Foreign records that session self borrows pool connection id, last
// owned by session prev (0: nobody), and reports whether the connection
// may hold state self must not see: another session's, or self's own
// from before it moved to another connection, which may since hold newer
// values of the same state the proxy cannot see (a function or procedure
// run on each).
func (l *LastBackend) Foreign(self, prev, id uint64) bool {
	stale := prev == self && uint64(*l) != id
	*l = LastBackend(id)
	return prev != 0 && prev != self || stale
}

// Identify records the client's user and database for the session's log
// lines.
func (s *Session) Identify(user, database string) { s.user, s.database = user, database }

// Log returns a logger narrowed with the session id, cluster and, once
// identified, user and database. It is built for each use: an idle
// session keeps no formatted copy of its attributes (10,000 idle clients
// would hold ~2.5 MiB of them), and sessions log rarely.
func (s *Session) Log() *slog.Logger {
	l := s.srv.log.With("session", s.ID, "cluster", s.srv.cluster)
	if s.user != "" {
		l = l.With("user", s.user, "database", s.database)
	}
	return l
}

// Pin records that the session is pinned to its backend connection for the
// rest of its life. The first reason is logged (once per session) and
// counted; later calls are no-ops. It reports whether this call pinned.
func (s *Session) Pin(reason, digest string, backendID uint64) bool {
	if s.pinReason != "" {
		return false
	}
	s.pinReason = reason
	s.srv.pinned.Add(1)
	s.srv.m.Pins.Inc(s.srv.cluster, reason)
	s.Log().Info("The client session was pinned to the database connection for the remainder of the session.",
		"dbConnection", backendID, "reason", reason, "digest", digest)
	return true
}

// Pinned returns the pin reason, or "".
func (s *Session) Pinned() string { return s.pinReason }

// Flush adds the session's Counters to the metrics and zeroes them.
func (s *Session) Flush() {
	c, m, cl, bs := &s.Counters, s.srv.m, s.srv.cluster, &s.srv.series
	if c.Queries > 0 {
		bs.queries.add(m.Queries, c.Queries, cl)
	}
	if c.Transactions > 0 {
		bs.transactions.add(m.Transactions, c.Transactions, cl)
	}
	if c.BytesIn > 0 {
		bs.bytesIn.add(m.Bytes, c.BytesIn, cl, "in")
	}
	if c.BytesOut > 0 {
		bs.bytesOut.add(m.Bytes, c.BytesOut, cl, "out")
	}
	*c = Counters{}
}

// SetupDone counts the outcome of connection setup: "ok", "auth_failed" or
// "error".
func (s *Session) SetupDone(outcome string) { s.srv.m.ClientsSetup.Inc(s.srv.cluster, outcome) }

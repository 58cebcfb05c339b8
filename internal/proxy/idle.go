package proxy

import (
	"errors"
	"time"
)

// The idle-client janitor. A session marks itself idle (WaitIdle) and busy
// (Busy) without arming a timer or a socket deadline per transaction; one
// goroutine per server wakes every idle_client_timeout/8 (at least 5 ms,
// at most 1 s) and ends the pending read of every session idle longer than
// the timeout by setting a read deadline in the past. A client is thus
// disconnected between idle_client_timeout and an eighth more after its
// last transaction ended.

// janitorTick is the janitor's period for an idle timeout t.
func janitorTick(t time.Duration) time.Duration {
	return min(max(t/8, 5*time.Millisecond), time.Second)
}

// janitorIdle is the janitor's period while idle_client_timeout is 0
// (off): it only looks for a new setting (Update).
const janitorIdle = time.Second

// janitor expires idle sessions until done is closed. It reads
// idle_client_timeout every period, so Update takes effect at once.
func (s *Server) janitor(done <-chan struct{}) {
	timeout := s.Config().IdleClientTimeout
	tick := janitorIdle
	if timeout > 0 {
		tick = janitorTick(timeout)
	}
	tk := time.NewTicker(tick)
	defer tk.Stop()
	var batch []*Session
	for {
		select {
		case <-done:
			return
		case now := <-tk.C:
			if t := s.Config().IdleClientTimeout; t != timeout {
				timeout, tick = t, janitorIdle
				if t > 0 {
					tick = janitorTick(t)
				}
				tk.Reset(tick)
			}
			if timeout <= 0 {
				continue
			}
			batch = s.snapshot(batch[:0])
			for _, sess := range batch {
				sess.expireIdle(now, timeout)
			}
			clear(batch)
		}
	}
}

// snapshot appends the current sessions to buf.
func (s *Server) snapshot(buf []*Session) []*Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sess := range s.sessions {
		buf = append(buf, sess)
	}
	return buf
}

// expireIdle fails the pending client read of a session idle since
// before now-timeout; Busy clears the deadline if a message arrived
// meanwhile.
func (s *Session) expireIdle(now time.Time, timeout time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.idle || s.armed {
		return
	}
	switch idle := now.Sub(s.idleSince); {
	case idle >= timeout:
		s.restWake = false
		s.armLocked()
	case s.restOK && !s.resting && idle >= restAfter && s.peeking.Load():
		s.restWake = true
		s.armLocked()
	}
}

// Resting idle sessions. A front end that holds per-client buffers while
// it waits for the next message calls AllowRest; a session idle for
// restAfter then gets one rest nudge from the janitor: its pending read
// fails, IdleErr returns ErrRest, and the front end releases its buffers,
// calls Rest and waits for the client without them. With thousands of
// idle clients this is most of their memory; a client that is never
// idle that long pays nothing.

// restAfter is how long a session is idle before its rest nudge.
const restAfter = 2 * time.Second

// ErrRest is IdleErr's answer to a rest nudge: the front end releases
// its buffers, calls Rest and goes on waiting.
var ErrRest = errors.New("idle session resting")

// Peeking tells the janitor whether the front end is waiting for the
// client's next message without consuming it (rest nudges come only then).
func (s *Session) Peeking(on bool) { s.peeking.Store(on) }

// AllowRest opts the session in to rest nudges.
func (s *Session) AllowRest() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restOK = true
}

// Resting reports whether the session rested in its current idle spell.
func (s *Session) Resting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resting
}

// Rest clears the rest nudge's read deadline; the idle timeout keeps
// running from the same start. It returns ErrShuttingDown (with the read
// deadline armed again) when the server began draining meanwhile.
func (s *Session) Rest() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restWake, s.resting = false, true
	if s.Draining() {
		s.armLocked()
		return ErrShuttingDown
	}
	if s.armed {
		s.armed = false
		_ = s.raw.SetReadDeadline(time.Time{})
	}
	return nil
}

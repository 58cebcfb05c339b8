package proxy

import "time"

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
	if s.idle && !s.armed && now.Sub(s.idleSince) >= timeout {
		s.armLocked()
	}
}

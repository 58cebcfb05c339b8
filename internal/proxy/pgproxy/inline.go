package pgproxy

// The uncontended path. A session whose own goroutine borrows an idle
// backend does not start the backend reader's relay at once: it handles
// the client messages already buffered behind the one that borrowed, and
// when those end with a complete unit (a simple Query, a FunctionCall, or
// extended messages through Sync) and nothing more is buffered, it relays
// the replies on its own goroutine up to the ReadyForQuery that leaves
// nothing owed. Handing the relay to the backend's reader would wake a
// second thread per transaction. When the unit leaves the backend idle it
// goes back to the pool as the reader would return it (a queued session's
// Ready runs on this goroutine). Everything else — a unit without its
// Sync, a transaction left open, a pinned session, a COPY that waits for
// the client's data — is relayed by the backend's reader from that point
// on, as for a queued session, because the client may have to send its
// next message before it reads a reply, and nothing reads its socket while
// the session goroutine relays.
//
// No deadlock comes from the deferred start: the messages written before
// anything reads the backend are the one that borrowed and those already
// in the client read buffer (at most its size, plus statements the proxy
// prepares for them), far below what the server's socket takes in while
// it writes its replies; and while the session goroutine relays, the
// client's next messages wait in the sockets as they would in front of
// PostgreSQL itself, which does not read while it sends a reply. While the
// reply of a long statement is awaited a watcher reads the client
// (proxy.Session.ArmWatch), so a client that disconnects still has its
// statement cancelled.

// deferRelay records, for a backend just borrowed by the session's own
// goroutine, that its relay is not started yet (relayOwn decides); s.hmu
// is held. It reports false when the relay has to start now.
func (s *session) deferRelay() bool {
	if !s.mayInline {
		return false
	}
	s.unstarted = true
	return true
}

// relayOwn relays the replies to the units the loop has just written,
// when the backend was borrowed for them without a relay (deferRelay),
// and nothing more from the client is buffered. t is the type of the
// last client message; watched: the flush armed the client watch
// (awaitsOwn).
func (s *session) relayOwn(t byte, watched bool) {
	if !s.unstarted {
		if watched {
			s.ps.StopWatch()
		}
		return
	}
	s.unstarted = false
	s.mu.Lock()
	pb, gen := s.be, s.relayGen
	whole := (t == 'Q' || t == 'S' || t == 'F') && s.q.len() > 0 && !s.writing
	s.mu.Unlock()
	if (pb == nil || !whole) && watched {
		s.ps.StopWatch()
	}
	if pb == nil {
		s.endRelay(gen)
		return
	}
	if !whole {
		pb.Conn.start(relayJob{s: s, pb: pb, gen: gen})
		return
	}
	s.inlining = true
	s.relayInline(pb, gen, watched)
	s.inlining = false
}

// startDeferred starts the reader's relay of a backend whose relay was
// deferred and not run (the loop ended first), so that cleanup finds the
// relay it expects. After a panic in relayInline the connection's state
// is unknown: it is closed, and the relay fails and discards it.
func (s *session) startDeferred() {
	panicked := s.inlining
	if !s.unstarted && !panicked {
		return
	}
	s.unstarted, s.inlining = false, false
	s.mu.Lock()
	pb, gen := s.be, s.relayGen
	s.mu.Unlock()
	if pb == nil {
		if !panicked {
			s.endRelay(gen)
		}
		return
	}
	if panicked {
		pb.Conn.broken.Store(true)
		_ = pb.Conn.conn.Close()
	}
	pb.Conn.start(relayJob{s: s, pb: pb, gen: gen})
}

// relayInline copies backend frames to the client up to the
// ReadyForQuery that ends the unit, then returns the backend to the pool
// or leaves the rest of the relay to the backend's reader.
func (s *session) relayInline(pb *pooled, gen uint64, watched bool) {
	b := pb.Conn
	if !watched { // else awaitsOwn did both
		s.inlineStarts()
		s.ps.ArmWatch()
	}
	for {
		frame, err := b.next()
		if err != nil {
			s.ps.StopWatch()
			s.relayFailed(pb, err)
			s.endRelay(gen)
			return
		}
		s.mu.Lock()
		act, stop, err := s.inlineFrames(b, frame)
		if err != nil {
			s.mu.Unlock()
			s.ps.StopWatch()
			s.relayFailed(pb, err)
			s.endRelay(gen)
			return
		}
		flush := act != relayContinue || stop || b.r.br.Buffered() == 0
		if flush {
			s.cwmu.Lock()
		}
		switch act {
		case relayRelease:
			s.releaseInline(pb, gen, flush)
			return
		case relayHandoff: // not reached: only cleanup, on this goroutine, sets closing
			s.handedOff = true
			s.mu.Unlock()
			s.flushClient(flush)
			s.ps.StopWatch()
			s.endRelay(gen)
			return
		case relayCapture:
			s.mu.Unlock()
			s.flushClient(flush)
			s.sendCapture(b)
			continue
		}
		s.mu.Unlock()
		s.flushClient(flush)
		if stop {
			s.ps.StopWatch()
			b.start(relayJob{s: s, pb: pb, gen: gen})
			return
		}
	}
}

// inlineFrames handles frame and the frames buffered behind it, up to the
// end of the unit; stop: the rest goes to the backend's reader (the unit
// left the backend held, or a COPY awaits the client's data). s.mu is held.
func (s *session) inlineFrames(b *backend, frame []byte) (act relayAction, stop bool, err error) {
	defer s.flushSpan()
	for {
		act = s.onFrame(b, frame)
		if act != relayContinue {
			return act, false, nil
		}
		switch frame[0] {
		case 'G', 'W':
			return act, true, nil
		case 'Z':
			if s.q.len() == 0 {
				return act, true, nil
			}
		}
		if !b.r.buffered() {
			return act, false, nil
		}
		if frame, err = b.next(); err != nil {
			return act, false, err
		}
	}
}

// releaseInline returns the backend at the end of a unit that left it
// idle; s.mu is held (released here), and s.cwmu when flush. The reply's
// tail stays buffered for awaitClient (heldReply) unless a cancel is in
// flight, which the Put waits for.
func (s *session) releaseInline(pb *pooled, gen uint64, flush bool) {
	s.be = nil
	s.ps.Counters.BytesOut += s.outBytes
	s.outBytes = 0
	wait := s.cancelDone
	if s.cancels == 0 {
		wait = nil
	}
	s.mu.Unlock()
	if flush && wait == nil {
		// The reply goes out after the Put (a queued session gets the
		// connection first), from awaitClient, before it reads the
		// client's next message.
		s.heldReply = true
		s.cwmu.Unlock()
	} else {
		s.flushClient(flush)
	}
	s.ps.StopWatch()
	s.endRelay(gen)
	s.putBackend(pb, wait)
}

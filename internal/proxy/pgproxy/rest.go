package pgproxy

// Resting idle clients: a session idle for a while (the janitor's rest
// nudge, proxy.Session.AllowRest) gives its client read buffer back to a
// pool and waits for the client's next byte without one. The client write
// buffer is pooled already (session.writer), so an idle session holds
// neither.

import (
	"errors"
	"net"
	"sync"

	"github.com/sqlgate/sqlgate/internal/framebuf"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// readerSize is the client read buffer (start-up and session).
const readerSize = 8 << 10

// rdPool holds client read buffers.
var rdPool = sync.Pool{New: func() any { return framebuf.NewReader(nil, readerSize) }}

// newClientReader returns a pooled read buffer reading from c.
func newClientReader(c net.Conn) *framebuf.Reader {
	br := rdPool.Get().(*framebuf.Reader)
	br.Reset(c)
	return br
}

// prefixConn is the client connection with one byte read ahead.
type prefixConn struct {
	net.Conn
	b   byte
	has bool
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if p.has && len(b) > 0 {
		b[0], p.has = p.b, false
		return 1, nil
	}
	return p.Conn.Read(b)
}

// idleRead maps a failed read of an idle client: a rest nudge makes the
// session rest and report nil (go on waiting); else the error ends it.
func (s *session) idleRead(err error) error {
	if ferr := s.failed(); ferr != nil {
		return ferr
	}
	err = s.ps.IdleErr(err)
	if !errors.Is(err, proxy.ErrRest) {
		return err
	}
	if err := s.rest(); err != nil {
		return s.ps.IdleErr(err)
	}
	return nil
}

// rest releases the read buffer and parks the session (proxy.Session.Park:
// its goroutine ends, resume takes a buffer again when the client sends),
// or where it cannot park waits for the client's next byte and takes a
// buffer again; only the client goroutine reads s.cr.
func (s *session) rest() error {
	if s.cr.br.Buffered() > 0 {
		return s.ps.Rest()
	}
	s.releaseReader()
	s.hmu.Lock()
	s.lastQuery, s.lastStrings, s.haveLast = nil, nil, false
	s.hmu.Unlock()
	err := s.ps.Rest()
	if err == nil {
		// Without a goroutine: resume runs when the client sends.
		if perr := s.ps.Park(s.resume); perr == nil {
			return proxy.ErrParked
		}
	}
	n := 0
	if err == nil {
		n, err = s.ps.Conn.Read(s.ahead.b[:])
	}
	s.ahead.pc = prefixConn{Conn: s.ps.Conn, b: s.ahead.b[0], has: n == 1}
	s.cr.br = newClientReader(&s.ahead.pc)
	if n == 1 {
		return nil
	}
	return err
}

// parkFresh parks a session that has just greeted its client while many
// sessions are awake (proxy.Session.Crowded): it waits for the first
// message without a goroutine or a read buffer. It reports
// proxy.ErrParked, or nil when the session goes on waiting itself.
func (s *session) parkFresh() error {
	if !s.ps.Crowded() || !s.idleNow() || s.cr.br.Buffered() > 0 || s.ps.WaitIdle() != nil {
		return nil
	}
	if s.ps.ParkFresh(s.resume) != nil {
		return nil
	}
	s.releaseReader()
	return proxy.ErrParked
}

// releaseReader gives the client read buffer back to rdPool, and drops a
// large frame's buffer if any; only the client goroutine reads s.cr.
func (s *session) releaseReader() {
	s.cr.br.Reset(nil)
	rdPool.Put(s.cr.br)
	s.cr.br, s.cr.buf = nil, nil
}

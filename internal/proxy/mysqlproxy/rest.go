package mysqlproxy

// Resting idle clients: a session idle for a while (the janitor's rest
// nudge, proxy.Session.AllowRest) gives its packet buffers back to a pool
// and parks (proxy.Session.Park): its goroutine ends, and resume carries
// on when the client sends something. An idle client then costs its
// session state and socket, not its packet connection with two 16 KiB
// buffers and a goroutine stack.
// Where a session cannot park (TLS, other systems) it keeps its buffers
// and goes on waiting in its read.

import (
	"context"
	"errors"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// idleRead maps a failed read of an idle client: a rest nudge makes the
// session rest and report nil (go on waiting) or proxy.ErrParked; any
// other error ends the session.
func (c *session) idleRead(err error) error {
	err = c.ps.IdleErr(err)
	if !errors.Is(err, proxy.ErrRest) {
		return err
	}
	if err := c.ps.Rest(); err != nil {
		return c.ps.IdleErr(err)
	}
	return c.park(c.ps.Park)
}

// park gives the packet buffers back and parks the session
// (proxy.ErrParked), or reports nil where it cannot: bytes are buffered
// (the next Peek finds them) or the connection cannot park (it goes on
// waiting in its read, with buffers).
func (c *session) park(how func(resume func(context.Context) error) error) error {
	if !c.cl.Release() {
		return nil
	}
	if how(c.resume) != nil {
		c.cl.Acquire()
		return nil
	}
	c.cl = nil // made again on resume (its buffers are pooled)
	c.forgetQuery()
	if cap(c.cmd) > 1<<10 {
		c.cmd = nil
	}
	return proxy.ErrParked
}

// resume carries on a parked session on a new goroutine.
func (c *session) resume(ctx context.Context) (err error) {
	defer func() { c.ended(err) }() // also while a panic unwinds
	c.cl = mysqlwire.NewPacketConn(c.ps.Conn)
	return c.loop(ctx)
}

//go:build !linux

package rawconn

import (
	"net"
	"syscall"
)

// Conn is, off Linux, never returned by Wrap; it exists so that the
// methods shared with Linux compile.
type Conn struct {
	net.Conn
	rc syscall.RawConn
}

func wrap(c net.Conn, _ syscall.RawConn) net.Conn { return c }

// WriteAwait is Write off Linux (never called: Wrap returns no Conn).
func (c *Conn) WriteAwait(b []byte) (int, error) { return c.Conn.Write(b) }

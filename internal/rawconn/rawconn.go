package rawconn

import (
	"bufio"
	"net"
	"syscall"
)

// Wrap returns c with raw-system-call reads and writes where the system
// and the connection allow it (Linux, a socket with a descriptor), else c.
// Like a net.Conn, it may be read and written from several goroutines:
// each Write goes out whole, before or after another's.
func Wrap(c net.Conn) net.Conn {
	if _, ok := c.(*Conn); ok {
		return c
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return wrap(c, rc)
}

// CloseWrite half-closes the connection when the one underneath can.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// SyscallConn returns the underlying connection's raw access, so that
// code looking for the descriptor (syscall.Conn) still finds it.
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

// Unwrap returns the connection underneath.
func (c *Conn) Unwrap() net.Conn { return c.Conn }

// AwaitTarget is what a write buffer (bufio.Writer) over a connection
// flushes into: the connection's Write, or, in FlushAwait, its WriteAwait
// — for a flush whose request's reply is read next. A connection without
// WriteAwait (not wrapped, or TLS) is written as usual.
type AwaitTarget struct {
	conn  net.Conn
	aw    interface{ WriteAwait([]byte) (int, error) }
	await bool
}

// FlushAwait flushes w, a buffer writing to t, through WriteAwait: it
// returns once the reply to what w held begins to arrive.
func (t *AwaitTarget) FlushAwait(w *bufio.Writer) error {
	t.await = true
	err := w.Flush()
	t.await = false
	return err
}

// Set makes t write to c.
func (t *AwaitTarget) Set(c net.Conn) {
	t.conn = c
	t.aw, _ = c.(interface{ WriteAwait([]byte) (int, error) })
}

// Write writes b to the connection (see AwaitTarget). A wait that failed
// after all of b went out is not the write's error: the read of the reply
// meets the same closed connection or passed deadline.
func (t *AwaitTarget) Write(b []byte) (int, error) {
	if t.await && t.aw != nil {
		n, err := t.aw.WriteAwait(b)
		if n == len(b) {
			err = nil
		}
		return n, err
	}
	return t.conn.Write(b)
}

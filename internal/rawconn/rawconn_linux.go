package rawconn

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// Conn is a connection whose reads and writes are raw system calls.
type Conn struct {
	net.Conn
	rc syscall.RawConn
	rd op      // the current read
	wr op      // the current write
	aw awaitOp // the current WriteAwait
}

// op is one direction's current call: its buffer and outcome, under mu.
type op struct {
	mu  sync.Mutex
	buf []byte
	n   int
	err syscall.Errno
	fn  func(uintptr) bool // the raw call, bound once: no closure per call
}

func wrap(c net.Conn, rc syscall.RawConn) net.Conn {
	w := &Conn{Conn: c, rc: rc}
	w.rd.fn, w.wr.fn = w.rd.read, w.wr.write
	w.aw.wmu, w.aw.fn = &w.wr.mu, w.aw.step
	return w
}

// Read reads what the socket holds, waiting in the netpoller when it
// holds nothing.
func (c *Conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err := c.run(&c.rd, "read", b)
	if err == nil && n == 0 {
		return 0, io.EOF
	}
	return n, err
}

// Write writes all of b, waiting in the netpoller while the socket's
// buffer is full.
func (c *Conn) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	return c.run(&c.wr, "write", b)
}

// run makes one read or write of b through the raw call of o inside the
// runtime's readiness wait, and maps its outcome as net.Conn does.
func (c *Conn) run(o *op, name string, b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf, o.n, o.err = b, 0, 0
	var err error
	if o == &c.wr {
		err = c.rc.Write(o.fn)
	} else {
		err = c.rc.Read(o.fn)
	}
	n, errno := o.n, o.err
	o.buf = nil
	switch {
	case err != nil: // closed, or the deadline passed
		return n, c.opError(name, err)
	case errno != 0:
		return n, c.opError(name, os.NewSyscallError(name, errno))
	}
	return n, nil
}

// read is the raw read(2); false asks the netpoller to wait.
func (o *op) read(fd uintptr) bool {
	for {
		n, e := sysRead(fd, o.buf)
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		case 0:
			o.n = n
		default:
			o.err = e
		}
		return true
	}
}

// write is the raw write(2) loop over all of the buffer; false asks the
// netpoller to wait.
func (o *op) write(fd uintptr) bool {
	switch e := writeFrom(fd, o.buf, &o.n); e {
	case syscall.EAGAIN:
		return false
	case 0:
	default:
		o.err = e
	}
	return true
}

// writeFrom writes b[*n:] with raw write(2) calls, advancing *n, until
// all of b went out (0), the socket's buffer is full (EAGAIN) or another
// error; EINTR is retried.
func writeFrom(fd uintptr, b []byte, n *int) syscall.Errno {
	for *n < len(b) {
		k, e := sysWrite(fd, b[*n:])
		switch e {
		case syscall.EINTR:
		case 0:
			*n += k
		default:
			return e
		}
	}
	return 0
}

// opError wraps err as net.Conn's methods do (RawConn reports a closed
// connection or a passed deadline as a "raw-read" or "raw-write" error).
func (c *Conn) opError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// WriteAwait writes all of b, then waits without reading until the socket
// has something to read, is closed, or its read deadline passes. A caller
// that sends a request and reads its reply at once spares the read that
// would find nothing yet (a system call per request): readiness is
// awaited from before the write, so the reply's arrival cannot be missed.
// Bytes that arrived before the call are not seen: the runtime's poller
// forgets readiness it reported earlier, and the wait ends only when more
// data comes. So use it only where the peer is sure to send after b
// arrives (a database server answering a query), never toward a client:
// one that sent its next request ahead sends nothing more until answered.
// When the socket's buffer fills part-way, the rest goes out as Write
// sends it and nothing is awaited. n is what was written; an error after
// all of b was written is the wait's (the caller's read meets it too).
// It counts as a read: one at a time with Read.
func (c *Conn) WriteAwait(b []byte) (n int, err error) {
	c.rd.mu.Lock()
	defer c.rd.mu.Unlock()
	a := &c.aw
	a.buf, a.n, a.werr, a.started, a.partial = b, 0, 0, false, false
	rerr := c.rc.Read(a.fn)
	n, werr, partial := a.n, a.werr, a.partial
	a.buf = nil
	switch {
	case werr != 0:
		return n, c.opError("write", os.NewSyscallError("write", werr))
	case partial:
		k, err := c.Write(b[n:])
		return n + k, err
	case rerr != nil && n < len(b): // closed before anything was written
		return n, c.opError("write", rerr)
	case rerr != nil:
		return n, c.opError("read", rerr)
	}
	return n, nil
}

// awaitOp is WriteAwait's state, bound to its raw call once (no closure
// per call); under the read side's mu.
type awaitOp struct {
	wmu              *sync.Mutex // the write side's, held while writing
	buf              []byte
	n                int
	werr             syscall.Errno
	started, partial bool
	fn               func(uintptr) bool
}

// step is the raw call: the first time, the write (false: await
// readiness); the next, the end of the wait.
func (a *awaitOp) step(fd uintptr) bool {
	if a.started {
		return true // woken: readable, closed or past the deadline
	}
	a.started = true
	a.wmu.Lock()
	defer a.wmu.Unlock()
	switch e := writeFrom(fd, a.buf, &a.n); e {
	case 0:
		return false
	case syscall.EAGAIN:
		a.partial = true
	default:
		a.werr = e
	}
	return true
}

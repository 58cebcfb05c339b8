package lane

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"
)

// Connection states, for closing idle connections at shutdown.
const (
	stateIdle   int32 = iota // waiting for a request's first byte
	stateActive              // reading or serving a request
	stateClosed              // closed by Close while idle
)

const (
	initialBuf = 4 << 10
	keepBuf    = 64 << 10 // a larger buffer is dropped after its request
)

// conn is one lean connection: reused buffers, header map and request
// template, and its context (cancelled when the client is seen gone).
type conn struct {
	l      *Listener
	nc     net.Conn
	state  atomic.Int32
	buf    []byte // unread input; the request being served starts at 0
	h      head
	hdr    http.Header
	tmpl   *http.Request
	body   bodyReader
	resp   response
	watch  watcher
	ctx    context.Context
	cancel context.CancelFunc
	dead   bool      // the watcher saw the client go
	rdl    time.Time // read deadline set on nc
	wdl    time.Time // write deadline set on nc
}

func newConn(l *Listener, nc net.Conn) *conn {
	c := &conn{l: l, nc: nc, buf: make([]byte, 0, initialBuf), hdr: http.Header{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.tmpl = (&http.Request{Method: http.MethodPost, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		RemoteAddr: nc.RemoteAddr().String()}).WithContext(c.ctx)
	c.resp.header = http.Header{}
	return c
}

// serve runs the connection until it closes or goes to net/http.
func (c *conn) serve() {
	defer c.l.untrack(c)
	defer c.cancel()
	if !c.handshake() {
		_ = c.nc.Close()
		return
	}
	for {
		switch c.readRequest() {
		case serve:
			if c.serveOne() {
				continue
			}
		case handOff:
			_ = c.nc.SetDeadline(time.Time{})
			c.l.handOff(&replayConn{Conn: c.nc, pending: c.buf})
			return
		}
		_ = c.nc.Close()
		return
	}
}

// handshake completes a TLS connection's handshake within the shortest
// of the read-header, read and write timeouts, as net/http does; a plain
// connection has none. A failed handshake is logged as net/http logs it.
func (c *conn) handshake() bool {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return true
	}
	cfg := &c.l.cfg
	var limit time.Duration
	for _, d := range []time.Duration{cfg.ReadHeaderTimeout, cfg.ReadTimeout, cfg.WriteTimeout} {
		if d > 0 && (limit == 0 || d < limit) {
			limit = d
		}
	}
	if limit > 0 {
		_ = tc.SetDeadline(time.Now().Add(limit))
	}
	if err := tc.HandshakeContext(c.ctx); err != nil {
		if err != io.EOF {
			c.logf("http: TLS handshake error from %s: %v", c.tmpl.RemoteAddr, err)
		}
		return false
	}
	_ = tc.SetDeadline(time.Time{})
	return true
}

// readRequest reads until c.buf starts with a whole request the lean
// path serves (serve), or one it does not (handOff); needMore means the
// connection is done (closed, timed out, shut down).
func (c *conn) readRequest() verdict {
	var started time.Time // when a request's first bytes were seen
	for {
		if len(c.buf) > 0 {
			switch c.parse() {
			case handOff:
				return handOff
			case serve:
				need := c.h.size + c.h.length
				if len(c.buf) >= need {
					return serve
				}
				c.reserve(need)
				if !c.deadlineFrom(&started, c.l.cfg.ReadTimeout) {
					return needMore
				}
			default:
				c.reserve(len(c.buf) + 1)
				if !c.deadlineFrom(&started, c.l.cfg.ReadHeaderTimeout) {
					return needMore
				}
			}
		} else if !c.waitIdle() {
			return needMore
		}
		n, err := c.nc.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+n]
		if n > 0 && !c.state.CompareAndSwap(stateIdle, stateActive) && c.state.Load() != stateActive {
			return needMore // closed while idle
		}
		if err != nil && n == 0 {
			if len(c.buf) > 0 && err != io.EOF {
				return needMore
			}
			if len(c.buf) > 0 {
				return handOff // a truncated request: net/http answers it
			}
			return needMore
		}
	}
}

func (c *conn) parse() verdict {
	clear(c.hdr)
	cfg := &c.l.cfg
	return parseHead(c.buf, cfg.Paths, cfg.MaxHeaderBytes+4096, cfg.MaxBodyBytes, &c.h, c.hdr)
}

// waitIdle prepares to wait for the next request: the idle deadline, and
// the idle state Close looks for. False when the listener is closing.
func (c *conn) waitIdle() bool {
	c.state.Store(stateIdle)
	if c.l.closing.Load() {
		return false
	}
	idle := c.l.cfg.IdleTimeout
	if idle == 0 {
		idle = c.l.cfg.ReadTimeout
	}
	if idle > 0 {
		c.setReadDeadline(time.Now().Add(idle), idle/8)
	}
	return true
}

// deadlineFrom sets the read deadline to d after the request's first bytes
// (started, set now if zero); false if that is already past.
func (c *conn) deadlineFrom(started *time.Time, d time.Duration) bool {
	now := time.Now()
	if started.IsZero() {
		*started = now
	}
	if d <= 0 {
		c.setReadDeadline(time.Time{}, 0)
		return true
	}
	t := started.Add(d)
	if !t.After(now) {
		return false
	}
	c.setReadDeadline(t, 0)
	return true
}

// setReadDeadline sets the read deadline to t unless the one set is at
// most slack earlier: timers are re-armed seconds apart, not per request.
func (c *conn) setReadDeadline(t time.Time, slack time.Duration) {
	if !c.rdl.IsZero() && !t.IsZero() && !c.rdl.After(t) && t.Sub(c.rdl) <= slack {
		return
	}
	if t.IsZero() && c.rdl.IsZero() {
		return
	}
	c.rdl = t
	_ = c.nc.SetReadDeadline(t)
}

func (c *conn) setWriteDeadline() {
	d := c.l.cfg.WriteTimeout
	if d <= 0 {
		return
	}
	t := time.Now().Add(d)
	if !c.wdl.IsZero() && !c.wdl.After(t) && t.Sub(c.wdl) <= d/8 {
		return
	}
	c.wdl = t
	_ = c.nc.SetWriteDeadline(t)
}

// reserve grows c.buf's capacity to at least n.
func (c *conn) reserve(n int) {
	if cap(c.buf) >= n {
		return
	}
	nb := make([]byte, len(c.buf), max(n, 2*cap(c.buf)))
	copy(nb, c.buf)
	c.buf = nb
}

// serveOne serves the request at the start of c.buf; false closes the
// connection.
func (c *conn) serveOne() bool {
	h := &c.h
	need := h.size + h.length
	box := &requestBox{req: *c.tmpl}
	r := &box.req
	box.url.Path = h.target
	r.URL, r.RequestURI, r.Host = &box.url, h.target, h.host
	r.Header, r.ContentLength, r.Close = c.hdr, int64(h.length), h.close
	c.body.Reset(c.buf[h.size:need])
	r.Body = &c.body
	if h.length == 0 {
		r.Body = http.NoBody
	}
	c.resp.reset()
	c.l.served.Add(1)
	c.watch.start(c)
	ok := c.call(r)
	c.watch.stop(c)
	c.consume(need)
	if !ok {
		return false
	}
	closeAfter := h.close || c.dead || c.l.closing.Load() || c.resp.wantsClose()
	c.setWriteDeadline()
	if err := c.resp.writeTo(c.nc, closeAfter); err != nil {
		return false
	}
	return !closeAfter
}

// requestBox puts a request and its URL in one allocation.
type requestBox struct {
	req http.Request
	url url.URL
}

// call runs the handler; false if it panicked (the connection is closed
// without a response, as net/http does).
func (c *conn) call(r *http.Request) (ok bool) {
	defer func() {
		if err := recover(); err != nil {
			ok = false
			if err == http.ErrAbortHandler {
				return
			}
			const size = 64 << 10
			buf := make([]byte, size)
			buf = buf[:runtime.Stack(buf, false)]
			c.logf("http: panic serving %v: %v\n%s", c.tmpl.RemoteAddr, err, buf)
		}
	}()
	c.l.cfg.Handler.ServeHTTP(&c.resp, r)
	return true
}

func (c *conn) logf(format string, args ...any) {
	if lg := c.l.cfg.ErrorLog; lg != nil {
		lg.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// consume drops the served request's bytes, keeping what follows it.
func (c *conn) consume(n int) {
	rest := copy(c.buf, c.buf[n:])
	c.buf = c.buf[:rest]
	if cap(c.buf) > keepBuf && rest <= initialBuf {
		nb := make([]byte, rest, initialBuf)
		copy(nb, c.buf)
		c.buf = nb
	}
}

// bodyReader is a request body over the connection's buffer.
type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

// replayConn is a connection handed to net/http: reads return the bytes
// the lean path had read first.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes the connection when it can be (TCP), so that
// net/http's close after a response to a request whose body it did not
// read (too large, say) sends FIN and lets the client read the answer,
// rather than a reset that can lose it.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

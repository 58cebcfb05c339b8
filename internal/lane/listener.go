// Package lane is a lean HTTP/1.1 keep-alive path in front of net/http.
//
// A Listener wraps a net.Listener, plain TCP or crypto/tls (it then
// completes each handshake itself, within the shortest of the read-header,
// read and write timeouts; the connections it hands to net/http are no
// longer *tls.Conn, so their requests have a nil TLS field and HTTP/2 is
// not offered, neither of which sqlgate uses). It reads each connection's
// requests into reused buffers and serves the POSTs it is configured for
// (fixed paths with a Content-Length body) itself, calling the same
// http.Handler with a request and response writer built for the purpose:
// no per-request goroutine, background read, bufio or context. The first
// request it does not serve — another path or method, a chunked body,
// Expect, Upgrade, HTTP/1.0, a body over the limit, anything malformed — and
// the rest of that connection go to net/http: Accept returns the
// connection with the bytes already read replayed first, so an
// http.Server serving the Listener answers them as it always has.
//
// Differences a client may see from net/http, none of which HTTP clients
// read: header order and a Content-Length framing even for large bodies
// (net/http switches to chunked above a few KiB). A client that goes away
// while its request runs is noticed after watchDelay (a read is started
// then), not at once.
package lane

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/rawconn"
)

// Config is what a Listener serves and with which limits; zero durations
// and sizes mean "none" like net/http's.
type Config struct {
	// Handler serves the requests the lean path takes (the same handler
	// the http.Server has).
	Handler http.Handler
	// Paths are the request paths (ASCII case-insensitive) whose POSTs the
	// lean path serves.
	Paths []string
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout and
	// MaxHeaderBytes mean what they mean on http.Server.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                            int
	// MaxBodyBytes is the largest body the lean path reads; a larger
	// Content-Length goes to net/http (and the handler's own limit).
	MaxBodyBytes int
	// ErrorLog receives handler panics; nil is the log package's default.
	ErrorLog *log.Logger
}

// Listener is a net.Listener whose Accept returns only the connections
// handed to net/http; it serves the others itself.
type Listener struct {
	inner net.Listener
	cfg   Config

	start     sync.Once
	handoff   chan net.Conn
	acceptErr chan error
	done      chan struct{} // closed by Close
	closeOnce sync.Once

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup // lean connections' goroutines and the accept loop

	closing atomic.Bool

	served, handed atomic.Uint64
}

// Stats are a Listener's counts: requests served by the lean path,
// connections handed to net/http.
type Stats struct{ Served, HandedOff uint64 }

// Stats returns the counts so far.
func (l *Listener) Stats() Stats { return Stats{Served: l.served.Load(), HandedOff: l.handed.Load()} }

var _ net.Listener = (*Listener)(nil)

// New returns a Listener over l. Serve it with http.Server.Serve (which
// starts its accept loop); Shutdown it after the http.Server's Shutdown.
func New(l net.Listener, cfg Config) *Listener {
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = http.DefaultMaxHeaderBytes
	}
	return &Listener{inner: l, cfg: cfg, handoff: make(chan net.Conn), acceptErr: make(chan error, 1),
		done: make(chan struct{}), conns: map[*conn]struct{}{}}
}

// Accept returns the next connection for net/http.
func (l *Listener) Accept() (net.Conn, error) {
	l.start.Do(func() {
		l.wg.Add(1)
		go l.acceptLoop()
	})
	select {
	case c := <-l.handoff:
		l.handed.Add(1) // here, before net/http can answer anything on c
		return c, nil
	case err := <-l.acceptErr:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting, closes idle lean connections and lets active
// ones finish their request (answered with Connection: close). It does
// not wait; Shutdown does.
func (l *Listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.closing.Store(true)
		close(l.done)
		err = l.inner.Close()
		l.closeIdle()
	})
	return err
}

// Addr is the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Shutdown closes l and waits for its lean connections to finish their
// requests, or for ctx; then it closes whatever is left.
func (l *Listener) Shutdown(ctx context.Context) error {
	_ = l.Close()
	waited := make(chan struct{})
	go func() { l.wg.Wait(); close(waited) }()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-waited:
			return nil
		case <-t.C:
			l.closeIdle() // a connection that became idle since
		case <-ctx.Done():
			l.mu.Lock()
			for c := range l.conns {
				_ = c.nc.Close()
			}
			l.mu.Unlock()
			<-waited
			return ctx.Err()
		}
	}
}

func (l *Listener) closeIdle() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			_ = c.nc.Close()
		}
	}
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	var delay time.Duration
	for {
		nc, err := l.inner.Accept()
		if err != nil {
			if l.closing.Load() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() { // as net/http: back off and retry
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			l.acceptErr <- err
			return
		}
		delay = 0
		c := newConn(l, rawconn.Wrap(nc))
		if !l.track(c) {
			_ = nc.Close()
			return
		}
		go c.serve()
	}
}

// track registers c (and its goroutine); false once l is closing.
func (l *Listener) track(c *conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing.Load() {
		return false
	}
	l.conns[c] = struct{}{}
	l.wg.Add(1)
	return true
}

func (l *Listener) untrack(c *conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	l.wg.Done()
}

// handOff gives nc to net/http; false when l is closed (nc is closed then).
func (l *Listener) handOff(nc net.Conn) bool {
	select {
	case l.handoff <- nc:
		return true
	case <-l.done:
		_ = nc.Close()
		return false
	}
}

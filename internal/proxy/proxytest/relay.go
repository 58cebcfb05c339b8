package proxytest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// RelayMode is what a Relay does with a new connection.
type RelayMode int

// Relay modes.
const (
	Pass      RelayMode = iota // relay to the database
	Refuse                     // close at once (database down)
	Blackhole                  // hold open, never answer (network partition)
)

// Relay is a TCP relay between a proxy and its database that injects
// network faults: it refuses or blackholes new connections, and resets
// the ones it relays (a database crash as seen from the proxy). Its
// Upstream function copies client → database, so a test can count what
// the proxy sends.
type Relay struct {
	ln       net.Listener
	target   string
	upstream func(dst io.Writer, src io.Reader)
	wg       sync.WaitGroup // the accept loop and every copy

	mu    sync.Mutex // guards conns and mode
	conns []net.Conn
	mode  RelayMode

	accepted atomic.Int64
}

// NewRelay starts a relay to target until the test ends. upstream copies
// one connection's client → database bytes until src fails; nil means
// io.Copy.
func NewRelay(t testing.TB, target string, upstream func(dst io.Writer, src io.Reader)) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if upstream == nil {
		upstream = func(dst io.Writer, src io.Reader) { _, _ = io.Copy(dst, src) }
	}
	r := &Relay{ln: ln, target: target, upstream: upstream}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		r.Reset()
		r.wg.Wait()
	})
	return r
}

// Addr is the address the proxy should dial instead of the database.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// SetMode sets what happens to new connections.
func (r *Relay) SetMode(m RelayMode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mode = m
}

// Accepted is the number of connections relayed to the database.
func (r *Relay) Accepted() int64 { return r.accepted.Load() }

// Reset closes every connection held or relayed so far with a TCP reset.
func (r *Relay) Reset() {
	r.mu.Lock()
	conns := r.conns
	r.conns = nil
	r.mu.Unlock()
	for _, c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}

// track adds c to the connections Reset closes.
func (r *Relay) track(c net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns = append(r.conns, c)
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		mode := r.mode
		r.mu.Unlock()
		switch mode {
		case Refuse:
			_ = c.Close()
			continue
		case Blackhole:
			r.track(c) // held open, never answered
			continue
		}
		r.track(c)
		r.wg.Add(1)
		go r.pipe(c)
	}
}

// pipe relays one connection both ways until either side ends.
func (r *Relay) pipe(c net.Conn) {
	defer r.wg.Done()
	s, err := net.Dial("tcp", r.target)
	if err != nil {
		_ = c.Close()
		return
	}
	r.accepted.Add(1)
	r.track(s)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		_, _ = io.Copy(c, s)
		_ = c.Close()
	}()
	r.upstream(s, c)
	_ = s.Close()
}

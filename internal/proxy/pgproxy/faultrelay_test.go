package pgproxy

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sqlgate/sqlgate/internal/config"
)

// faultRelay is a TCP relay in front of the database that injects network
// faults: kill all
// connections, refuse new ones, or blackhole them. It counts ROLLBACK
// statements sent to the database.
type faultRelay struct {
	ln     net.Listener
	target string

	mu    sync.Mutex // guards conns and mode
	conns []net.Conn
	mode  relayMode

	rollbacks atomic.Int64
}

type relayMode int

const (
	relayPass relayMode = iota
	relayRefuse
	relayBlackhole
)

func newFaultRelay(t testing.TB, target string) *faultRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &faultRelay{ln: ln, target: target}
	go r.accept()
	t.Cleanup(func() { _ = ln.Close(); r.killAll() })
	return r
}

func (r *faultRelay) addr() string { return r.ln.Addr().String() }

func (r *faultRelay) setMode(m relayMode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mode = m
}

// killAll resets every relayed connection (a database crash as seen from
// the proxy).
func (r *faultRelay) killAll() {
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

func (r *faultRelay) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		mode := r.mode
		r.conns = append(r.conns, c)
		r.mu.Unlock()
		switch mode {
		case relayRefuse:
			_ = c.Close()
			continue
		case relayBlackhole:
			continue // held open, never answered
		}
		go r.pipe(c)
	}
}

func (r *faultRelay) pipe(c net.Conn) {
	s, err := net.Dial("tcp", r.target)
	if err != nil {
		_ = c.Close()
		return
	}
	r.mu.Lock()
	r.conns = append(r.conns, s)
	r.mu.Unlock()
	go func() {
		_, _ = io.Copy(c, s)
		_ = c.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			r.rollbacks.Add(int64(bytes.Count(bytes.ToUpper(buf[:n]), []byte("ROLLBACK"))))
			if _, werr := s.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = s.Close()
}

// viaRelay points the cluster at a fault relay.
func viaRelay(r *faultRelay) opt {
	return func(c *config.Cluster) { c.Address = r.addr() }
}

package mysqlproxy

import (
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// faultRelay is a TCP relay between the proxy and the database that counts
// COM_QUERY statements by text and can cut and refuse connections
// (backend restart, T3). It is the in-process stand-in for Toxiproxy.
type faultRelay struct {
	target string
	ln     net.Listener

	mu     sync.Mutex // guards following fields
	conns  []net.Conn
	down   bool
	counts map[string]int

	accepted atomic.Int64
}

func newFaultRelay(t testing.TB, target string) *faultRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &faultRelay{target: target, ln: ln, counts: map[string]int{}}
	go r.accept()
	t.Cleanup(func() { _ = ln.Close(); r.cut() })
	return r
}

func (r *faultRelay) addr() string { return r.ln.Addr().String() }

func (r *faultRelay) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		down := r.down
		r.mu.Unlock()
		if down {
			_ = c.Close()
			continue
		}
		s, err := net.Dial("tcp", r.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		r.accepted.Add(1)
		r.mu.Lock()
		r.conns = append(r.conns, c, s)
		r.mu.Unlock()
		go func() { _, _ = io.Copy(c, s); _ = c.Close() }()
		go r.copyCounting(s, c)
	}
}

// copyCounting relays client→server packets, counting COM_QUERY texts.
func (r *faultRelay) copyCounting(dst, src net.Conn) {
	defer dst.Close()
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(src, hdr[:]); err != nil {
			return
		}
		n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
		p := make([]byte, n)
		if _, err := io.ReadFull(src, p); err != nil {
			return
		}
		if n > 1 && p[0] == mysqlwire.ComQuery && hdr[3] == 0 {
			q := strings.ToUpper(strings.TrimSpace(string(p[1:])))
			r.mu.Lock()
			r.counts[q]++
			r.mu.Unlock()
		}
		if _, err := dst.Write(append(hdr[:], p...)); err != nil {
			return
		}
	}
}

// count returns how many times the statement text was sent.
func (r *faultRelay) count(q string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[strings.ToUpper(q)]
}

// countPrefix sums statements starting with prefix.
func (r *faultRelay) countPrefix(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for q, c := range r.counts {
		if strings.HasPrefix(q, strings.ToUpper(prefix)) {
			n += c
		}
	}
	return n
}

// cut closes every relayed connection.
func (r *faultRelay) cut() {
	r.mu.Lock()
	conns := r.conns
	r.conns = nil
	r.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// setDown refuses (true) or accepts (false) new connections.
func (r *faultRelay) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

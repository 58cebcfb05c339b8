package mysqlproxy

import (
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
)

// faultRelay is a proxytest.Relay between the proxy and the database that
// also counts COM_QUERY statements by text (the in-process stand-in for
// Toxiproxy).
type faultRelay struct {
	*proxytest.Relay
	mu     sync.Mutex // guards counts
	counts map[string]int
}

func newFaultRelay(t testing.TB, target string) *faultRelay {
	t.Helper()
	r := &faultRelay{counts: map[string]int{}}
	r.Relay = proxytest.NewRelay(t, target, r.copyCounting)
	return r
}

// copyCounting relays client→server packets, counting COM_QUERY texts.
func (r *faultRelay) copyCounting(dst io.Writer, src io.Reader) {
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

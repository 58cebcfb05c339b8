package pgproxy

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
)

// faultRelay is a proxytest.Relay in front of the database that also
// counts the ROLLBACK statements the proxy sends.
type faultRelay struct {
	*proxytest.Relay
	rollbacks atomic.Int64
}

func newFaultRelay(t testing.TB, target string) *faultRelay {
	t.Helper()
	r := &faultRelay{}
	r.Relay = proxytest.NewRelay(t, target, r.countRollbacks)
	return r
}

// countRollbacks copies client → database bytes, counting "ROLLBACK" in
// them (case-insensitive).
func (r *faultRelay) countRollbacks(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			r.rollbacks.Add(int64(bytes.Count(bytes.ToUpper(buf[:n]), []byte("ROLLBACK"))))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// viaRelay points the cluster at a fault relay.
func viaRelay(r *faultRelay) opt {
	return func(c *config.Cluster) { c.Address = r.Addr() }
}

package pgproxy

import (
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestIsolation_FunctionStateNeverStale: what a function sets that the
// proxy cannot see (set_config of a custom setting, through iso_fn) may be
// lost for its caller when the caller changes connections, but never comes
// back older than the latest value. B sets myapp.f = 1 on one connection
// and 2 on the other, then its next statement runs on the first while A
// holds the second: B must see 2 or nothing, never 1. The pool hands out
// its most recently returned connection; backend pids check that the
// statements ran where planned.
func TestIsolation_FunctionStateNeverStale(t *testing.T) {
	for _, mode := range []string{"default", "strict"} {
		t.Run(mode, func(t *testing.T) {
			tp := startProxy(t, 2, func(c *config.Cluster) { c.Proxy.Isolation = mode })
			isoSetup(t, tp)
			a, b := tp.connect(t, ""), tp.connect(t, "")
			const read = "SELECT pg_backend_pid()::text || '/' || coalesce(nullif(current_setting('myapp.f', true), ''), '-')"
			exec(t, a, "BEGIN") // A holds one connection (p) ...
			exec(t, b, "SELECT iso_fn('myapp.f', '1')")
			first := queryString(t, b, read) // ... so B's statements run on the other (q)
			q, v, _ := strings.Cut(first, "/")
			if v != "1" {
				t.Fatalf("B sees %q right after its function, want 1", first)
			}
			exec(t, a, "COMMIT")
			// Both returned, A's last: the pool hands it out next.
			testdb.Eventually(t, 5*time.Second, 5*time.Millisecond, "both connections idle", func() bool { return tp.srv.PoolStats().Busy == 0 })
			exec(t, b, "SELECT iso_fn('myapp.f', '2')")
			second := queryString(t, b, read)
			p, v, _ := strings.Cut(second, "/")
			if p == q {
				t.Fatalf("setup: B's second call ran on the connection of its first (%s), not on the one A returned", p)
			}
			if v != "2" {
				t.Fatalf("B sees %q on the connection it last used, want its own 2", second)
			}
			exec(t, a, "BEGIN")
			if got := queryString(t, a, "SELECT pg_backend_pid()::text"); got != p {
				t.Fatalf("setup: A's transaction runs on %s, want %s (the connection B set 2 on)", got, p)
			}
			third := queryString(t, b, read)
			if pid, v, _ := strings.Cut(third, "/"); pid != q || (v != "2" && v != "-") {
				t.Fatalf("B on connection %s (first %s) sees myapp.f %q, want 2 or none (its older 1 came back)", pid, q, v)
			}
			exec(t, a, "COMMIT")
		})
	}
}

package pgproxy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/config"
)

// churnDuration is how long the cross-talk test churns (at least 8 s;
// SQLGATE_CHURN_SECONDS overrides it for longer runs).
func churnDuration() time.Duration {
	if v, err := strconv.Atoi(os.Getenv("SQLGATE_CHURN_SECONDS")); err == nil && v > 0 {
		return time.Duration(v) * time.Second
	}
	return 8 * time.Second
}

// No client ever receives bytes meant for another: setters change tracked
// parameters and disconnect at once (the proxy's own parameter read-back
// is then still in flight), while probers open connections and must get
// back exactly the k they asked for.
func TestCrossTalk_SetAndLeave(t *testing.T) {
	for _, mode := range []string{"default", "strict"} {
		t.Run(mode, func(t *testing.T) {
			tp := startProxy(t, 2, func(c *config.Cluster) { c.Proxy.Isolation = mode })
			churn(t, tp, churnDuration())
		})
	}
}

func churn(t *testing.T, tp *testProxy, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	stop := time.Now().Add(d)
	var wrong, failed, probes, sets atomic.Int64
	var firstErr atomic.Value
	fail := func(err error) {
		failed.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() { // setter
			defer wg.Done()
			for time.Now().Before(stop) {
				c, err := pgx.Connect(ctx, tp.url(""))
				if err != nil {
					fail(err)
					continue
				}
				sql := "SET lock_timeout = 4321"
				if i%2 == 1 {
					sql = "SET statement_timeout = 98765"
				}
				if _, err := c.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
					fail(err)
				}
				sets.Add(1)
				_ = c.Close(ctx) // Terminate right after the reply
			}
		}()
		go func() { // prober
			defer wg.Done()
			for time.Now().Before(stop) {
				c, err := pgx.Connect(ctx, tp.url(""))
				if err != nil {
					fail(err)
					continue
				}
				for j := range 3 {
					k := rand.IntN(1 << 30)
					var got string
					mode := pgx.QueryExecModeSimpleProtocol
					if j == 1 {
						mode = pgx.QueryExecModeCacheStatement
					}
					err := c.QueryRow(ctx, fmt.Sprintf("SELECT %d::text", k), mode).Scan(&got)
					probes.Add(1)
					switch {
					case err != nil:
						fail(err)
					case got != strconv.Itoa(k):
						wrong.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Sprintf("asked %d, got %q", k, got))
					}
					var lt, st string
					if err := c.QueryRow(ctx, "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')",
						pgx.QueryExecModeSimpleProtocol).Scan(&lt, &st); err != nil {
						fail(err)
					} else if lt != "0" || st != "0" {
						wrong.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Sprintf("prober sees lock_timeout=%s statement_timeout=%s", lt, st))
					}
				}
				_ = c.Close(ctx)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d probes, %d sets, %d wrong, %d errors", probes.Load(), sets.Load(), wrong.Load(), failed.Load())
	if wrong.Load() > 0 || failed.Load() > 0 {
		t.Fatalf("%d wrong answers and %d errors in %d probes; first: %v", wrong.Load(), failed.Load(), probes.Load(), firstErr.Load())
	}
	if probes.Load() < 100 {
		t.Fatalf("only %d probes", probes.Load())
	}
	waitFor(t, 10*time.Second, "backends back", func() bool { return tp.srv.PoolStats().Busy == 0 })
}

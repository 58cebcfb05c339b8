package endpoints

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/state"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

const planYAML = itemsYAML + `
usage_plans:
  - name: basic
    rate: 2
    burst: 3
    daily_quota: 5
    monthly_quota: 7
    endpoints: [list-items]
`

func planEnv(t *testing.T) *testEnv {
	return newTestEnv(t, strings.Replace(planYAML, "value: "+testKey, "value: "+testKey+"\n    usage_plans: [basic]", 1), itemsTable)
}

func TestHandler_RateLimit(t *testing.T) {
	e := planEnv(t)
	get := func() (int, string, string) {
		s, b, h := e.do(t, "GET", "/v1/items", "", key)
		return s, b, h.Get("Retry-After")
	}
	for i := range 3 { // the burst
		if s, b, _ := get(); s != 200 {
			t.Fatalf("request %d: %d %s", i, s, b)
		}
	}
	s, b, ra := get()
	if s != 429 || b != `{"message":"Too Many Requests"}` || ra != "1" {
		t.Fatalf("over rate: %d %s Retry-After %q", s, b, ra)
	}
	e.clock.Advance(500 * time.Millisecond) // 2/s refills one token
	if s, b, _ := get(); s != 200 {
		t.Fatalf("after refill: %d %s", s, b)
	}
	if s, _, _ := get(); s != 429 {
		t.Fatalf("second after refill: %d", s)
	}
	var m strings.Builder
	e.reg.Write(&m)
	if !strings.Contains(m.String(), `sqlgate_endpoint_throttles_total{endpoint="list-items",reason="rate"} 2`) {
		t.Errorf("throttle metric missing:\n%s", m.String())
	}
	t.Run("plan does not cover endpoint", func(t *testing.T) {
		if s, _, _ := e.do(t, "GET", "/v1/items/1", "", key); s != 403 {
			t.Fatalf("status = %d, want 403", s)
		}
	})
}

func TestHandler_Quota(t *testing.T) {
	e := planEnv(t)
	get := func() (int, string, string) {
		e.clock.Advance(time.Second) // stay under the rate
		s, b, h := e.do(t, "GET", "/v1/items", "", key)
		return s, b, h.Get("Retry-After")
	}
	for i := range 5 {
		if s, b, _ := get(); s != 200 {
			t.Fatalf("request %d: %d %s", i, s, b)
		}
	}
	s, b, ra := get()
	if s != 429 || !strings.Contains(b, "Limit Exceeded: the daily quota of 5 requests is used up") ||
		!strings.Contains(b, `"resets":"2026-11-30T00:00:00Z"`) || ra == "" {
		t.Fatalf("over daily quota: %d %s Retry-After %q", s, b, ra)
	}
	// Next day: the monthly quota (7) allows two more.
	e.clock.Advance(24 * time.Hour)
	for i := range 2 {
		if s, b, _ := get(); s != 200 {
			t.Fatalf("next day %d: %d %s", i, s, b)
		}
	}
	if s, b, _ := get(); s != 429 || !strings.Contains(b, "monthly quota of 7") {
		t.Fatalf("over monthly quota: %d %s", s, b)
	}
	// Counts survive a restart: flush, then a new usage tracker reads them.
	if err := e.h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	days, err := e.h.store.Usage(context.Background(), "config.tester")
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 || days[0] != (DayUsage{"2026-11-29", 5}) || days[1] != (DayUsage{"2026-11-30", 2}) {
		t.Fatalf("usage = %v", days)
	}
	u := newUsage(e.h.store, e.clock.Now)
	if qe, err := u.admit(context.Background(), "config.tester", []quota{{period: PeriodMonth, limit: 7}}); err != nil || qe == nil || qe.period != PeriodMonth {
		t.Fatalf("fresh tracker: %v %v", qe, err)
	}
	// December: a new month.
	e.clock.Advance(48 * time.Hour)
	if s, b, _ := get(); s != 200 {
		t.Fatalf("new month: %d %s", s, b)
	}
}

// countingStore counts state-store writes.
type countingStore struct {
	state.Store
	updates atomic.Int64
}

func (c *countingStore) Update(ctx context.Context, ns, key string, fn func([]byte) ([]byte, error)) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, ns, key, fn)
}

// TestUsage_Flush checks counts are written in batches: one update per
// key and day per flush, not one per request.
func TestUsage_Flush(t *testing.T) {
	e := newTestEnv(t, itemsYAML, itemsTable)
	cs := &countingStore{Store: e.st}
	clock := testdb.NewClock(time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC))
	u := newUsage(&Store{st: cs}, clock.Now)
	for range 100 {
		if _, err := u.admit(context.Background(), "k1", nil); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Minute) // February 1st
	for range 10 {
		_, _ = u.admit(context.Background(), "k1", nil)
		_, _ = u.admit(context.Background(), "k2", nil)
	}
	if err := u.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := cs.updates.Load(); got != 3 {
		t.Fatalf("updates = %d, want 3 (k1 two days, k2 one)", got)
	}
	if err := u.flush(context.Background()); err != nil || cs.updates.Load() != 3 {
		t.Fatalf("empty flush wrote: %v %d", err, cs.updates.Load())
	}
	days, _ := (&Store{st: cs}).Usage(context.Background(), "k1")
	if len(days) != 2 || days[0].Count != 100 || days[1].Count != 10 {
		t.Fatalf("k1 usage = %v", days)
	}
}

func TestLimiter_Allow(t *testing.T) {
	c := testdb.NewClock(time.Unix(0, 0))
	l := newLimiter(c.Now)
	for i := range 5 {
		if ok, _ := l.allow("a", 0.5, 5); !ok {
			t.Fatalf("burst request %d refused", i)
		}
	}
	ok, wait := l.allow("a", 0.5, 5)
	if ok || wait != 2*time.Second {
		t.Fatalf("over: %v %v", ok, wait)
	}
	if ok, _ := l.allow("b", 0.5, 5); !ok {
		t.Fatal("buckets are per key")
	}
	c.Advance(time.Hour)
	for range 5 {
		l.allow("a", 0.5, 5)
	}
	if ok, _ := l.allow("a", 0.5, 5); ok {
		t.Fatal("bucket refilled past burst")
	}
}

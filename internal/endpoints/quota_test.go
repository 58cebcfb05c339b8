package endpoints

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/state"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestUsage_WeeklyQuotaAndOffset checks a WEEK quota counts from Monday
// 00:00 UTC across a month boundary, and that the offset lowers the limit
// only in the period the plan was created in.
func TestUsage_WeeklyQuotaAndOffset(t *testing.T) {
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Friday 2026-01-30; the week runs from Monday the 26th.
	clock := testdb.NewClock(time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC))
	store := &Store{st: st, Now: clock.Now}
	p := compilePlan(&PlanRecord{UsagePlan: config.UsagePlan{Name: "w", WeeklyQuota: 3}, ID: "w", QuotaOffset: 1, Created: clock.Now()})
	u := newUsage(store, clock.Now)
	ctx := context.Background()
	admit := func() *quotaError {
		t.Helper()
		qe, err := u.admit(ctx, "k", p.quotas)
		if err != nil {
			t.Fatal(err)
		}
		return qe
	}
	for i := range 2 {
		if qe := admit(); qe != nil {
			t.Fatalf("call %d of the first week: %+v", i, qe)
		}
	}
	// The first week's limit is 3 − 1.
	clock.Advance(2 * 24 * time.Hour) // Sunday 2026-02-01, still the same week
	qe := admit()
	if qe == nil || qe.period != PeriodWeek || qe.limit != 2 || !qe.reset.Equal(time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("third call in the plan's first week (across the month boundary): %+v", qe)
	}
	if err := u.flush(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(24 * time.Hour) // Monday 2026-02-02: a new week, the full limit
	for i := range 3 {
		if qe := admit(); qe != nil {
			t.Fatalf("call %d of the second week: %+v", i, qe)
		}
	}
	if qe := admit(); qe == nil || qe.limit != 3 {
		t.Fatalf("fourth call of the second week: %+v", qe)
	}
	// A fresh tracker (another node) reads the stored counts.
	if err := u.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if qe, err := newUsage(store, clock.Now).admit(ctx, "k", p.quotas); err != nil || qe == nil {
		t.Fatalf("fresh tracker: %+v %v", qe, err)
	}
}

// TestUsage_SharedQuotaIsExact: two nodes (trackers) on one PostgreSQL
// state store admit concurrent requests of one key; together they admit
// exactly the daily quota, and get-usage sees every admitted request
// once flushed.
func TestUsage_SharedQuotaIsExact(t *testing.T) {
	st, err := state.OpenPostgres(context.Background(), testdb.PGSchemaURL(t, "sqlgate_quota_test_"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := testdb.NewClock(time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC))
	store := &Store{st: st, Now: clock.Now}
	p := compilePlan(&PlanRecord{UsagePlan: config.UsagePlan{Name: "d", DailyQuota: 30}, ID: "d"})
	ctx := context.Background()
	// A count flushed before the key's shared record existed is kept.
	if err := store.addUsage(ctx, "k", "2026-03-04", 4); err != nil {
		t.Fatal(err)
	}
	nodes := []*usage{newUsage(store, clock.Now), newUsage(store, clock.Now)}
	for _, u := range nodes {
		u.shared = true
	}
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qe, err := nodes[i%2].admit(ctx, "k", p.quotas)
			switch {
			case err != nil:
				t.Error(err)
			case qe != nil:
				refused.Add(1)
			default:
				admitted.Add(1)
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 26 || refused.Load() != 34 {
		t.Fatalf("admitted %d, refused %d; want 26 (30 − 4 counted before) and 34", admitted.Load(), refused.Load())
	}
	for _, u := range nodes {
		if err := u.flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	days, err := store.Usage(ctx, "k")
	if err != nil || len(days) != 1 || days[0].Count != 30 {
		t.Fatalf("usage = %+v, %v; want 30 on 2026-03-04", days, err)
	}
	// The next day the quota is fresh.
	clock.Advance(24 * time.Hour)
	if qe, err := nodes[1].admit(ctx, "k", p.quotas); err != nil || qe != nil {
		t.Fatalf("next day: %+v, %v", qe, err)
	}
}

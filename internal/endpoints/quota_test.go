package endpoints

import (
	"context"
	"path/filepath"
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

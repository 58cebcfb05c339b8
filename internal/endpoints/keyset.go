package endpoints

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
)

// apiKey is a key the server accepts.
type apiKey struct {
	id, name string
	hash     [32]byte
	plans    []string // plan IDs
}

// Quota periods, as API Gateway names them.
const (
	PeriodDay   = "DAY"
	PeriodWeek  = "WEEK"
	PeriodMonth = "MONTH"
)

// quota is one period's limit of a compiled plan.
type quota struct {
	period string // PeriodDay | PeriodWeek | PeriodMonth
	limit  int64
	// offset is subtracted from limit in the period containing created.
	offset  int64
	created time.Time
}

// plan is a compiled usage plan.
type plan struct {
	id        string
	cfg       config.UsagePlan
	burst     float64
	quotas    []quota
	endpoints map[string]bool // nil = all
}

func compilePlan(p *PlanRecord) *plan {
	cp := &plan{id: p.ID, cfg: p.UsagePlan, burst: float64(p.Burst)}
	if cp.burst == 0 {
		cp.burst = max(1, p.Rate)
	}
	for _, q := range []quota{{period: PeriodDay, limit: p.DailyQuota}, {period: PeriodWeek, limit: p.WeeklyQuota},
		{period: PeriodMonth, limit: p.MonthlyQuota}} {
		if q.limit > 0 {
			q.offset, q.created = p.QuotaOffset, p.Created
			cp.quotas = append(cp.quotas, q)
		}
	}
	if len(p.Endpoints) > 0 {
		cp.endpoints = map[string]bool{}
		for _, e := range p.Endpoints {
			cp.endpoints[e] = true
		}
	}
	return cp
}

// periodStart returns the start of the quota period containing t (UTC):
// the day, the ISO week from Monday, or the calendar month.
func periodStart(period string, t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch period {
	case PeriodWeek:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case PeriodMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

// periodEnd returns the start of the period after the one containing t.
func periodEnd(period string, t time.Time) time.Time {
	s := periodStart(period, t)
	switch period {
	case PeriodWeek:
		return s.AddDate(0, 0, 7)
	case PeriodMonth:
		return s.AddDate(0, 1, 0)
	}
	return s.AddDate(0, 0, 1)
}

// limitAt is the quota's limit in the period containing t.
func (q quota) limitAt(t time.Time) int64 {
	if q.offset > 0 && !q.created.IsZero() && periodStart(q.period, q.created).Equal(periodStart(q.period, t)) {
		return max(0, q.limit-q.offset)
	}
	return q.limit
}

// loadKeys returns the enabled keys and all plans by ID: stored and
// declared in cfg (a declared plan or key wins over a stored one of the
// same name).
func (s *Store) loadKeys(ctx context.Context, cfg *config.Config) ([]*apiKey, map[string]*plan, error) {
	s.SetDeclared(cfg.UsagePlans, cfg.APIKeys)
	cplans, err := s.ListPlans(ctx)
	if err != nil {
		return nil, nil, err
	}
	plans := map[string]*plan{}
	for _, p := range cplans {
		plans[p.ID] = compilePlan(p)
	}
	var keys []*apiKey
	declared := map[string]bool{}
	for _, k := range cfg.APIKeys {
		ak := &apiKey{id: ConfigKeyID(k.Name), name: k.Name, plans: k.UsagePlans}
		if k.Value != "" {
			ak.hash = HashKey(k.Value)
		} else {
			_, _ = hex.Decode(ak.hash[:], []byte(k.ValueSHA256)) // validated
		}
		keys = append(keys, ak)
		declared[k.Name] = true
	}
	stored, err := s.ListKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range stored {
		if !r.Enabled() || declared[r.Name] {
			continue
		}
		ak := &apiKey{id: r.ID, name: r.Name, plans: r.Plans}
		if b, err := hex.DecodeString(r.SHA256); err != nil || len(b) != 32 {
			return nil, nil, fmt.Errorf("api key %s: bad stored hash", r.ID)
		}
		_, _ = hex.Decode(ak.hash[:], []byte(r.SHA256))
		keys = append(keys, ak)
	}
	return keys, plans, nil
}

// planFor returns the plan limiting key on endpoint: nil when the key is
// bound to no plan (no limits); ok is false when the key is bound to
// plans but none covers the endpoint (the key is not for this API).
func (k *apiKey) planFor(endpoint string, plans map[string]*plan) (p *plan, ok bool) {
	if len(k.plans) == 0 {
		return nil, true
	}
	for _, id := range k.plans {
		if p := plans[id]; p != nil && (p.endpoints == nil || p.endpoints[endpoint]) {
			return p, true
		}
	}
	return nil, false
}

// PeriodStart returns the start of the quota period (PeriodDay,
// PeriodWeek, PeriodMonth) containing t.
func PeriodStart(period string, t time.Time) time.Time { return periodStart(period, t) }

// QuotaLimitAt returns p's quota of period in the period containing t,
// the offset applied in the period p was created in; 0 = no such quota.
func QuotaLimitAt(p *PlanRecord, period string, t time.Time) int64 {
	for _, q := range compilePlan(p).quotas {
		if q.period == period {
			return q.limitAt(t)
		}
	}
	return 0
}

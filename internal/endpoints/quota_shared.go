package endpoints

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/sqlgate/sqlgate/internal/state"
)

// nsQuota holds, per API key, the request counts of the days of the
// current quota window (this month and this week), when several nodes
// share the state store (Options.Shared): every request of a key with a
// quota is checked and counted in one atomic update of that record, so a
// quota is exact across the nodes. The per-day counts of get-usage
// (nsUsage) are still written in batches.
const nsQuota = "endpoints.quota"

// quotaRecord is the value of a key in nsQuota.
type quotaRecord struct {
	From string           `json:"from"` // first day of the window
	Days map[string]int64 `json:"days"` // day → requests admitted
}

// errQuotaUsed aborts the update of a request refused by a quota.
var errQuotaUsed = errors.New("quota used up")

// admitShared is admit for nodes sharing the state store: the check and
// the count are one update of the key's record in the store. A key whose
// record does not exist yet starts from the stored per-day counts and
// this node's unflushed ones.
func (u *usage) admitShared(ctx context.Context, keyID string, quotas []quota) (*quotaError, error) {
	now := u.now().UTC()
	day, from := now.Format(dayFormat), windowStart(now)
	var seed map[string]int64
	if _, err := u.store.st.Get(ctx, nsQuota, keyID); errors.Is(err, state.ErrNotFound) {
		if seed, err = u.store.usageFrom(ctx, keyID, from); err != nil {
			return nil, err
		}
		for d, n := range u.pendingCounts(keyID) {
			seed[d] += n
		}
	} else if err != nil {
		return nil, fmt.Errorf("read quota counts: %w", err)
	}
	var qe *quotaError
	err := u.store.st.Update(ctx, nsQuota, keyID, func(old []byte) ([]byte, error) {
		rec := quotaRecord{Days: maps.Clone(seed)}
		if old != nil {
			rec = quotaRecord{}
			if err := json.Unmarshal(old, &rec); err != nil {
				return nil, fmt.Errorf("decode quota counts of %s: %w", keyID, err)
			}
		}
		if rec.Days == nil {
			rec.Days = map[string]int64{}
		}
		if rec.From != from {
			for d := range rec.Days {
				if d < from {
					delete(rec.Days, d)
				}
			}
			rec.From = from
		}
		if qe = exceeded(rec.Days, quotas, now); qe != nil {
			return nil, errQuotaUsed
		}
		rec.Days[day]++
		return json.Marshal(rec)
	})
	if errors.Is(err, errQuotaUsed) {
		return qe, nil
	}
	if err != nil {
		return nil, fmt.Errorf("count request: %w", err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	ku := u.keys[keyID]
	if ku == nil {
		ku = &keyUsage{pending: map[string]int64{}}
		u.keys[keyID] = ku
	}
	ku.pending[day]++
	return nil, nil
}

// exceeded returns the first of quotas the day counts have used up at
// now, or nil.
func exceeded(days map[string]int64, quotas []quota, now time.Time) *quotaError {
	day := now.Format(dayFormat)
	for _, q := range quotas {
		start := periodStart(q.period, now).Format(dayFormat)
		var used int64
		for d, n := range days {
			if d >= start && d <= day {
				used += n
			}
		}
		if limit := q.limitAt(now); used >= limit {
			return &quotaError{q.period, limit, periodEnd(q.period, now)}
		}
	}
	return nil
}

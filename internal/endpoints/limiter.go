package endpoints

import (
	"context"
	"math"
	"sync"
	"time"
)

// limiter holds a token bucket per (key, plan): Rate tokens per second up
// to Burst. Buckets survive reloads; a changed rate applies from the next
// request.
type limiter struct {
	now func() time.Time

	mu      sync.Mutex // guards following fields
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, buckets: map[string]*bucket{}}
}

// allow takes one token from the bucket id, or returns how long until one
// is available.
func (l *limiter) allow(id string, rate, burst float64) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[id]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		l.buckets[id] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(burst, b.tokens+dt*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// usage counts requests per key per UTC day, checks quotas against the
// counts, and writes the counts to the state store in batches (flush).
// With several nodes on one state store (shared), a key with a quota is
// checked and counted in the store on every request instead, so the
// quota is exact (quota_shared.go).
type usage struct {
	store *Store
	now   func() time.Time
	// shared: nodes share the state store; quotas are checked and
	// counted in it on every request (quota_shared.go).
	shared bool

	mu   sync.Mutex // guards following fields
	keys map[string]*keyUsage
}

type keyUsage struct {
	from    string           // first day of the loaded window (YYYY-MM-DD)
	days    map[string]int64 // day → count (stored at load + counted since)
	pending map[string]int64 // day → count not yet flushed
}

func newUsage(store *Store, now func() time.Time) *usage {
	return &usage{store: store, now: now, keys: map[string]*keyUsage{}}
}

// quotaError says which quota is used up and when it resets.
type quotaError struct {
	period string // PeriodDay | PeriodWeek | PeriodMonth
	limit  int64
	reset  time.Time
}

// periodWord names a quota period in an error message.
func periodWord(p string) string {
	switch p {
	case PeriodWeek:
		return "weekly"
	case PeriodMonth:
		return "monthly"
	}
	return "daily"
}

const dayFormat = "2006-01-02"

// windowStart is the first day any quota period containing now can
// start: the earlier of this month's and this week's first day.
func windowStart(now time.Time) string {
	m, w := periodStart(PeriodMonth, now), periodStart(PeriodWeek, now)
	if w.Before(m) {
		m = w
	}
	return m.Format(dayFormat)
}

// admit counts one request of key and reports a quotaError when one of
// quotas is used up (the request is then not counted).
func (u *usage) admit(ctx context.Context, keyID string, quotas []quota) (*quotaError, error) {
	if u.shared && len(quotas) > 0 {
		return u.admitShared(ctx, keyID, quotas)
	}
	now := u.now().UTC()
	day, from := now.Format(dayFormat), windowStart(now)
	u.mu.Lock()
	ku := u.keys[keyID]
	loaded := ku != nil && ku.from == from // a new week or month reloads
	u.mu.Unlock()
	if !loaded {
		// First request of this key in this window (or since start):
		// read the stored counts, outside the lock.
		stored, err := u.store.usageFrom(ctx, keyID, from)
		if err != nil {
			return nil, err
		}
		u.mu.Lock()
		if ku = u.keys[keyID]; ku == nil {
			ku = &keyUsage{pending: map[string]int64{}}
			u.keys[keyID] = ku
		}
		// Counts not yet flushed are in pending and add to the stored ones.
		ku.from, ku.days = from, stored
		for d, n := range ku.pending {
			if d >= from {
				ku.days[d] += n
			}
		}
		u.mu.Unlock()
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if qe := exceeded(ku.days, quotas, now); qe != nil {
		return qe, nil
	}
	ku.days[day]++
	ku.pending[day]++
	return nil, nil
}

// pendingCounts returns this node's counts of keyID not yet flushed.
func (u *usage) pendingCounts(keyID string) map[string]int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string]int64{}
	if ku := u.keys[keyID]; ku != nil {
		for d, n := range ku.pending {
			out[d] = n
		}
	}
	return out
}

// flush writes the pending counts: one state-store update per key and
// day. Counts that fail to write stay pending for the next flush.
func (u *usage) flush(ctx context.Context) error {
	type item struct {
		key, day string
		n        int64
	}
	var items []item
	u.mu.Lock()
	for k, ku := range u.keys {
		for d, n := range ku.pending {
			items = append(items, item{k, d, n})
		}
		clear(ku.pending)
	}
	u.mu.Unlock()
	for i, it := range items {
		if err := u.store.addUsage(ctx, it.key, it.day, it.n); err != nil {
			u.mu.Lock()
			for _, back := range items[i:] {
				u.keys[back.key].pending[back.day] += back.n
			}
			u.mu.Unlock()
			return err
		}
	}
	return nil
}

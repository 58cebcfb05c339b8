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
// With several nodes on one state store each node's quota check sees the
// stored counts at the time it first saw the key this month, plus its own.
type usage struct {
	store *Store
	now   func() time.Time

	mu   sync.Mutex // guards following fields
	keys map[string]*keyUsage
}

type keyUsage struct {
	month, day           string // the period the counts are for
	monthCount, dayCount int64
	pending              map[string]int64 // day → count not yet flushed
}

func newUsage(store *Store, now func() time.Time) *usage {
	return &usage{store: store, now: now, keys: map[string]*keyUsage{}}
}

// quotaError says which quota is used up and when it resets.
type quotaError struct {
	period string // "daily" | "monthly"
	limit  int64
	reset  time.Time
}

// admit counts one request of key and reports a quotaError when the
// plan's daily or monthly quota is used up (the request is then not
// counted). daily/monthly 0 = no quota.
func (u *usage) admit(ctx context.Context, keyID string, daily, monthly int64) (*quotaError, error) {
	now := u.now().UTC()
	day, month := now.Format("2006-01-02"), now.Format("2006-01")
	u.mu.Lock()
	ku := u.keys[keyID]
	loaded := ku != nil && ku.month == month
	u.mu.Unlock()
	if !loaded {
		// First request of this key this month (or since start): read
		// the stored counts, outside the lock.
		m, d, err := u.store.usageSince(ctx, keyID, month, day)
		if err != nil {
			return nil, err
		}
		u.mu.Lock()
		if ku = u.keys[keyID]; ku == nil {
			ku = &keyUsage{pending: map[string]int64{}}
			u.keys[keyID] = ku
		}
		if ku.month != month {
			// Counts not yet flushed are in pending and add to the stored ones.
			ku.month, ku.day, ku.monthCount, ku.dayCount = month, day, m+pendingSince(ku.pending, month), d+ku.pending[day]
		}
		u.mu.Unlock()
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if ku.day != day {
		ku.day, ku.dayCount = day, ku.pending[day]
	}
	if daily > 0 && ku.dayCount >= daily {
		return &quotaError{"daily", daily, time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)}, nil
	}
	if monthly > 0 && ku.monthCount >= monthly {
		return &quotaError{"monthly", monthly, time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)}, nil
	}
	ku.dayCount++
	ku.monthCount++
	ku.pending[day]++
	return nil, nil
}

func pendingSince(p map[string]int64, month string) int64 {
	var n int64
	for d, c := range p {
		if len(d) >= 7 && d[:7] == month {
			n += c
		}
	}
	return n
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

package bench

import (
	"context"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// result is one measured case.
type result struct {
	ops      int
	elapsed  time.Duration
	lat      []time.Duration // sorted
	errs     int
	firstErr error
	cpu      time.Duration // process CPU time (user+system) spent in the case
}

// merge adds o's counts to r (rounds of the same case); call sort after.
func (r *result) merge(o result) {
	r.ops += o.ops
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
	r.errs += o.errs
	r.cpu += o.cpu
	if r.firstErr == nil {
		r.firstErr = o.firstErr
	}
	slices.Sort(r.lat)
}

// cpuPerOp is the process CPU time per successful call: client, driver and,
// for sqlgate cases, the in-process server — but not the database server.
// Unlike throughput it does not depend on how much CPU other processes on
// the machine leave us.
func (r result) cpuPerOp() time.Duration {
	if r.ops == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.ops)
}

// processCPU returns this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r result) opsPerSec() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ops) / r.elapsed.Seconds()
}

// pct returns the q-quantile latency (0 < q < 1), nearest rank.
func (r result) pct(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(q*float64(len(r.lat))+0.5) - 1
	return r.lat[max(0, min(i, len(r.lat)-1))]
}

// measure runs op in n goroutines for d and records each call's latency.
// Each goroutine stops after its first call that ends past the deadline, so
// elapsed is the time until the last call returned.
func measure(ctx context.Context, n int, d time.Duration, op func(context.Context) error) result {
	type part struct {
		lat  []time.Duration
		errs int
		err  error
		end  time.Time
	}
	parts := make([]part, n)
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() {
			p := &parts[i]
			p.lat = make([]time.Duration, 0, 1<<14)
			for {
				t0 := time.Now()
				err := op(ctx)
				t1 := time.Now()
				if err != nil {
					p.errs++
					if p.err == nil {
						p.err = err
					}
				} else {
					p.lat = append(p.lat, t1.Sub(t0))
				}
				if t1.After(deadline) || ctx.Err() != nil {
					p.end = t1
					return
				}
			}
		})
	}
	wg.Wait()
	r := result{cpu: processCPU() - cpu0}
	var end time.Time
	for _, p := range parts {
		r.lat = append(r.lat, p.lat...)
		r.errs += p.errs
		if r.firstErr == nil {
			r.firstErr = p.err
		}
		if p.end.After(end) {
			end = p.end
		}
	}
	slices.Sort(r.lat)
	r.ops, r.elapsed = len(r.lat), end.Sub(start)
	return r
}

// runRounds measures every case for dur in total, split over rounds that
// interleave the cases so that load from other processes on a shared
// machine hits direct and sqlgate alike (the first round is preceded by a
// warm-up of each case), and fails the test for cases that saw errors.
func runRounds(t *testing.T, cases []*benchCase, rounds int, warm, dur time.Duration) {
	ctx := context.Background()
	for round := range rounds {
		for _, c := range cases {
			if round == 0 {
				measure(ctx, c.n, warm, c.op)
			}
			r := measure(ctx, c.n, dur/time.Duration(rounds), c.op)
			c.res.merge(r)
			t.Logf("round %d %-40s %9.0f ops/s  p50 %v  p99 %v  cpu/op %v", round+1, c.name(), r.opsPerSec(),
				r.pct(.5), r.pct(.99), r.cpuPerOp())
		}
	}
	for _, c := range cases {
		if c.res.errs > 0 {
			t.Errorf("%s: %d errors, first: %v", c.name(), c.res.errs, c.res.firstErr)
		}
	}
}

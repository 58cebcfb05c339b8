package fairshare

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestShares_Connection(t *testing.T) {
	s := New(Limits{Connections: 2, Waiters: 0})
	ctx := context.Background()
	a1, err := s.Connection(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := s.Connection(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Connection(ctx, "a")
	var le *LimitError
	if !errors.As(err, &le) || le.Kind != Waiters || !errors.Is(err, ErrLimit) {
		t.Fatalf("third connection of a: got %v, want a waiters LimitError", err)
	}
	// Another principal is not affected.
	b, err := s.Connection(ctx, "b")
	if err != nil {
		t.Fatalf("b refused while a holds its share: %v", err)
	}
	b.Release()
	a1.Release()
	a3, err := s.Connection(ctx, "a")
	if err != nil {
		t.Fatalf("a after a release: %v", err)
	}
	a2.Release()
	a3.Release()
	if st := s.Stats(); st.Principals != 0 || st.Refused[Waiters] != 1 {
		t.Fatalf("stats %+v, want no principal holding and one waiters refusal", st)
	}
}

func TestShares_ConnectionWaits(t *testing.T) {
	s := New(Limits{Connections: 1, Waiters: 1})
	held, err := s.Connection(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		sl, err := s.Connection(context.Background(), "a")
		if err == nil {
			defer sl.Release()
		}
		got <- err
	}()
	// Wait until the goroutine is a waiter, then a second waiter is refused.
	for s.Stats().Top[Waiters] != 1 {
		select {
		case err := <-got:
			t.Fatalf("waiter returned early: %v", err)
		default:
		}
	}
	if _, err := s.Connection(context.Background(), "a"); !errors.Is(err, ErrLimit) {
		t.Fatalf("second waiter: got %v, want ErrLimit", err)
	}
	held.Release()
	if err := <-got; err != nil {
		t.Fatalf("waiter after release: %v", err)
	}
	// A waiter whose context ends is refused with the connections limit.
	held, _ = s.Connection(context.Background(), "a")
	defer held.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var le *LimitError
	if _, err := s.Connection(ctx, "a"); !errors.As(err, &le) || le.Kind != Connections {
		t.Fatalf("waiter with a done context: got %v, want a connections LimitError", err)
	}
}

func TestShares_Transaction(t *testing.T) {
	s := New(Limits{Transactions: 1})
	tx, err := s.Transaction("a")
	if err != nil {
		t.Fatal(err)
	}
	var le *LimitError
	if _, err := s.Transaction("a"); !errors.As(err, &le) || le.Kind != Transactions || le.Limit != 1 {
		t.Fatalf("second transaction: got %v", err)
	}
	if _, err := s.Transaction("b"); err != nil {
		t.Fatalf("b: %v", err)
	}
	tx.Release()
	if _, err := s.Transaction("a"); err != nil {
		t.Fatalf("a after release: %v", err)
	}
}

func TestShares_Disabled(t *testing.T) {
	var nilShares *Shares
	for _, s := range []*Shares{nilShares, New(Limits{Waiters: -1})} {
		for range 100 {
			if _, err := s.Connection(context.Background(), "a"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Transaction("a"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestShares_SetLimitsWakesWaiters(t *testing.T) {
	s := New(Limits{Connections: 1, Waiters: -1})
	held, _ := s.Connection(context.Background(), "a")
	defer held.Release()
	got := make(chan error, 1)
	go func() {
		sl, err := s.Connection(context.Background(), "a")
		if err == nil {
			sl.Release()
		}
		got <- err
	}()
	for s.Stats().Top[Waiters] != 1 {
	}
	s.SetLimits(Limits{Connections: 2, Waiters: -1})
	if err := <-got; err != nil {
		t.Fatalf("waiter after raising the bound: %v", err)
	}
}

// TestShares_ConcurrentSweep races many principals (forcing sweeps of the
// account map) against a bound, checking the bound is never exceeded and
// everything is given back.
func TestShares_ConcurrentSweep(t *testing.T) {
	s := New(Limits{Connections: 3, Transactions: 2, Waiters: -1})
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := map[string]int{}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				p := fmt.Sprintf("p%d", (g*500+i)%(minSweep*2))
				if i%7 == 0 {
					p = "hot"
				}
				sl, err := s.Connection(context.Background(), p)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				held[p]++
				if held[p] > 3 {
					t.Errorf("%s holds %d connections, bound 3", p, held[p])
				}
				mu.Unlock()
				tx, txErr := s.Transaction(p)
				mu.Lock()
				held[p]--
				mu.Unlock()
				sl.Release()
				if txErr == nil {
					tx.Release()
				}
			}
		}()
	}
	wg.Wait()
	if st := s.Stats(); st.Principals != 0 {
		t.Fatalf("after all releases %d principals still hold something", st.Principals)
	}
}

// BenchmarkShares_Connection is the cost a borrow pays with limits set:
// one map lookup under a read lock and two atomic adds (take and release).
func BenchmarkShares_Connection(b *testing.B) {
	s := New(Limits{Connections: 100, Waiters: -1})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sl, ok := s.TryConnection("arn:aws:iam::000000000000:user/app")
			if !ok {
				b.Fatal("refused")
			}
			sl.Release()
		}
	})
}

package state

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestFanout_Watch checks that a stuck watcher neither blocks writers nor
// grows without bound: its backlog collapses into one (WatchAll, "").
func TestFanout_Watch(t *testing.T) {
	f := newFanout()
	defer f.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	unblock := make(chan struct{})
	ch := make(chan event, 2*maxPending)
	go func() {
		_ = f.watch(ctx, func(ns, key string) {
			ch <- event{ns, key}
			if ns == "stuck" {
				<-unblock
			}
		})
	}()
	waitEvent(t, ch, event{WatchAll, ""}, time.Second)
	f.notify("stuck", "")
	waitEvent(t, ch, event{"stuck", ""}, time.Second)

	done := make(chan struct{})
	go func() {
		for i := range maxPending + 10 {
			f.notify("ns", fmt.Sprint(i))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("notify blocked on a stuck watcher")
	}
	f.mu.Lock()
	var pending int
	for s := range f.subs {
		pending = len(s.pending)
	}
	f.mu.Unlock()
	if pending > maxPending {
		t.Errorf("%d events pending, want at most %d", pending, maxPending)
	}
	close(unblock)
	skipped := waitEvent(t, ch, event{WatchAll, ""}, time.Second)
	if len(skipped) != 0 {
		t.Errorf("events before the overflow marker: %q", skipped)
	}
	waitEvent(t, ch, event{"ns", fmt.Sprint(maxPending + 9)}, time.Second)
}

package state

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// maxWatchDelay is the invalidation bound: a change made on one
// node reaches the others' caches within 1 s.
const maxWatchDelay = time.Second

// watchEvents runs w.Watch until the test ends and returns its events,
// after the first (WatchAll, "") one has arrived.
func watchEvents(t *testing.T, w Watcher) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan event, 4096)
	ret := make(chan error, 1)
	go func() {
		ret <- w.Watch(ctx, func(ns, key string) {
			select {
			case ch <- event{ns, key}:
			case <-ctx.Done():
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ret:
			if err != nil {
				t.Errorf("Watch returned %v after cancel, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Watch did not return after cancel")
		}
	})
	waitEvent(t, ch, event{WatchAll, ""}, 10*time.Second)
	return ch
}

// waitEvent waits for want, skipping others (delivery is at-least-once),
// and returns the events it skipped.
func waitEvent(t *testing.T, ch <-chan event, want event, within time.Duration) (skipped []event) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case got := <-ch:
			if got == want {
				return skipped
			}
			skipped = append(skipped, got)
		case <-timeout:
			t.Fatalf("no event %q within %v; saw %q", want, within, skipped)
		}
	}
}

// testWatch checks that writes through writer reach watched's Watch within
// maxWatchDelay. For a Postgres the two are different handles (nodes).
func testWatch(t *testing.T, writer Store, watched Watcher) {
	ctx := context.Background()
	ch := watchEvents(t, watched)
	writes := []struct {
		name  string
		key   string
		write func(key string) error
	}{
		{"Put", "k", func(k string) error { return writer.Put(ctx, "w", k, []byte("v")) }},
		{"Put again", "k", func(k string) error { return writer.Put(ctx, "w", k, []byte("v2")) }},
		{"Update create", "u", func(k string) error {
			return writer.Update(ctx, "w", k, func([]byte) ([]byte, error) { return []byte("1"), nil })
		}},
		{"Update delete", "u", func(k string) error {
			return writer.Update(ctx, "w", k, func([]byte) ([]byte, error) { return nil, nil })
		}},
		{"Delete", "k", func(k string) error { return writer.Delete(ctx, "w", k) }},
		{"odd key", "a\x1fb/é", func(k string) error { return writer.Put(ctx, "w", k, nil) }},
	}
	for _, tt := range writes {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			if err := tt.write(tt.key); err != nil {
				t.Fatal(err)
			}
			waitEvent(t, ch, event{"w", tt.key}, maxWatchDelay)
			t.Logf("seen after %v", time.Since(start))
		})
	}
	t.Run("no event without a write", func(t *testing.T) {
		boom := errors.New("boom")
		err := writer.Update(ctx, "w", "failed", func([]byte) ([]byte, error) { return []byte("x"), boom })
		if err != boom {
			t.Fatalf("got %v, want boom", err)
		}
		if err := writer.Delete(ctx, "w", "missing"); err != nil {
			t.Fatal(err)
		}
		if err := writer.Put(ctx, "w", "marker", nil); err != nil {
			t.Fatal(err)
		}
		for _, e := range waitEvent(t, ch, event{"w", "marker"}, maxWatchDelay) {
			if e.key == "failed" || e.key == "missing" {
				t.Errorf("event %q without a write", e)
			}
		}
	})
}

// testWatchClose checks that Close ends a running Watch with nil.
func testWatchClose(t *testing.T, s interface {
	Store
	Watcher
}) {
	ret := make(chan error, 1)
	started := make(chan struct{})
	var once sync.Once
	go func() {
		ret <- s.Watch(context.Background(), func(ns, key string) {
			once.Do(func() { close(started) })
		})
	}()
	<-started
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ret:
		if err != nil {
			t.Fatalf("Watch returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch still running after Close")
	}
	if err := s.Watch(context.Background(), func(string, string) {}); err != nil {
		t.Fatalf("Watch after Close: %v, want nil", err)
	}
}

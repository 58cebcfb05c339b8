package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/metrics"
)

// restartDelay is how long a background task that panicked waits before
// it is started again, so a task that panics at once does not spin.
const restartDelay = time.Second

// tasks runs the server's background goroutines. Shutdown waits for every
// one of them (Wait) before it closes what they use (pools, state store).
// A panic in a task is logged with its stack and counted; the process
// stays up.
type tasks struct {
	log    *slog.Logger
	panics *metrics.CounterVec // by task name; nil = not counted
	wg     sync.WaitGroup
}

// Go runs fn once on a tracked goroutine; a panic ends it cleanly.
func (t *tasks) Go(name string, fn func()) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.runOnce(name, fn)
	}()
}

// GoLoop runs fn(ctx) on a tracked goroutine until ctx is done: a long-lived
// task (reaper, watcher) that panics is started again after restartDelay;
// one that returns is not.
func (t *tasks) GoLoop(ctx context.Context, name string, fn func(context.Context)) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		for {
			if !t.runOnce(name, func() { fn(ctx) }) {
				return
			}
			timer := time.NewTimer(restartDelay)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			t.logger().Info("background task restarted", "task", name)
		}
	}()
}

// runOnce calls fn and reports whether it panicked.
func (t *tasks) runOnce(name string, fn func()) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			if t.panics != nil {
				t.panics.Inc(name)
			}
			t.logger().Error("background task panic", "task", name, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	fn()
	return false
}

func (t *tasks) logger() *slog.Logger {
	if t.log == nil {
		return slog.Default()
	}
	return t.log
}

// Wait blocks until every goroutine started by Go or GoLoop has returned.
func (t *tasks) Wait() { t.wg.Wait() }

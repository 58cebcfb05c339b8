package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/metrics"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

func TestTasks_GoLoopRecoversAndRestarts(t *testing.T) {
	logs := &testdb.LogBuffer{}
	reg := metrics.NewRegistry()
	bg := &tasks{log: slog.New(slog.NewTextHandler(logs, nil)),
		panics: reg.NewCounterVec("sqlgate_task_panics_total", "test", "task")}
	ctx, cancel := context.WithCancel(context.Background())
	runs := make(chan int, 4)
	n := 0
	bg.GoLoop(ctx, "reaper", func(ctx context.Context) {
		n++
		runs <- n
		if n == 1 {
			xs := make([]int, n)
			_ = xs[n] // index out of range: a real runtime panic
		}
		<-ctx.Done()
	})
	for want := 1; want <= 2; want++ {
		select {
		case got := <-runs:
			if got != want {
				t.Fatalf("run %d, want %d", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("task not (re)started for run %d\n%s", want, logs)
		}
	}
	cancel()
	waited := make(chan struct{})
	go func() { bg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after the context was cancelled")
	}
	var out bytes.Buffer
	reg.Write(&out)
	if !strings.Contains(out.String(), `sqlgate_task_panics_total{task="reaper"} 1`) {
		t.Errorf("panic not counted:\n%s", out.String())
	}
	for _, want := range []string{"background task panic", "index out of range", "tasks_test.go", "background task restarted"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestTasks_GoEndsCleanlyOnPanic(t *testing.T) {
	logs := &testdb.LogBuffer{}
	bg := &tasks{log: slog.New(slog.NewTextHandler(logs, nil))}
	bg.Go("once", func() { panic("BUG: test") })
	bg.Go("fine", func() {})
	bg.Wait()
	if !strings.Contains(logs.String(), "task=once panic=\"BUG: test\"") {
		t.Errorf("panic not logged:\n%s", logs)
	}
}

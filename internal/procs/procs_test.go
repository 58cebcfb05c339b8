package procs

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// fake is a process whose CPU time and processor count the test drives.
type fake struct {
	cpu   time.Duration
	now   time.Time
	procs int
	max   int
	sets  []int // every change, in order
}

func newFake(procs, max int) (*fake, *Controller) {
	f := &fake{now: time.Unix(1_800_000_000, 0), procs: procs, max: max}
	c := &Controller{
		CPU:     func() time.Duration { return f.cpu },
		Now:     func() time.Time { return f.now },
		Procs:   func() int { return f.procs },
		One:     func() { f.procs = 1; f.sets = append(f.sets, 1) },
		Default: func() { f.procs = f.max; f.sets = append(f.sets, f.max) },
	}
	return f, c
}

// tick advances one Tick at load cores and takes a sample.
func (f *fake) tick(c *Controller, load float64) {
	f.now = f.now.Add(Tick)
	f.cpu += time.Duration(load * float64(Tick))
	c.Step()
}

func TestStep_downAfterCalmTicks(t *testing.T) {
	f, c := newFake(4, 4)
	c.Step() // baseline
	for i := 0; i < DownAfter-1; i++ {
		f.tick(c, 0.2)
	}
	if f.procs != 4 {
		t.Fatalf("went to %d processors after %d calm ticks, want %d ticks first", f.procs, DownAfter-1, DownAfter)
	}
	f.tick(c, 0.2)
	if f.procs != 1 {
		t.Fatalf("%d processors after %d calm ticks, want 1", f.procs, DownAfter)
	}
}

func TestStep_busyTickRestartsTheCount(t *testing.T) {
	f, c := newFake(2, 2)
	c.Step()
	for i := 0; i < DownAfter-1; i++ {
		f.tick(c, 0.1)
	}
	f.tick(c, 0.8) // between the thresholds: not calm
	for i := 0; i < DownAfter-1; i++ {
		f.tick(c, 0.1)
	}
	if f.procs != 2 {
		t.Fatalf("went down although a tick at 0.8 cores broke the calm")
	}
	f.tick(c, 0.1)
	if f.procs != 1 {
		t.Fatalf("%d processors, want 1", f.procs)
	}
}

func TestStep_upAtOnce(t *testing.T) {
	f, c := newFake(1, 8)
	c.Step()
	f.tick(c, 0.84)
	if f.procs != 1 {
		t.Fatalf("went up at 0.84 cores")
	}
	f.tick(c, 0.95)
	if f.procs != 8 {
		t.Fatalf("%d processors after a tick at 0.95 cores, want the default 8", f.procs)
	}
	// Up again: the same load stays up (no flapping).
	for i := 0; i < 3*DownAfter; i++ {
		f.tick(c, 0.9)
	}
	if len(f.sets) != 1 {
		t.Fatalf("changes %v, want one", f.sets)
	}
}

func TestStep_ignoresBadSamples(t *testing.T) {
	f, c := newFake(2, 2)
	f.tick(c, 0) // first sample: baseline only
	f.cpu -= time.Second
	f.tick(c, 0) // CPU time went back: no sample
	c.Step()     // no wall time passed: no sample
	if c.calm != 0 || f.procs != 2 {
		t.Fatalf("bad samples counted: calm %d, procs %d", c.calm, f.procs)
	}
}

// TestRun_realProcess runs the controller of this process: a test
// process is nearly idle, so it must not go up, and when it ends the
// runtime's default count is back.
func TestRun_realProcess(t *testing.T) {
	if !Enabled() {
		t.Skip("GOMAXPROCS is set, or one CPU: the controller does not run")
	}
	want := runtime.GOMAXPROCS(0)
	c := New(nil)
	c.Step()
	if c.lastAt.IsZero() || c.CPU() <= 0 {
		t.Fatalf("no CPU time sampled: %v", c.CPU())
	}
	c.One()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	cancel()
	<-done
	if got := runtime.GOMAXPROCS(0); got != want {
		t.Fatalf("GOMAXPROCS %d after Run, want the default %d", got, want)
	}
}

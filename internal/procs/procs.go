// Package procs sizes the Go runtime's processor count (GOMAXPROCS) to
// the process's load while `sqlgate serve` runs.
//
// A proxy relaying short transactions spends much of its CPU on waking
// goroutines. With several processors, each wake-up also wakes an idle
// processor's thread, which searches for work, finds none and sleeps
// again: two context switches and a little spinning per transaction that
// a single processor does without. Measured with pgbench through the
// PostgreSQL proxy (bench/RESULTS.md), one processor costs 7–23 % less CPU
// per transaction and serves more of them, as long as the process needs
// less than one core. So the controller runs the process on one processor
// while its load stays well below a core, and gives it the runtime's
// default count (all CPUs the process may use, cgroup limits included)
// as soon as the load comes near one core, so throughput never waits on
// the single processor for longer than a tick.
//
// The load is the process's CPU time (user and system, getrusage) over
// wall time, sampled every Tick. With one processor: a tick at UpAt cores
// or more switches to the default count at once. With more: DownAfter of
// ticks in a row below DownAt cores switch back to one. The gap between
// the two thresholds, and the same work costing less CPU on one processor,
// keep it from flapping. A GOMAXPROCS environment variable is an
// operator's explicit choice: then the controller does not run.
package procs

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"time"
)

// Defaults of a Controller.
const (
	Tick      = 250 * time.Millisecond
	UpAt      = 0.85 // cores
	DownAt    = 0.7  // cores
	DownAfter = 20   // ticks (5 s)
)

// Controller decides the processor count from CPU-time samples. Its
// function fields are the runtime by default; tests replace them.
type Controller struct {
	// CPU returns the process's CPU time so far.
	CPU func() time.Duration
	// Now returns the wall time.
	Now func() time.Time
	// Procs returns the current processor count.
	Procs func() int
	// One sets one processor; Default restores the runtime's default.
	One, Default func()
	// Log gets a debug line per change (nil: none).
	Log *slog.Logger

	lastCPU time.Duration
	lastAt  time.Time
	calm    int // ticks in a row below DownAt with more than one processor
}

// New returns a Controller of the running process.
func New(log *slog.Logger) *Controller {
	return &Controller{
		CPU:     processCPU,
		Now:     time.Now,
		Procs:   func() int { return runtime.GOMAXPROCS(0) },
		One:     func() { runtime.GOMAXPROCS(1) },
		Default: runtime.SetDefaultGOMAXPROCS,
		Log:     log,
	}
}

// Enabled reports whether the controller should run: the operator has
// not set GOMAXPROCS and the runtime's default is more than one.
func Enabled() bool {
	_, set := os.LookupEnv("GOMAXPROCS")
	return supported && !set && runtime.GOMAXPROCS(0) > 1
}

// Run samples every Tick until ctx ends, then restores the default count.
func (c *Controller) Run(ctx context.Context) {
	t := time.NewTicker(Tick)
	defer t.Stop()
	c.Step()
	for {
		select {
		case <-ctx.Done():
			if c.Procs() == 1 {
				c.Default()
			}
			return
		case <-t.C:
			c.Step()
		}
	}
}

// Step takes one sample and changes the processor count if the load
// since the last sample calls for it. The first sample only sets the
// baseline.
func (c *Controller) Step() {
	cpu, now := c.CPU(), c.Now()
	prevCPU, prevAt := c.lastCPU, c.lastAt
	c.lastCPU, c.lastAt = cpu, now
	wall := now.Sub(prevAt)
	if prevAt.IsZero() || wall <= 0 || cpu < prevCPU {
		return
	}
	load := float64(cpu-prevCPU) / float64(wall)
	procs := c.Procs()
	switch {
	case procs == 1:
		c.calm = 0
		if load >= UpAt {
			c.Default()
			c.logChange(1, load)
		}
	case load < DownAt:
		c.calm++
		if c.calm >= DownAfter {
			c.calm = 0
			c.One()
			c.logChange(procs, load)
		}
	default:
		c.calm = 0
	}
}

func (c *Controller) logChange(from int, load float64) {
	if c.Log != nil {
		c.Log.Debug("processor count changed", "from", from, "to", c.Procs(), "load_cores", load)
	}
}

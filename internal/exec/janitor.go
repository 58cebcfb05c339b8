package exec

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// janitorTick is how often the janitor looks at the running statements: a
// statement is stopped at most this long after its timeout, or after its
// caller went away.
const janitorTick = 5 * time.Millisecond

// Why a watched statement was stopped (stmtCtx.why).
const (
	stopNone     int32 = iota
	stopDeadline       // the statement timeout passed
	stopCaller         // the caller's context ended
)

// Watch states of a stmtCtx.
const (
	watchIdle   = iota // not in the janitor's list
	watchArmed         // listed; the statement runs
	watchFiring        // the janitor is interrupting it
)

// stmtCtx is the context a statement runs under on a connection the
// janitor can interrupt (engine.Interrupter). It carries the caller's
// values and the statement's deadline but has no Done channel, so the
// drivers arm no watch of their own (pgconn's and the MySQL engine's each
// cost a context.AfterFunc, channels and a lock round per statement) and
// no timer runs per statement: the janitor checks the deadline, and the
// caller's context, every janitorTick, and only then interrupts the
// statement. Err reports why from the moment the janitor decides to stop
// the statement, before it calls Interrupt, which is what the engines read
// to answer as they do when a context ends.
type stmtCtx struct {
	context.Context // the caller's
	deadline        time.Time
	why             atomic.Int32

	conn       engine.Interrupter
	state      int           // guarded by janitor.mu
	fired      chan struct{} // closed once Interrupt returned (firing only)
	prev, next *stmtCtx      // the janitor's list
}

// Done returns nil: the janitor, not a channel, ends the statement.
func (c *stmtCtx) Done() <-chan struct{} { return nil }

// Deadline is the statement's deadline.
func (c *stmtCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Err is nil while the statement may run, and says why once the janitor
// stops it: context.DeadlineExceeded at the statement timeout, else the
// caller's context's error.
func (c *stmtCtx) Err() error {
	switch c.why.Load() {
	case stopDeadline:
		return context.DeadlineExceeded
	case stopCaller:
		if err := c.Context.Err(); err != nil {
			return err
		}
		return context.Canceled
	}
	return nil
}

// janitor keeps the statements that run under a stmtCtx and interrupts
// those past their deadline or whose caller went away.
type janitor struct {
	mu      sync.Mutex
	head    *stmtCtx
	running bool // the goroutine is up
	seen    bool // a statement was armed since the last tick
	// The goroutine exits at a tick that finds nothing listed nor armed
	// since the one before; the next arm starts it again.
}

var stmtJanitor janitor

// arm lists c, armed, starting the janitor's goroutine if it is down.
func (j *janitor) arm(c *stmtCtx) {
	j.mu.Lock()
	c.state = watchArmed
	c.prev, c.next = nil, j.head
	if j.head != nil {
		j.head.prev = c
	}
	j.head = c
	j.seen = true
	if !j.running {
		j.running = true
		go j.loop()
	}
	j.mu.Unlock()
}

// disarm takes c off the list once its statement returned. If the janitor
// is interrupting it, disarm waits until Interrupt returned, so no
// interrupt meant for this statement can reach the connection's next one.
func (j *janitor) disarm(c *stmtCtx) {
	j.mu.Lock()
	j.unlinkLocked(c)
	firing := c.state == watchFiring
	c.state = watchIdle
	j.mu.Unlock()
	if firing {
		<-c.fired
		c.fired = nil
	}
}

func (j *janitor) unlinkLocked(c *stmtCtx) {
	if c.state != watchArmed {
		return
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		j.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
}

func (j *janitor) loop() {
	t := time.NewTicker(janitorTick)
	defer t.Stop()
	for now := range t.C {
		due, done := j.sweep(now)
		for _, c := range due {
			c.conn.Interrupt()
			close(c.fired)
		}
		if done {
			return
		}
	}
}

// sweep picks the statements to interrupt, marking them firing, and
// reports whether the goroutine should exit (nothing ran since the last
// tick).
func (j *janitor) sweep(now time.Time) (due []*stmtCtx, exit bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.head == nil && !j.seen {
		j.running = false
		return nil, true
	}
	j.seen = false
	for c := j.head; c != nil; {
		next := c.next
		why := stopNone
		switch {
		case !now.Before(c.deadline):
			why = stopDeadline
		case c.Context.Err() != nil:
			why = stopCaller
		}
		if why != stopNone {
			j.unlinkLocked(c)
			c.why.Store(why)
			c.state = watchFiring
			c.fired = make(chan struct{})
			due = append(due, c)
		}
		c = next
	}
	return due, false
}

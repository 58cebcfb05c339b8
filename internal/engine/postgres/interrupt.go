package postgres

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/engine"
)

var _ engine.Interrupter = (*Conn)(nil)

// interrupts is the engine.Interrupter state of a connection: whether an
// Exec runs, and whether Interrupt stopped it. The stop is the one a
// statement's ctx ending gives (engine.go's context watcher handler): a
// CancelRequest to the backend, and a socket deadline cancelGrace later as
// the fallback that breaks the connection.
type interrupts struct {
	mu      sync.Mutex
	running bool
	fired   bool
	h       *pgconn.CancelRequestContextWatcherHandler
}

// Interrupt stops the running Exec (engine.Interrupter).
func (c *Conn) Interrupt() {
	in := &c.intr
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.running || in.fired {
		return
	}
	if in.h == nil {
		in.h = &pgconn.CancelRequestContextWatcherHandler{Conn: c.pg, DeadlineDelay: cancelGrace}
	}
	in.fired = true
	in.h.HandleCancel(context.Background())
}

// begin marks an Exec running; the caller checks ctx.Err() after it, so an
// Interrupt that came just before is not lost.
func (c *Conn) begin() {
	c.intr.mu.Lock()
	c.intr.running = true
	c.intr.mu.Unlock()
}

// end marks the Exec over. After an Interrupt it waits for the
// CancelRequest to be delivered and clears the socket deadline, as pgconn
// does when it stops watching a cancelled context.
func (c *Conn) end() {
	in := &c.intr
	in.mu.Lock()
	in.running = false
	fired := in.fired
	in.fired = false
	in.mu.Unlock()
	if fired {
		in.h.HandleUnwatchAfterCancel()
	}
}

package topology

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// ReaderEngine is an engine.Engine whose connections go to the readers a
// Balancer picks (SQL endpoints with target reader). Each connection
// holds a slot of the cluster's budget while it is open, so a pool over
// it shares max_connections with every other door; a connection to an
// instance the Balancer no longer serves reports Broken, so its pool
// closes it instead of reusing it.
type ReaderEngine struct {
	name    string
	b       *Balancer
	budget  Budget
	engines *Engines
}

var _ engine.Engine = (*ReaderEngine)(nil)

// NewReaderEngine returns the reader engine of a cluster whose engine is
// name ("mysql", "postgres"); open makes the engine of one instance.
func NewReaderEngine(name string, b *Balancer, budget Budget, open func(address string) engine.Engine) *ReaderEngine {
	return &ReaderEngine{name: name, b: b, budget: budget, engines: NewEngines(open, nil)}
}

// Connect takes a budget slot, picks a reader and logs in there. A
// reader that cannot be reached is taken out until the next check
// (Balancer.Down) and the next pick is tried. With no reader to pick the
// error wraps engine.ErrUnavailable and ErrNoReader.
func (e *ReaderEngine) Connect(ctx context.Context, creds engine.Credentials) (engine.Conn, error) {
	release, err := e.budget.Reserve(ctx)
	if err != nil {
		return nil, err
	}
	for range maxPicks {
		addr, done, err := e.b.Pick()
		if err != nil {
			release()
			return nil, fmt.Errorf("%w: %w", engine.ErrUnavailable, err)
		}
		c, err := e.engines.engine(addr).Connect(ctx, creds)
		if err == nil {
			rc := &readerConn{Conn: c, addr: addr, b: e.b}
			closed := e.b.Connected(addr)
			rc.free = func() { closed(); done(); release() }
			return rc, nil
		}
		done()
		if !errors.Is(err, engine.ErrUnavailable) || ctx.Err() != nil {
			release()
			return nil, err
		}
		e.b.Down(addr, err)
	}
	release()
	return nil, fmt.Errorf("%w: %d readers could not be reached", engine.ErrUnavailable, maxPicks)
}

// maxPicks bounds the readers one Connect tries.
const maxPicks = 4

// Name implements engine.Engine.
func (e *ReaderEngine) Name() string { return e.name }

// Close closes the instances' engines.
func (e *ReaderEngine) Close() error {
	e.engines.Close()
	return nil
}

// readerConn is a connection to one reader.
type readerConn struct {
	engine.Conn
	addr string
	b    *Balancer
	once sync.Once
	free func() // the Balancer's count and the budget slot
}

// Close closes the connection and gives back its slot.
func (c *readerConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}

// Broken also reports a reader that no longer serves reads (lagging,
// unhealthy, promoted).
func (c *readerConn) Broken() bool { return c.Conn.Broken() || !c.b.Serves(c.addr) }

// Ping fails for a reader that no longer serves reads, so the pool's
// check on borrow closes it.
func (c *readerConn) Ping(ctx context.Context) error {
	if !c.b.Serves(c.addr) {
		return fmt.Errorf("ping: %s no longer serves reads: %w", c.addr, engine.ErrUnavailable)
	}
	return c.Conn.Ping(ctx)
}

// ExecLast passes engine.LastExecer through to the instance's
// connection (Exec when it has none), so reader endpoints keep the
// engine's cheaper last-statement path.
func (c *readerConn) ExecLast(ctx context.Context, sql string, params []engine.Param, maxBytes int) (*engine.Result, error) {
	if le, ok := c.Conn.(engine.LastExecer); ok {
		return le.ExecLast(ctx, sql, params, maxBytes)
	}
	return c.Conn.Exec(ctx, sql, params, maxBytes)
}

var _ engine.LastExecer = (*readerConn)(nil)

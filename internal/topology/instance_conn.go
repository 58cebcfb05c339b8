package topology

import (
	"context"
	"fmt"
	"sync"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// instanceConn is a connection to one instance opened by a ReaderEngine
// or a WriterEngine: it holds a slot of that instance's budget until it
// is closed, and it reports Broken once it may no longer be used there.
type instanceConn struct {
	engine.Conn
	addr string
	role string      // what it carries, for the Ping error: "reads", "writes"
	gone func() bool // its instance no longer takes its role (or its budget is over)
	once sync.Once
	free func() // the budget slot (and a reader's Balancer counts)
}

// AddressOf returns the address of the instance c is connected to, ok
// false for a connection not opened by a ReaderEngine or WriterEngine. A
// pool over those engines evicts its idle connections per instance with
// it (pool.Pool.EvictIdleWhere).
func AddressOf(c engine.Conn) (addr string, ok bool) {
	ic, ok := c.(*instanceConn)
	if !ok {
		return "", false
	}
	return ic.addr, true
}

// Close closes the connection and gives back its slot.
func (c *instanceConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}

// Broken also reports an instance that no longer takes the connection's
// role (a reader lagging, unhealthy or promoted; a writer demoted), or
// whose budget holds more than it now allows.
func (c *instanceConn) Broken() bool { return c.Conn.Broken() || c.gone() }

// Ping fails for a connection that must no longer be used, so the pool's
// check on borrow closes it.
func (c *instanceConn) Ping(ctx context.Context) error {
	if c.gone() {
		return fmt.Errorf("ping: %s no longer serves %s: %w", c.addr, c.role, engine.ErrUnavailable)
	}
	return c.Conn.Ping(ctx)
}

// ExecLast passes engine.LastExecer through to the instance's
// connection (Exec when it has none), so the engine's cheaper
// last-statement path is kept.
func (c *instanceConn) ExecLast(ctx context.Context, sql string, params []engine.Param, maxBytes int) (*engine.Result, error) {
	if le, ok := c.Conn.(engine.LastExecer); ok {
		return le.ExecLast(ctx, sql, params, maxBytes)
	}
	return c.Conn.Exec(ctx, sql, params, maxBytes)
}

var _ engine.LastExecer = (*instanceConn)(nil)

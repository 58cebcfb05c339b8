package topology

import (
	"context"
	"errors"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// ReaderEngine is an engine.Engine whose connections go to the readers a
// Balancer picks (SQL endpoints with target reader). Each connection
// holds a slot of its reader's budget while it is open, so a pool over
// it shares that instance's max_connections with every other door; a
// connection to an instance the Balancer no longer serves (or whose
// budget was lowered under its connections) reports Broken, so its pool
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

// Connect picks a reader, takes a slot of its budget and logs in there.
// A reader that cannot be reached is taken out until the next check
// (Balancer.Down) and the next pick is tried. With no reader to pick the
// error wraps engine.ErrUnavailable and ErrNoReader.
func (e *ReaderEngine) Connect(ctx context.Context, creds engine.Credentials) (engine.Conn, error) {
	for range maxPicks {
		addr, done, err := e.b.Pick()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", engine.ErrUnavailable, err)
		}
		release, err := e.budget.ReserveOn(ctx, addr)
		if err != nil {
			done()
			return nil, err
		}
		c, err := e.engines.engine(addr).Connect(ctx, creds)
		if err == nil {
			closed := e.b.Connected(addr)
			return &instanceConn{Conn: c, addr: addr, role: "reads",
				gone: func() bool { return !e.b.Serves(addr) || e.budget.OverOn(addr) },
				free: func() { closed(); done(); release() }}, nil
		}
		done()
		release()
		if !errors.Is(err, engine.ErrUnavailable) || ctx.Err() != nil {
			return nil, err
		}
		e.b.Down(addr, err)
	}
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

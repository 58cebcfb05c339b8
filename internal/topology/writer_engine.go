package topology

import (
	"context"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// WriterEngine is an engine.Engine whose connections go to the cluster's
// current writer (the Data API, the console and SQL endpoints of a
// cluster with instances). Each connection holds a slot of the budget of
// the instance it was opened to until it closes, so after a failover the
// new connections draw on the new writer's budget while those still open
// to the old writer give their slots back to it as they close; such a
// connection reports Broken, so its pool never reuses it.
type WriterEngine struct {
	name    string
	writer  func() string
	budget  Budget
	engines *Engines
}

var _ engine.Engine = (*WriterEngine)(nil)

// NewWriterEngine returns the writer engine of a cluster whose engine is
// name ("mysql", "postgres"); writer returns the current writer's
// address and open makes the engine of one instance.
func NewWriterEngine(name string, writer func() string, budget Budget, open func(address string) engine.Engine) *WriterEngine {
	return &WriterEngine{name: name, writer: writer, budget: budget, engines: NewEngines(open, nil)}
}

// Connect takes a slot of the current writer's budget and logs in there.
func (e *WriterEngine) Connect(ctx context.Context, creds engine.Credentials) (engine.Conn, error) {
	addr := e.writer()
	release, err := e.budget.ReserveOn(ctx, addr)
	if err != nil {
		return nil, err
	}
	c, err := e.engines.engine(addr).Connect(ctx, creds)
	if err != nil {
		release()
		return nil, err
	}
	return &instanceConn{Conn: c, addr: addr, role: "writes",
		gone: func() bool { return e.writer() != addr || e.budget.OverOn(addr) }, free: release}, nil
}

// Name implements engine.Engine.
func (e *WriterEngine) Name() string { return e.name }

// Close closes the instances' engines.
func (e *WriterEngine) Close() error {
	e.engines.Close()
	return nil
}

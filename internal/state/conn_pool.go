package state

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// errPoolClosed is returned by acquire after close.
var errPoolClosed = errors.New("state db closed")

// pingIdleAfter is how long a connection may sit idle before acquire checks
// that the server still has it (after a restart or an idle timeout there).
const pingIdleAfter = 30 * time.Second

// connPool is a small pool of pgx connections for Postgres. pgxpool is not
// used because its dependency (puddle) is not in the reviewed module set;
// the state store needs only a bounded set of reusable connections.
type connPool struct {
	cfg *pgx.ConnConfig
	// sem holds one token per borrowed connection. Idle connections are
	// only ever ones that were borrowed, so open ones never exceed cap(sem).
	sem chan struct{}

	mu     sync.Mutex // guards following fields
	idle   []idleConn
	closed bool
}

type idleConn struct {
	conn  *pgx.Conn
	since time.Time
}

func newConnPool(cfg *pgx.ConnConfig, max int) *connPool {
	return &connPool{cfg: cfg, sem: make(chan struct{}, max)}
}

// acquire borrows a connection, waiting while max are borrowed. Return it
// with release.
func (p *connPool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		c, since, err := p.popIdle()
		if err != nil {
			<-p.sem
			return nil, err
		}
		if c == nil {
			break
		}
		if time.Since(since) < pingIdleAfter || c.Ping(ctx) == nil {
			return c, nil
		}
		closeConn(c)
		if ctx.Err() != nil {
			<-p.sem
			return nil, ctx.Err()
		}
	}
	c, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
	if err != nil {
		<-p.sem
		return nil, err
	}
	return c, nil
}

func (p *connPool) popIdle() (*pgx.Conn, time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, time.Time{}, errPoolClosed
	}
	n := len(p.idle)
	if n == 0 {
		return nil, time.Time{}, nil
	}
	ic := p.idle[n-1]
	p.idle = p.idle[:n-1]
	return ic.conn, ic.since, nil
}

// release returns a borrowed connection. One that is broken, busy or still
// in a transaction (after a cancelled query, say) is closed instead of kept.
func (p *connPool) release(c *pgx.Conn) {
	defer func() { <-p.sem }()
	pc := c.PgConn()
	if !c.IsClosed() && !pc.IsBusy() && pc.TxStatus() == 'I' {
		p.mu.Lock()
		if !p.closed {
			p.idle = append(p.idle, idleConn{c, time.Now()})
			c = nil
		}
		p.mu.Unlock()
	}
	if c != nil {
		closeConn(c)
	}
}

// close closes the idle connections; borrowed ones close on release.
func (p *connPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, ic := range idle {
		closeConn(ic.conn)
	}
}

// closeConn closes a connection without waiting long on a dead peer.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

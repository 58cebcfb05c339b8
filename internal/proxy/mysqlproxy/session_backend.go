package mysqlproxy

// Borrowing and returning backends: validation of idle connections, state
// replay on borrow, release at transaction boundaries, reset and rollback.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// borrow takes a backend for the next command unless one is held, and
// brings it to the client's session state.
func (c *session) borrow(ctx context.Context) error {
	if c.be != nil {
		return nil
	}
	if c.ps.Draining() && !c.pinned {
		return proxy.ErrShuttingDown
	}
	pb, err := c.get(ctx)
	if err != nil {
		return err
	}
	c.be = pb
	c.ps.Counters.Transactions++
	pb.Conn.setDeadline(0)
	if err := c.handOver(pb.Conn, pb.ID); err != nil {
		c.putBackend()
		return err
	}
	if err := c.sync(pb.Conn); err != nil {
		c.putBackend()
		return err
	}
	return nil
}

// validateAfter is how long a backend may sit idle before it is pinged on
// borrow: a database restart kills idle connections silently, and a
// statement sent on a dead one would fail where a fresh one would serve.
const validateAfter = time.Second

// get borrows a live backend.
func (c *session) get(ctx context.Context) (*proxy.Pooled[*backendConn], error) {
	for {
		pb, err := c.poolGet(ctx)
		if err != nil {
			return nil, err
		}
		be := pb.Conn
		if be.idleSince.IsZero() || time.Since(be.idleSince) < validateAfter {
			return pb, nil
		}
		be.setDeadline(2 * time.Second)
		err = be.ping()
		be.setDeadline(0)
		if err == nil {
			return pb, nil
		}
		c.srv.pool.Discard(pb)
	}
}

// handoff is what Ready passes to a queued borrow, or what a pipeline's
// leader passes to a session whose unit it took (pipeline.go): piped,
// its command ran (err: how it ended), or retry, its unit was never sent
// and it borrows again.
type handoff struct {
	pb           *proxy.Pooled[*backendConn]
	err          error
	piped, retry bool
}

// Ready implements proxy.Waiter: the goroutine that returned a connection
// (or the pool's sweep, with the borrow timeout) hands it to the session
// blocked in poolGet.
func (c *session) Ready(pb *proxy.Pooled[*backendConn], err error) {
	c.handed <- handoff{pb: pb, err: err}
}

// errKilled ends a borrow of a session that KILL CONNECTION ended.
var errKilled = errors.New("connection killed")

// poolGet borrows from the pool. When the connections are busy and the
// budget is full it queues the session (proxy.Pool.Enqueue) and waits for
// Ready on a channel it keeps: no timer, context or waiter allocation per
// borrow; the pool's sweep enforces the borrow timeout, a hard shutdown
// cancels ctx (the server's) and KILL CONNECTION hands it errKilled
// (abortBorrow).
func (c *session) poolGet(ctx context.Context) (*proxy.Pooled[*backendConn], error) {
	if c.handed == nil {
		c.handed = make(chan handoff, 1)
	}
	c.fromQueue = false
	for {
		pb, queued, err := c.srv.pool.Enqueue(c.login, c)
		if pb != nil || err != nil {
			return pb, err
		}
		if !queued {
			return c.abortableGet(ctx)
		}
		// A kill that looked for the session before it queued.
		if c.killed.Load() && c.srv.pool.Cancel(c.login, c) {
			return nil, errKilled
		}
		var h handoff
		select {
		case h = <-c.handed:
		case <-ctx.Done():
			if c.srv.pool.Cancel(c.login, c) {
				return nil, ctx.Err() // as pool.Get: the proxy is stopping
			}
			h = <-c.handed // Ready (or a kill) is under way
		}
		switch {
		case h.retry:
			continue
		case h.piped:
			c.pipeOut = h.err
			return nil, errPiped
		}
		c.fromQueue = h.pb != nil
		return h.pb, h.err
	}
}

// abortableGet borrows with pool.Get (a new connection, or a wait for
// the budget or the user's share) under a context of its own that a kill
// cancels. That allocates, but only here, beside a dial or a wait.
func (c *session) abortableGet(ctx context.Context) (*proxy.Pooled[*backendConn], error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.mu.Lock()
	if c.killed.Load() {
		c.mu.Unlock()
		return nil, errKilled
	}
	c.abort = cancel
	c.mu.Unlock()
	pb, err := c.srv.pool.Get(ctx, c.login)
	c.mu.Lock()
	c.abort = nil
	c.mu.Unlock()
	if err != nil && c.killed.Load() {
		err = errKilled
	}
	return pb, err
}

// abortBorrow makes the borrow the session waits in, or is about to
// start, fail with errKilled; it runs on the killer's goroutine. A
// session queued in the pool is taken out of the queue and handed the
// error as Ready would hand a connection; one whose connection is being
// handed over already gets it (its next write to the closed client
// fails).
func (c *session) abortBorrow() {
	c.killed.Store(true)
	c.mu.Lock()
	if c.abort != nil {
		c.abort()
	}
	c.mu.Unlock()
	if c.srv.pool.Cancel(c.login, c) {
		c.Ready(nil, errKilled)
	}
}

// handOver gives the session a fresh backend session when the backend
// might hold state the client must not see (strict isolation: any; default:
// after a stored routine call): state another client left, or this
// client's own from before it moved to another backend, which may since
// hold newer values of the same unflagged state (a SELECT … INTO @v in a
// procedure run on each). It also resets when the backend has a current
// database and the client has none. id is the backend's pool id.
func (c *session) handOver(be *backendConn, id uint64) error {
	foreign := c.lastBackend.Foreign(c.ps.ID, be.owner, id)
	be.owner = c.ps.ID
	var err error
	switch {
	case c.schema == "" && be.schema != "":
		be.setDeadline(cleanupTimeout)
		err = be.changeUser(c.login, c.srv.initQuery())
	case foreign && (c.srv.strict || be.tainted):
		be.setDeadline(cleanupTimeout)
		err = be.reset(c.srv.initQuery())
	default:
		return nil
	}
	be.setDeadline(0)
	be.owner = c.ps.ID
	c.srv.handOverResets.Add(1)
	if err != nil {
		c.srv.px.CountError("reset_failed")
		return fmt.Errorf("reset database connection: %w", err)
	}
	return nil
}

// sync replays the client's tracked state where the backend differs.
func (c *session) sync(be *backendConn) error {
	if !c.varsReady {
		c.initVars()
	}
	if c.schema != "" && be.schema != c.schema {
		if err := be.initDB(c.schema); err != nil {
			return err
		}
	}
	if q := replaySQL(c.vars, be.vars, be.baseline); q != "" {
		if _, err := be.exec(q); err != nil {
			return err
		}
	}
	return be.setMulti(c.multi)
}

// initVars turns the handshake character set into tracked variables.
func (c *session) initVars() {
	c.varsReady = true
	if c.charset == mysqlwire.DefaultCharset {
		return
	}
	m := c.srv.collations.Load()
	if m == nil {
		return
	}
	if cs, ok := (*m)[c.charset]; ok {
		if c.vars == nil {
			c.vars = vars{}
		}
		for _, n := range []string{"character_set_client", "character_set_connection", "character_set_results"} {
			c.vars[n] = cs[0]
		}
		c.vars["collation_connection"] = cs[1]
	}
}

func (c *session) syncLastInsertID() error {
	be := c.be.Conn
	if be.lastInsertID == c.lastInsertID {
		return nil
	}
	if _, err := be.exec(fmt.Sprintf("DO LAST_INSERT_ID(%d)", c.lastInsertID)); err != nil {
		return err
	}
	be.lastInsertID = c.lastInsertID
	return nil
}

// maybeRelease returns the backend at a transaction boundary.
func (c *session) maybeRelease() {
	if c.be == nil {
		return
	}
	be := c.be.Conn
	if !be.broken && (c.pinned || be.inTrans() || len(c.longData) > 0 || c.holdTx || be.status&mysqlwire.StatusCursorExists != 0) {
		return
	}
	c.putBackend()
}

// putBackend returns the held backend: reset first if it carries state
// the next client must not see, discarded if broken.
func (c *session) putBackend() {
	pb := c.be
	c.be = nil
	be := pb.Conn
	if be.pending {
		be.broken = true // a reply is still on its way: never reuse
	}
	if !be.broken && (be.dirty || c.pinned) {
		_ = c.cl.Flush() // the reply need not wait for the reset (a failure stays for the next write)
		be.setDeadline(cleanupTimeout)
		if err := be.reset(c.srv.initQuery()); err != nil {
			be.broken = true
		}
		be.setDeadline(0)
	}
	if be.broken {
		c.srv.pool.Discard(pb)
		return
	}
	be.idleSince = time.Now()
	c.srv.pool.Put(pb)
}

// close ends the session: a transaction left open is rolled back (exactly
// once) and the backend reset or discarded.
func (c *session) close() {
	if c.be == nil {
		return
	}
	be := c.be.Conn
	be.setDeadline(cleanupTimeout)
	if !be.broken && !be.pending && be.inTrans() {
		if err := be.rollback(); err != nil {
			be.broken = true
		}
	}
	if len(c.longData) > 0 || c.holdTx {
		be.dirty = true
	}
	c.putBackend()
}

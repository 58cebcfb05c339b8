package exec

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// Statement is one statement to run.
type Statement struct {
	SQL    string
	Params []engine.Param
	// MaxBytes bounds the result (0: the cluster's MaxResponseBytes).
	MaxBytes int
	// KeepRunning (the Data API's continueAfterTimeout) lets the statement
	// run on when the statement timeout ends the call: Exec then returns an
	// error matching ErrDetached and engine.ErrTimeout, and Done (nil:
	// give the connection back, as Close would) is called from another
	// goroutine when the statement finishes.
	KeepRunning bool
	Done        func()
	// Last: the caller sends nothing more on this session (a call outside
	// a transaction); an engine.LastExecer may then clear session state
	// the statement leaves in the statement's own round trip.
	Last bool
}

// DefaultMaxDetached is how long a detached statement may run on when the
// cluster sets no limit.
const DefaultMaxDetached = time.Hour

// ErrDetached marks a statement left running after its call timed out.
var ErrDetached = errors.New("statement continues after timeout")

// Exec runs one statement under the statement timeout. Transaction
// control is refused (see Check) before anything is sent.
func (s *Session) Exec(ctx context.Context, st Statement) (*engine.Result, error) {
	if err := Check(st.SQL, s.cl.Dialect, s.inTx); err != nil {
		return nil, err
	}
	maxBytes := st.MaxBytes
	if maxBytes == 0 {
		maxBytes = s.cl.MaxResponseBytes
	}
	if st.KeepRunning {
		return s.execDetachable(ctx, st, maxBytes)
	}
	if in, ok := s.conn.Conn.(engine.Interrupter); ok && ctx.Err() == nil {
		return s.execWatched(ctx, in, st, maxBytes)
	}
	sctx, cancel := context.WithTimeout(ctx, s.cl.StatementTimeout)
	defer cancel()
	return s.execOn(ctx, sctx, st, maxBytes)
}

// execWatched runs st under the session's stmtCtx: the janitor, not a
// timer and a cancellable context, stops it at the statement timeout or
// when ctx ends, with the same errors.
func (s *Session) execWatched(ctx context.Context, in engine.Interrupter, st Statement, maxBytes int) (*engine.Result, error) {
	sc := &s.sc
	sc.Context, sc.conn = ctx, in
	sc.deadline = time.Now().Add(s.cl.StatementTimeout)
	sc.why.Store(stopNone)
	stmtJanitor.arm(sc)
	res, err := s.execOn(ctx, sc, st, maxBytes)
	stmtJanitor.disarm(sc)
	sc.Context, sc.conn = nil, nil
	return res, err
}

// execOn runs st under sctx, the statement's context derived from ctx.
func (s *Session) execOn(ctx, sctx context.Context, st Statement, maxBytes int) (*engine.Result, error) {
	if le, ok := s.conn.Conn.(engine.LastExecer); ok && st.Last && !s.inTx {
		res, err := le.ExecLast(sctx, st.SQL, st.Params, maxBytes)
		return res, timeoutErr(ctx, sctx, err)
	}
	res, err := s.conn.Exec(sctx, st.SQL, st.Params, maxBytes)
	return res, timeoutErr(ctx, sctx, err)
}

// timeoutErr marks err as a statement timeout when sctx's deadline, not
// the caller's ctx, stopped the statement.
func timeoutErr(ctx, sctx context.Context, err error) error {
	if err == nil || !errors.Is(sctx.Err(), context.DeadlineExceeded) || ctx.Err() != nil || errors.Is(err, engine.ErrTimeout) {
		return err
	}
	return errors.Join(engine.ErrTimeout, err)
}

// execDetachable runs st without cancelling it at the timeout.
func (s *Session) execDetachable(ctx context.Context, st Statement, maxBytes int) (*engine.Result, error) {
	type outcome struct {
		res *engine.Result
		err error
	}
	limit := s.cl.MaxDetached
	if limit <= 0 {
		limit = DefaultMaxDetached
	}
	// The statement outlives the call but not the limit: at the limit it
	// is cancelled on the database and its connection is not reused.
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	done := make(chan outcome, 1)
	go func() {
		defer dcancel()
		var o outcome
		defer func() { done <- o }()
		// No request goroutine is left to catch a panic here: recover it so
		// the process stays up, and do not reuse the connection.
		defer func() {
			if v := recover(); v != nil {
				s.mu.Lock()
				s.discard = true
				s.mu.Unlock()
				s.cl.log().Error("detached statement panic", "cluster", s.cl.Name, "panic", v, "stack", string(debug.Stack()))
				o = outcome{err: fmt.Errorf("detached statement panic: %v", v)}
			}
		}()
		res, err := s.conn.Exec(dctx, st.SQL, st.Params, maxBytes)
		o = outcome{res, err}
		if dctx.Err() != nil {
			s.mu.Lock()
			s.discard = true
			s.mu.Unlock()
			s.cl.log().Warn("detached statement cancelled at its limit; connection closed",
				"cluster", s.cl.Name, "dbConnectionId", s.id, "limit", limit.String())
		}
	}()
	timer := time.NewTimer(s.cl.StatementTimeout)
	defer timer.Stop()
	select {
	case o := <-done:
		return o.res, o.err
	case <-timer.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.detached = true
	s.mu.Unlock()
	go func() {
		<-done
		s.mu.Lock()
		s.detached = false
		closing := s.closing
		s.mu.Unlock()
		switch {
		case st.Done != nil:
			st.Done()
		case closing:
			s.release()
		}
	}()
	return nil, errors.Join(ErrDetached, engine.ErrTimeout)
}

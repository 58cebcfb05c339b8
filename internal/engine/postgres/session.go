package postgres

import (
	"context"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// Session state tracking (engine.Conn's Dirty and Reset).
//
// A connection is dirty when, since Connect or the last Reset:
//   - the backend is not idle outside a transaction (ReadyForQuery status);
//   - a parameter the server reports (ParameterStatus: TimeZone, DateStyle,
//     client_encoding, session_authorization, is_superuser, …) differs
//     from its value right after Connect; or
//   - a statement ran whose text may leave session state (engine.Inspect:
//     SET, DO, CALL, temporary objects, SELECT INTO, PREPARE, LISTEN,
//     cursors, functions not known to be free of side effects, anything
//     unknown) or may advance a sequence (INSERT, MERGE, nextval), which
//     sets the session's currval and lastval.
//
// Reset rolls back an open transaction; when sequences are all that
// changed it leaves DISCARD SEQUENCES pending, to be sent in the round
// trip of the next statement that could read them (nothing can before),
// else it runs DISCARD ALL, which returns
// every setting to its connect-time value (the startup parameters
// included), drops temporary objects, prepared statements, cursors,
// listeners, advisory locks and cached plans, and ends SET ROLE and SET
// SESSION AUTHORIZATION. The database is chosen at connect time and cannot
// change. A LOADed library cannot be unloaded: such a connection is closed.

// reported are the parameters PostgreSQL reports with ParameterStatus.
var reported = [...]string{"application_name", "client_encoding", "DateStyle", "default_transaction_read_only",
	"in_hot_standby", "integer_datetimes", "IntervalStyle", "is_superuser", "server_encoding",
	"session_authorization", "standard_conforming_strings", "TimeZone", "search_path", "scram_iterations"}

// snapshot records the reported parameters as they are now.
func (c *Conn) snapshot() {
	for i, k := range reported {
		c.params0[i] = c.pg.ParameterStatus(k)
	}
}

func (c *Conn) paramsChanged() bool {
	for i, k := range reported {
		if c.pg.ParameterStatus(k) != c.params0[i] {
			return true
		}
	}
	return false
}

// Dirty reports whether the session may differ from a new one (see above).
func (c *Conn) Dirty() bool {
	return c.effect != engine.EffectNone || c.pg.TxStatus() != 'I' || c.paramsChanged()
}

// Reset returns the session to its state right after Connect, or fails
// (the caller then closes the connection).
func (c *Conn) Reset(ctx context.Context) error {
	if c.Broken() {
		return fmt.Errorf("reset: %w", engine.ErrUnavailable)
	}
	if c.effect == engine.EffectPermanent {
		return engine.ErrResetUnsupported
	}
	if c.pg.TxStatus() != 'I' {
		if err := c.Rollback(ctx); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
	}
	if c.effect == engine.EffectSequences && !c.paramsChanged() {
		// Only currval/lastval changed (an INSERT): no round trip now; the
		// discard goes first in the round trip of the next statement that
		// could read them (or of Begin), before anything can.
		c.effect, c.txnCause, c.discardSeq = engine.EffectNone, "", true
		return nil
	}
	if c.effect != engine.EffectNone || c.paramsChanged() {
		if _, err := c.simple(ctx, "DISCARD ALL"); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
		c.resetCaches()      // temporary types and tables are gone
		c.stmts.forget(true) // and so are the prepared statements
		c.discardSeq = false
	}
	if c.pg.TxStatus() != 'I' || c.paramsChanged() {
		return fmt.Errorf("reset: %w: the session did not return to its initial state", engine.ErrResetUnsupported)
	}
	c.effect, c.txnCause = engine.EffectNone, ""
	return nil
}

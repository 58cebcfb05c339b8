package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// Statement cache: per connection, statements seen twice are prepared as
// named server-side statements, keyed by SQL text and parameter types, and
// run with Bind/Execute against the cached row description (no Parse, no
// Describe, no plan). Only statements engine.Inspect finds free of session
// effects (plain queries and DML) are cached.
//
// Invalidation:
//   - DISCARD ALL (a session Reset) drops the server's statements: the
//     cache is emptied with it;
//   - a statement that may change session state or the catalog (SET,
//     DEALLOCATE, DDL …) empties the cache, and the next Prepare first
//     sends DEALLOCATE ALL, so no stale name lingers on the server;
//   - "cached plan must not change result type" (a table the statement
//     reads changed shape): the entry is dropped; outside a transaction the
//     statement is prepared again and retried once, inside one the error
//     is returned (the transaction is already aborted).

const (
	maxCachedStmts = 256  // prepared statements per connection
	maxSeenStmts   = 1024 // statements remembered as seen once
)

type stmtCache struct {
	m    map[string]*pgconn.StatementDescription
	seen map[string]struct{}
	seq  uint64
	// stale: statements prepared on the server are no longer in m; the
	// next Prepare sends DEALLOCATE ALL first.
	stale bool
	key   []byte // scratch for building keys
}

// keyOf builds the cache key (SQL, NUL, parameter OIDs) in the scratch
// buffer; look it up with m[string(key)], which does not allocate.
func (s *stmtCache) keyOf(sql string, oids []uint32) []byte {
	k := append(s.key[:0], sql...)
	k = append(k, 0)
	for _, o := range oids {
		k = strconv.AppendUint(k, uint64(o), 10)
		k = append(k, ',')
	}
	s.key = k
	return k
}

// forget empties the cache; serverDropped says the server's statements are
// gone too (DISCARD ALL), else they are deallocated before the next Prepare.
func (s *stmtCache) forget(serverDropped bool) {
	if len(s.m) > 0 && !serverDropped {
		s.stale = true
	}
	if serverDropped {
		s.stale = false
	}
	clear(s.m)
	clear(s.seen)
}

// cacheable reports whether a statement of effect eff may be cached.
func cacheable(eff engine.Effect) bool { return eff <= engine.EffectSequences }

// runCached runs sql through the statement cache. ok is false when the
// statement is seen for the first time: the caller runs it unprepared.
func (c *Conn) runCached(ctx context.Context, sql string, bp boundParams, maxBytes int) (res rawResult, ok bool, err error) {
	s := &c.stmts
	key := s.keyOf(sql, bp.oids)
	sd := s.m[string(key)]
	if sd == nil {
		if _, again := s.seen[string(key)]; !again {
			if len(s.seen) >= maxSeenStmts {
				clear(s.seen)
			}
			s.seen[string(key)] = struct{}{}
			return rawResult{}, false, nil
		}
		if sd, err = c.prepareCached(ctx, string(key), sql, bp.oids); err != nil {
			return rawResult{}, true, err
		}
	}
	res, err = c.read(ctx, c.pg.ExecStatement(ctx, sd, bp.values, bp.formats, nil), maxBytes)
	if err != nil && planChanged(err) {
		// The old name stays on the server: forget marks it for the
		// DEALLOCATE ALL that prepareCached sends first.
		s.forget(false)
		if c.pg.TxStatus() != 'I' {
			return rawResult{}, true, err
		}
		if sd, err = c.prepareCached(ctx, string(key), sql, bp.oids); err != nil {
			return rawResult{}, true, err
		}
		res, err = c.read(ctx, c.pg.ExecStatement(ctx, sd, bp.values, bp.formats, nil), maxBytes)
	}
	return res, true, err
}

// prepareCached prepares sql under a new name and caches it under key.
func (c *Conn) prepareCached(ctx context.Context, key, sql string, oids []uint32) (*pgconn.StatementDescription, error) {
	s := &c.stmts
	if len(s.m) >= maxCachedStmts {
		s.forget(false)
	}
	if s.stale {
		if _, err := c.simple(ctx, "DEALLOCATE ALL"); err != nil {
			return nil, err
		}
		s.stale = false
	}
	s.seq++
	sd, err := c.pg.Prepare(ctx, "sqlgate_"+strconv.FormatUint(s.seq, 10), sql, oids)
	if err != nil {
		return nil, c.execErr(ctx, err)
	}
	s.m[key] = sd
	return sd, nil
}

// planChanged reports PostgreSQL's "cached plan must not change result
// type" (a cached statement's tables changed shape).
func planChanged(err error) bool {
	var dbErr *engine.DBError
	return errors.As(err, &dbErr) && dbErr.SQLState == "0A000" &&
		strings.Contains(dbErr.Message, "cached plan must not change result type")
}

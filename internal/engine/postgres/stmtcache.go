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
//     closes the statements it held (never the user's own), so no stale
//     name lingers on the server;
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
	// stale names statements prepared on the server that are no longer in
	// m; the next Prepare deallocates them first (one round trip).
	stale []string
	key   []byte // scratch for building keys
}

// stmtPrefix starts the names of cached statements (visible in
// pg_prepared_statements).
const stmtPrefix = "_sqlgate_"

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
	if serverDropped {
		s.stale = s.stale[:0]
	} else {
		for _, sd := range s.m {
			s.stale = append(s.stale, sd.Name)
		}
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
		// forget marks the old statement for prepareCached to close first.
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
	if len(s.stale) > 0 {
		if err := c.deallocate(ctx, s.stale); err != nil {
			return nil, err
		}
		s.stale = s.stale[:0]
	}
	s.seq++
	sd, err := c.pg.Prepare(ctx, stmtPrefix+strconv.FormatUint(s.seq, 10), sql, oids)
	if err != nil {
		return nil, c.execErr(ctx, err)
	}
	s.m[key] = sd
	return sd, nil
}

// deallocate closes the named statements in one round trip. Closing one
// that no longer exists (the user's DEALLOCATE ALL) is not an error, and it
// works in an aborted transaction; the user's own statements are left alone.
func (c *Conn) deallocate(ctx context.Context, names []string) error {
	pl := c.pg.StartPipeline(ctx)
	for _, n := range names {
		pl.SendDeallocate(n)
	}
	err := pl.Sync()
	if cerr := pl.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return c.execErr(ctx, err)
	}
	return nil
}

// planChanged reports PostgreSQL's "cached plan must not change result
// type" (a cached statement's tables changed shape).
func planChanged(err error) bool {
	var dbErr *engine.DBError
	return errors.As(err, &dbErr) && dbErr.SQLState == "0A000" &&
		strings.Contains(dbErr.Message, "cached plan must not change result type")
}

package state

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// pgTable is the state table's name. OpenPostgres finds it through the
// connection's search_path (creating it in the first schema there when it is
// missing) and then always uses the schema-qualified name.
const pgTable = "sqlgate_state"

// pgSchema creates the table. COLLATE "C" compares keys bytewise, which is
// the order List promises, and lets the primary key index serve prefix
// ranges. version counts the writes of a row, for diagnosis.
const pgSchema = `CREATE TABLE ` + pgTable + ` (
	ns      text COLLATE "C" NOT NULL,
	key     text COLLATE "C" NOT NULL,
	val     bytea NOT NULL,
	version bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (ns, key)
)`

// pgDDLLock is the advisory lock (bigint key space) taken around the table's
// creation, so that two nodes starting at once do not both try to create it.
// The value is "sqlgate" in ASCII.
const pgDDLLock int64 = 0x73716c67617465

// maxConns bounds the connections of one Postgres, not counting Watch's.
const maxConns = 8

// maxNotifyPayload is PostgreSQL's limit on a NOTIFY payload (8000 bytes
// including the terminator).
const maxNotifyPayload = 7999

// Postgres is a Store in one PostgreSQL table, shared by every sqlgate node
// configured with the same database, so that they see the same users, keys,
// policies and secrets.
//
// Every write calls pg_notify in the write's own transaction, so the
// notification goes out exactly when the write commits; Watch listens for
// them. The channel is the table's qualified name ("public.sqlgate_state"),
// so deployments in different schemas of one database do not hear each
// other.
//
// Update, Put and Delete of one key are serialised across nodes: Update and
// Put take a transaction-level advisory lock on the key (there may be no row
// to lock yet), and Update reads the row FOR UPDATE.
type Postgres struct {
	pool    *connPool
	connCfg *pgx.ConnConfig // template for all connections
	table   string          // schema-qualified and quoted
	channel string
	q       pgQueries
	log     *slog.Logger

	// done is the store's own lifetime (not a request's): Close cancels it
	// to end running Watch calls.
	done context.Context
	stop context.CancelFunc

	// pingEvery is how long a Watch connection may stay silent before it is
	// pinged, so that a dead peer is noticed without waiting for TCP.
	pingEvery time.Duration
	// testHookListen, when set before Watch, gets the backend PID of every
	// (re)established Watch connection.
	testHookListen func(pid uint32)
}

var (
	_ Store   = (*Postgres)(nil)
	_ Watcher = (*Postgres)(nil)
)

// pgQueries holds the statements, built once with the qualified table name.
type pgQueries struct {
	get, put, del, list, listTo, lock, read string
}

func newPGQueries(table string) pgQueries {
	f := func(q string) string { return fmt.Sprintf(q, table) }
	return pgQueries{
		get: f(`SELECT val FROM %s WHERE ns = $1 AND key = $2`),
		// The advisory lock is taken before the row is written, so a Put of
		// an absent key waits for an Update that is creating it.
		put: f(`WITH w AS (
			INSERT INTO %[1]s AS t (ns, key, val)
			SELECT $1::text, $2::text, $3::bytea FROM pg_advisory_xact_lock($4::bigint)
			ON CONFLICT (ns, key) DO UPDATE SET val = excluded.val, version = t.version + 1
			RETURNING 1)
			SELECT pg_notify($5, $6) FROM w`),
		del: f(`WITH w AS (DELETE FROM %s WHERE ns = $1 AND key = $2 RETURNING 1)
			SELECT pg_notify($3, $4) FROM w`),
		list:   f(`SELECT key, val FROM %s WHERE ns = $1 AND key >= $2 ORDER BY key`),
		listTo: f(`SELECT key, val FROM %s WHERE ns = $1 AND key >= $2 AND key < $3 ORDER BY key`),
		lock:   `SELECT pg_advisory_xact_lock($1::bigint)`,
		read:   f(`SELECT val FROM %s WHERE ns = $1 AND key = $2 FOR UPDATE`),
	}
}

// OpenPostgres connects to the PostgreSQL database at dsn (a URL or
// key=value string, as libpq) and creates the state table when it is missing.
// It is safe for several nodes to call at once on a fresh database.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres state: %w", err)
	}
	pool := newConnPool(cfg, maxConns)
	var table, schema string
	err = withConn(ctx, pool, func(c *pgx.Conn) (err error) {
		table, schema, err = createTable(ctx, c)
		return err
	})
	if err != nil {
		pool.close()
		return nil, fmt.Errorf("open postgres state: %w", err)
	}
	done, stop := context.WithCancel(context.Background())
	return &Postgres{
		pool:      pool,
		connCfg:   cfg,
		table:     table,
		channel:   notifyChannel(schema),
		q:         newPGQueries(table),
		log:       slog.Default().With("component", "state"),
		done:      done,
		stop:      stop,
		pingEvery: 15 * time.Second,
	}, nil
}

// createTable creates the state table unless the search_path already finds
// one, and returns its quoted qualified name and its schema. The existence
// check comes first so that a role without CREATE can use a table made by
// an administrator.
func createTable(ctx context.Context, c *pgx.Conn) (table, schema string, err error) {
	err = pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgDDLLock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgTable).Scan(&exists); err != nil {
			return fmt.Errorf("find table: %w", err)
		}
		if !exists {
			if _, err := tx.Exec(ctx, pgSchema); err != nil {
				return fmt.Errorf("create table: %w", err)
			}
		}
		err := tx.QueryRow(ctx, `SELECT n.nspname FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.oid = to_regclass($1)`, pgTable).Scan(&schema)
		if err != nil {
			return fmt.Errorf("find table schema: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	return pgx.Identifier{schema, pgTable}.Sanitize(), schema, nil
}

// withConn runs fn on a connection borrowed from pool.
func withConn(ctx context.Context, pool *connPool, fn func(c *pgx.Conn) error) error {
	c, err := pool.acquire(ctx)
	if err != nil {
		return err
	}
	defer pool.release(c)
	return fn(c)
}

// notifyChannel names the NOTIFY channel of the table in schema, cut to the
// 63 bytes PostgreSQL allows in a name.
func notifyChannel(schema string) string {
	ch := schema + "." + pgTable
	for len(ch) > 63 {
		_, size := utf8.DecodeLastRuneInString(ch)
		ch = ch[:len(ch)-size]
	}
	return ch
}

// notifyPayload encodes (ns, key) as Watch decodes it: "ns\x1fkey", or just
// ns ("anything in ns") when that would not fit in a notification.
func notifyPayload(ns, key string) string {
	switch {
	case len(ns)+1+len(key) <= maxNotifyPayload:
		return ns + "\x1f" + key
	case len(ns) <= maxNotifyPayload:
		return ns
	default:
		return WatchAll
	}
}

// lockKey is the advisory lock (bigint key space) that serialises writers of
// (ns, key) in table; hash collisions only serialise unrelated keys. It must
// never change: nodes of different versions share it during an upgrade.
func lockKey(table, ns, key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(table))
	h.Write([]byte{0})
	h.Write([]byte(ns))
	h.Write([]byte{0x1f})
	h.Write([]byte(key))
	return int64(h.Sum64())
}

// Get implements Store.
func (p *Postgres) Get(ctx context.Context, ns, key string) ([]byte, error) {
	var val []byte
	err := withConn(ctx, p.pool, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, p.q.get, ns, key).Scan(&val)
	})
	return getResult(ns, key, val, err, pgx.ErrNoRows)
}

// Put implements Store.
func (p *Postgres) Put(ctx context.Context, ns, key string, val []byte) error {
	if val == nil {
		val = []byte{}
	}
	err := withConn(ctx, p.pool, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, p.q.put, ns, key, val, lockKey(p.table, ns, key), p.channel, notifyPayload(ns, key))
		return err
	})
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", ns, key, err)
	}
	return nil
}

// Delete implements Store. Deleting a missing key notifies nobody.
func (p *Postgres) Delete(ctx context.Context, ns, key string) error {
	err := withConn(ctx, p.pool, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, p.q.del, ns, key, p.channel, notifyPayload(ns, key))
		return err
	})
	if err != nil {
		return fmt.Errorf("delete %s/%s: %w", ns, key, err)
	}
	return nil
}

// List implements Store. The prefix becomes a key range on the primary key,
// so only matching rows are read.
func (p *Postgres) List(ctx context.Context, ns, prefix string) ([]KV, error) {
	var out []KV
	err := withConn(ctx, p.pool, func(c *pgx.Conn) error {
		var rows pgx.Rows
		var err error
		if end, ok := prefixEnd(prefix); ok {
			rows, err = c.Query(ctx, p.q.listTo, ns, prefix, end)
		} else {
			rows, err = c.Query(ctx, p.q.list, ns, prefix)
		}
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (KV, error) {
			var kv KV
			err := r.Scan(&kv.Key, &kv.Value)
			return kv, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s/%s*: %w", ns, prefix, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// prefixEnd returns the least string above every string that starts with
// prefix, in bytewise order (which for valid UTF-8 is code point order), or
// false when no such bound exists.
func prefixEnd(prefix string) (string, bool) {
	if !utf8.ValidString(prefix) {
		return "", false
	}
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		if r == utf8.MaxRune {
			continue
		}
		r++
		if r == 0xD800 { // surrogates are not valid in UTF-8
			r = 0xE000
		}
		return prefix + string(r), true
	}
	return "", false
}

// Update implements Store. An advisory lock on (ns, key) serialises Updates
// (and Puts) even while the key is absent, where there is no row to lock;
// FOR UPDATE also makes a concurrent Delete of the row wait.
func (p *Postgres) Update(ctx context.Context, ns, key string, fn func(old []byte) ([]byte, error)) error {
	c, err := p.pool.acquire(ctx)
	if err != nil {
		return fmt.Errorf("update %s/%s: %w", ns, key, err)
	}
	defer p.pool.release(c)
	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("update %s/%s: begin: %w", ns, key, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit

	lock := lockKey(p.table, ns, key)
	if _, err := tx.Exec(ctx, p.q.lock, lock); err != nil {
		return fmt.Errorf("update %s/%s: lock: %w", ns, key, err)
	}
	payload := notifyPayload(ns, key)
	return update(ns, key, rowTx{
		read: func() ([]byte, error) {
			var old []byte
			err := tx.QueryRow(ctx, p.q.read, ns, key).Scan(&old)
			return old, err
		},
		noRows: pgx.ErrNoRows,
		put: func(val []byte) error {
			_, err := tx.Exec(ctx, p.q.put, ns, key, val, lock, p.channel, payload)
			return err
		},
		del: func() error {
			_, err := tx.Exec(ctx, p.q.del, ns, key, p.channel, payload)
			return err
		},
		commit: func() error { return tx.Commit(ctx) },
	}, fn)
}

// Ping implements Store.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := withConn(ctx, p.pool, func(c *pgx.Conn) error { return c.Ping(ctx) }); err != nil {
		return fmt.Errorf("ping state db: %w", err)
	}
	return nil
}

// Close implements Store. It ends running Watch calls and closes the
// connections; calls still running close theirs when they finish.
func (p *Postgres) Close() error {
	p.stop()
	p.pool.close()
	return nil
}

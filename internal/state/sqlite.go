package state

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers driver "sqlite" (pure Go)
)

// busyTimeoutMS is how long a connection waits for a lock held by another
// connection or process before failing with SQLITE_BUSY.
const busyTimeoutMS = 10000

const schema = `CREATE TABLE IF NOT EXISTS kv (
	ns  TEXT NOT NULL,
	key TEXT NOT NULL,
	val BLOB NOT NULL,
	PRIMARY KEY (ns, key)
) WITHOUT ROWID`

// SQLite is a Store in one SQLite database file (pure Go driver
// modernc.org/sqlite), in WAL mode so reads never wait for the writer.
//
// Its Watch sees only writes made through the same *SQLite value: a data
// directory belongs to one process at a time (LockDir), so there are no other
// processes' writes to tell, and callers can use one code path for both
// stores.
type SQLite struct {
	db    *sql.DB
	watch *fanout
	// upd serialises Update within the process; BEGIN IMMEDIATE serialises
	// it against other processes. Holding it keeps concurrent Updates from
	// spinning on SQLITE_BUSY.
	upd sync.Mutex
}

var (
	_ Store   = (*SQLite)(nil)
	_ Watcher = (*SQLite)(nil)
)

// OpenSQLite opens (creating if needed) the SQLite state database at path.
func OpenSQLite(path string) (*SQLite, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open state db %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state db %s: create schema: %w", path, err)
	}
	return &SQLite{db: db, watch: newFanout()}, nil
}

// Get implements Store.
func (s *SQLite) Get(ctx context.Context, ns, key string) ([]byte, error) {
	var val []byte
	err := s.db.QueryRowContext(ctx, `SELECT val FROM kv WHERE ns = ? AND key = ?`, ns, key).Scan(&val)
	return getResult(ns, key, val, err, sql.ErrNoRows)
}

// Put implements Store.
func (s *SQLite) Put(ctx context.Context, ns, key string, val []byte) error {
	if val == nil {
		val = []byte{}
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO kv (ns, key, val) VALUES (?, ?, ?)
		ON CONFLICT (ns, key) DO UPDATE SET val = excluded.val`, ns, key, val)
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", ns, key, err)
	}
	s.watch.notify(ns, key)
	return nil
}

// Delete implements Store.
func (s *SQLite) Delete(ctx context.Context, ns, key string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM kv WHERE ns = ? AND key = ?`, ns, key)
	if err != nil {
		return fmt.Errorf("delete %s/%s: %w", ns, key, err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		s.watch.notify(ns, key)
	}
	return nil
}

// List implements Store.
func (s *SQLite) List(ctx context.Context, ns, prefix string) ([]KV, error) {
	// A range scan on the primary key (BINARY collation = bytewise order),
	// stopped at the first key without the prefix. LIKE would need escaping
	// and ignores case; substr counts characters, not bytes.
	rows, err := s.db.QueryContext(ctx, `SELECT key, val FROM kv
		WHERE ns = ? AND key >= ? ORDER BY key`, ns, prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s/%s*: %w", ns, prefix, err)
	}
	defer rows.Close()
	var out []KV
	for rows.Next() {
		var kv KV
		if err := rows.Scan(&kv.Key, &kv.Value); err != nil {
			return nil, fmt.Errorf("list %s/%s*: %w", ns, prefix, err)
		}
		if !strings.HasPrefix(kv.Key, prefix) {
			break
		}
		out = append(out, kv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s/%s*: %w", ns, prefix, err)
	}
	return out, nil
}

// Update implements Store. The transaction starts with BEGIN IMMEDIATE
// (_txlock=immediate), taking the write lock before the read.
func (s *SQLite) Update(ctx context.Context, ns, key string, fn func(old []byte) ([]byte, error)) error {
	s.upd.Lock()
	defer s.upd.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update %s/%s: begin: %w", ns, key, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit

	err = update(ns, key, rowTx{
		read: func() ([]byte, error) {
			var old []byte
			err := tx.QueryRowContext(ctx, `SELECT val FROM kv WHERE ns = ? AND key = ?`, ns, key).Scan(&old)
			return old, err
		},
		noRows: sql.ErrNoRows,
		put: func(val []byte) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO kv (ns, key, val) VALUES (?, ?, ?)
				ON CONFLICT (ns, key) DO UPDATE SET val = excluded.val`, ns, key, val)
			return err
		},
		del: func() error {
			_, err := tx.ExecContext(ctx, `DELETE FROM kv WHERE ns = ? AND key = ?`, ns, key)
			return err
		},
		commit: tx.Commit,
	}, fn)
	if err != nil {
		return err
	}
	s.watch.notify(ns, key)
	return nil
}

// Ping implements Store.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping state db: %w", err)
	}
	return nil
}

// Watch implements Watcher for writes through s; see the type's comment.
func (s *SQLite) Watch(ctx context.Context, fn func(ns, key string)) error {
	return s.watch.watch(ctx, fn)
}

// Close implements Store. It checkpoints the WAL into the main file and ends
// running Watch calls.
func (s *SQLite) Close() error {
	s.watch.close()
	_, _ = s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state db: %w", err)
	}
	return nil
}

// Package state is sqlgate's persistent state store: a small namespaced
// key/value store with atomic read-modify-write, holding secrets,
// principals, keys, policies and workloads, with change watches so that
// several nodes sharing one store see each other's changes.
//
// The contract is deliberately narrow (Get/Put/Delete/List/Update) so that it
// maps onto one table in any SQL database: SQLite for the embedded default
// (sqlite.go) and PostgreSQL when several gateway nodes share state.
package state

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// ErrNotFound is returned by Get when the key does not exist.
var ErrNotFound = errors.New("state: key not found")

// KV is one key and its value, as returned by List.
type KV struct {
	Key   string
	Value []byte
}

// Store is a namespaced key/value store. Namespaces ("secrets", "iam.users")
// partition keys so that List of one namespace never sees another.
// Values are opaque bytes; callers encrypt anything sensitive before Put.
//
// Implementations are safe for concurrent use.
type Store interface {
	// Get returns the value of key in ns, or ErrNotFound.
	Get(ctx context.Context, ns, key string) ([]byte, error)
	// Put creates or replaces key in ns.
	Put(ctx context.Context, ns, key string, val []byte) error
	// Delete removes key from ns. Deleting a missing key is not an error.
	Delete(ctx context.Context, ns, key string) error
	// List returns every key in ns that starts with prefix, sorted by key
	// (bytewise).
	List(ctx context.Context, ns, prefix string) ([]KV, error)
	// Update atomically reads key (old is nil when absent), calls fn and
	// writes its result; a nil result deletes the key. If fn returns an
	// error nothing is written and Update returns that error unwrapped.
	// Updates are serialised against each other (also across processes
	// sharing the store), so read-modify-write cycles never lose writes.
	// fn must not call the Store.
	Update(ctx context.Context, ns, key string, fn func(old []byte) ([]byte, error)) error
	// Ping checks that the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// WatchAll is the namespace passed to a Watch callback, with key "", when
// anything in any namespace may have changed.
const WatchAll = "*"

// Watcher is implemented by stores that can tell other processes' writes.
// Caches use it to drop entries that another sqlgate node changed.
type Watcher interface {
	// Watch calls fn(ns, key) after any write to (ns,key) by any process
	// sharing the store (including this one), until ctx is done. Delivery is
	// at-least-once; on reconnect after a gap, fn is called with key ""
	// meaning "anything in ns may have changed" (or "*" for all namespaces).
	//
	// fn is also called with (WatchAll, "") once Watch is listening, before
	// any other call, so a cache filled before that call may be stale and is
	// to be flushed then. Calls to fn are sequential, on the goroutine that
	// called Watch; fn may use the Store but should not block for long.
	// Namespaces must not contain the byte 0x1f.
	//
	// Watch returns nil when ctx is done or the store is closed, and an
	// error only when it cannot start listening.
	Watch(ctx context.Context, fn func(ns, key string)) error
}

// Open opens the state store a configuration names: PostgreSQL at dsn for
// driver "postgres", else the SQLite file state.db in dataDir.
func Open(ctx context.Context, driver, dsn, dataDir string) (Store, error) {
	switch driver {
	case "", "sqlite":
		return OpenSQLite(filepath.Join(dataDir, "state.db"))
	case "postgres":
		return OpenPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("open state store: unknown driver %q", driver)
}

package state

import (
	"path/filepath"
	"testing"
)

// sqliteBackend opens handles on one new database file per test.
func sqliteBackend(t *testing.T) func() Store {
	path := filepath.Join(t.TempDir(), "state.db")
	return func() Store { return openSQLite(t, path) }
}

func openSQLite(t *testing.T, path string) *SQLite {
	t.Helper()
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSQLite_Store(t *testing.T) {
	testStore(t, sqliteBackend)
}

// TestSQLite_Watch uses one handle: SQLite tells only a handle's own writes.
func TestSQLite_Watch(t *testing.T) {
	t.Run("writes", func(t *testing.T) {
		s := openSQLite(t, filepath.Join(t.TempDir(), "state.db"))
		testWatch(t, s, s)
	})
	t.Run("Close", func(t *testing.T) {
		testWatchClose(t, openSQLite(t, filepath.Join(t.TempDir(), "state.db")))
	})
}

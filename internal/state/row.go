package state

import (
	"errors"
	"fmt"
)

// The steps both Store backends share around their own SQL.

// getResult finishes a Get of (ns, key) whose single-row read returned val
// and err; noRows is the driver's "no row" error, which means ErrNotFound.
func getResult(ns, key string, val []byte, err, noRows error) ([]byte, error) {
	switch {
	case errors.Is(err, noRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("get %s/%s: %w", ns, key, err)
	}
	return val, nil
}

// rowTx is an Update's transaction, locked on (ns, key) by the backend.
type rowTx struct {
	read   func() ([]byte, error) // the current value; noRows when absent
	noRows error
	put    func(val []byte) error
	del    func() error
	commit func() error
}

// update is the read-modify-write of Store.Update in tx: fn sees nil for an
// absent key and a non-nil empty slice for a present empty value; its nil
// result deletes the key.
func update(ns, key string, tx rowTx, fn func(old []byte) ([]byte, error)) error {
	old, err := tx.read()
	switch {
	case errors.Is(err, tx.noRows):
		old = nil
	case err != nil:
		return fmt.Errorf("update %s/%s: read: %w", ns, key, err)
	case old == nil:
		old = []byte{} // present but empty: distinguish from absent
	}
	val, err := fn(old)
	if err != nil {
		return err
	}
	if val == nil {
		err = tx.del()
	} else {
		err = tx.put(val)
	}
	if err != nil {
		return fmt.Errorf("update %s/%s: write: %w", ns, key, err)
	}
	if err := tx.commit(); err != nil {
		return fmt.Errorf("update %s/%s: commit: %w", ns, key, err)
	}
	return nil
}

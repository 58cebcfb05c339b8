// Package txn maps Data API transactionIds to pinned backend connections.
//
// BeginTransaction pins one connection; later calls carrying the id run on
// it, one at a time (a concurrent call is refused, as Aurora v2 does). A
// transaction idle longer than the idle timeout, or older than the maximum
// lifetime, is rolled back and forgotten; later calls are told why
// (docs/dataapi.md).
package txn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/exec"
)

// Why a transaction ended without commit or rollback by the client.
const (
	ReasonExpired = "Transaction may be expired."
	ReasonKilled  = "One previous call resulted in a termination of your transaction."
	ReasonAborted = "Transaction has been aborted due to an error from a previous call."
)

// ErrBusy is returned by Acquire while another call uses the transaction.
var ErrBusy = errors.New("transaction is still running a query")

// NotFoundError is returned for unknown or finished transaction ids.
type NotFoundError struct {
	ID     string
	Reason string // one of the Reason constants, or ""
}

func (e *NotFoundError) Error() string {
	msg := "Transaction " + e.ID + " isn't found"
	if e.Reason != "" {
		msg += ". " + e.Reason
	}
	return msg
}

// Tx is one open transaction.
type Tx struct {
	ID        string
	Cluster   string
	Database  string
	SecretARN string
	// Session is the pinned connection; its database was applied at
	// BeginTransaction and a USE inside the transaction holds until it ends.
	Session *exec.Session
	// Idle and MaxLife override the manager's timeouts when non-zero.
	Idle, MaxLife time.Duration

	created  time.Time
	lastUsed time.Time
	busy     bool
}

// Manager owns the open transactions.
type Manager struct {
	idle, maxLife time.Duration
	now           func() time.Time

	mu    sync.Mutex // guards following fields
	txs   map[string]*Tx
	ended map[string]endedTx // recently ended ids → why (bounded)
}

type endedTx struct {
	reason string
	at     time.Time
}

// New returns a Manager; Run starts its reaper.
func New(idle, maxLife time.Duration) *Manager {
	return &Manager{idle: idle, maxLife: maxLife, now: time.Now, txs: map[string]*Tx{}, ended: map[string]endedTx{}}
}

// NewID returns an opaque random transaction id.
func NewID() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Add registers an open transaction (busy until Release).
func (m *Manager) Add(tx *Tx) {
	now := m.now()
	tx.created, tx.lastUsed, tx.busy = now, now, true
	m.mu.Lock()
	m.txs[tx.ID] = tx
	m.mu.Unlock()
}

// Count returns the number of open transactions.
func (m *Manager) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.txs)
}

// Acquire marks tx busy for one call. It fails with *NotFoundError or ErrBusy.
func (m *Manager) Acquire(id string) (*Tx, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx, ok := m.txs[id]
	if !ok {
		return nil, &NotFoundError{ID: id, Reason: m.ended[id].reason}
	}
	if tx.busy {
		return nil, ErrBusy
	}
	tx.busy = true
	return tx, nil
}

// Release ends a call on tx, keeping the transaction open.
func (m *Manager) Release(tx *Tx) {
	m.mu.Lock()
	tx.busy = false
	tx.lastUsed = m.now()
	m.mu.Unlock()
}

// Remove forgets tx (acquired by the caller), recording reason for later
// lookups; the caller finishes the connection (commit/rollback, release).
func (m *Manager) Remove(tx *Tx, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.txs, tx.ID)
	m.rememberLocked(tx.ID, reason)
}

func (m *Manager) rememberLocked(id, reason string) {
	const keep = 10000
	if len(m.ended) >= keep {
		cutoff := m.now().Add(-time.Hour)
		for k, e := range m.ended {
			if e.at.Before(cutoff) || len(m.ended) >= keep {
				delete(m.ended, k)
			}
		}
	}
	m.ended[id] = endedTx{reason: reason, at: m.now()}
}

// Run reaps expired transactions until ctx is done, then rolls back every
// open transaction.
func (m *Manager) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			m.RollbackAll()
			return
		case <-tick.C:
			m.reapExpired()
		}
	}
}

func (m *Manager) reapExpired() {
	now := m.now()
	var dead []*Tx
	m.mu.Lock()
	for id, tx := range m.txs {
		if tx.busy {
			continue
		}
		idle, maxLife := m.idle, m.maxLife
		if tx.Idle > 0 {
			idle = tx.Idle
		}
		if tx.MaxLife > 0 {
			maxLife = tx.MaxLife
		}
		if now.Sub(tx.lastUsed) > idle || now.Sub(tx.created) > maxLife {
			delete(m.txs, id)
			m.rememberLocked(id, ReasonExpired)
			dead = append(dead, tx)
		}
	}
	m.mu.Unlock()
	for _, tx := range dead {
		Abort(tx)
	}
}

// RollbackAll rolls back and forgets every idle open transaction (shutdown).
func (m *Manager) RollbackAll() {
	m.mu.Lock()
	var all []*Tx
	for id, tx := range m.txs {
		if tx.busy {
			continue // its call is still running; it releases through the pool
		}
		delete(m.txs, id)
		m.rememberLocked(id, ReasonKilled)
		all = append(all, tx)
	}
	m.mu.Unlock()
	for _, tx := range all {
		Abort(tx)
	}
}

// Abort rolls tx back and gives its connection back (closed when the
// rollback fails; see exec.Session.Close).
func Abort(tx *Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = tx.Session.Rollback(ctx)
	tx.Session.Close()
}

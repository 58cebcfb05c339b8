package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sqlgate/sqlgate/internal/state"
)

// Lease record location in the state store.
const (
	leaseNS  = "rotation"
	leaseKey = "lease"
)

// lease is a time-limited claim, held in the shared state store, on
// running rotations: the one node holding it rotates.
type lease struct {
	st   state.Store
	node string
	ttl  time.Duration
}

type leaseRecord struct {
	Node    string    `json:"node"`
	Expires time.Time `json:"expires"`
}

var errHeld = errors.New("lease held by another node")

// acquire takes or renews the lease; false when another node holds it.
func (l *lease) acquire(ctx context.Context) (bool, error) {
	now := time.Now()
	err := l.st.Update(ctx, leaseNS, leaseKey, func(old []byte) ([]byte, error) {
		if old != nil {
			var cur leaseRecord
			if err := json.Unmarshal(old, &cur); err == nil && cur.Node != l.node && now.Before(cur.Expires) {
				return nil, errHeld
			}
		}
		return json.Marshal(leaseRecord{Node: l.node, Expires: now.Add(l.ttl)})
	})
	switch {
	case errors.Is(err, errHeld):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("rotation lease: %w", err)
	}
	return true, nil
}

// release gives the lease up if this node holds it.
func (l *lease) release(ctx context.Context) {
	_ = l.st.Update(ctx, leaseNS, leaseKey, func(old []byte) ([]byte, error) {
		var cur leaseRecord
		if old == nil || json.Unmarshal(old, &cur) != nil || cur.Node != l.node {
			return nil, errHeld
		}
		return nil, nil
	})
}

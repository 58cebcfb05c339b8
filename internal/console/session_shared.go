package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/state"
)

// nsSessions holds the console sessions of nodes sharing a state store,
// keyed by the hex SHA-256 of the session id (the id itself, the cookie,
// is never stored).
const nsSessions = "console.sessions"

// sharedSessions keeps sessions in the state store, so that any node
// sharing it serves a browser signed in on another (no sticky sessions)
// and a sign-out on one node ends the session on all. Each request reads
// its session from the store.
type sharedSessions struct {
	st  state.Store
	ttl time.Duration
	now func() time.Time
	// created counts sessions started here; every sweepEvery-th start
	// deletes the expired ones.
	created atomic.Uint64
}

const sweepEvery = 64

// storedSession is a session as stored (the id is the key's preimage).
type storedSession struct {
	CSRF      string    `json:"csrf"`
	AKID      string    `json:"akid"`
	Principal string    `json:"principal"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
}

func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// create starts a new session with fresh random id and CSRF token.
func (st *sharedSessions) create(ctx context.Context, akid, principal string) (*session, error) {
	now := st.now()
	s := &session{id: randomToken(), csrf: randomToken(), akid: akid, principal: principal,
		created: now, expires: now.Add(st.ttl)}
	b, err := json.Marshal(storedSession{CSRF: s.csrf, AKID: akid, Principal: principal, Created: now, Expires: s.expires})
	if err != nil {
		return nil, err
	}
	if err := st.st.Put(ctx, nsSessions, sessionKey(s.id), b); err != nil {
		return nil, fmt.Errorf("store console session: %w", err)
	}
	if st.created.Add(1)%sweepEvery == 0 {
		st.sweep(ctx, now)
	}
	return s, nil
}

// get returns the live session with id, or nil. An expired one is
// deleted.
func (st *sharedSessions) get(ctx context.Context, id string) (*session, error) {
	if id == "" {
		return nil, nil
	}
	k := sessionKey(id)
	b, err := st.st.Get(ctx, nsSessions, k)
	if errors.Is(err, state.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read console session: %w", err)
	}
	var v storedSession
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decode console session: %w", err)
	}
	if !st.now().Before(v.Expires) {
		_ = st.st.Delete(ctx, nsSessions, k)
		return nil, nil
	}
	return &session{id: id, csrf: v.CSRF, akid: v.AKID, principal: v.Principal, created: v.Created, expires: v.Expires}, nil
}

// delete ends the session with id, if any.
func (st *sharedSessions) delete(ctx context.Context, id string) error {
	return st.st.Delete(ctx, nsSessions, sessionKey(id))
}

// sweep deletes expired sessions (best effort).
func (st *sharedSessions) sweep(ctx context.Context, now time.Time) {
	kvs, err := st.st.List(ctx, nsSessions, "")
	if err != nil {
		return
	}
	for _, kv := range kvs {
		var v storedSession
		if json.Unmarshal(kv.Value, &v) != nil || !now.Before(v.Expires) {
			_ = st.st.Delete(ctx, nsSessions, kv.Key)
		}
	}
}

// startSession, findSession and endSession use the shared store when the
// console has one (Config.Store), else the in-memory sessions.
func (c *Console) startSession(ctx context.Context, akid, principal string) (*session, error) {
	if c.shared != nil {
		return c.shared.create(ctx, akid, principal)
	}
	return c.sessions.create(akid, principal), nil
}

func (c *Console) findSession(ctx context.Context, id string) (*session, error) {
	if c.shared != nil {
		return c.shared.get(ctx, id)
	}
	return c.sessions.get(id), nil
}

func (c *Console) endSession(ctx context.Context, id string) {
	if c.shared == nil {
		c.sessions.delete(id)
		return
	}
	if err := c.shared.delete(ctx, id); err != nil {
		c.log.Error("console sign-out: session not deleted", "err", err)
	}
}

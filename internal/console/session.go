package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// session is one signed-in browser. It holds the access key id only:
// the secret is checked at sign-in and never kept.
type session struct {
	id        string // cookie value; the store keys by its hash
	csrf      string // X-CSRF-Token value
	akid      string
	principal string // ARN at sign-in, for display
	created   time.Time
	expires   time.Time
}

// checkCSRF reports whether token is the session's CSRF token, in
// constant time.
func (s *session) checkCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// sessionStore holds live sessions in memory. Ids are looked up by their
// SHA-256, so map timing tells nothing about valid ids.
type sessionStore struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex // guards following fields
	m  map[[sha256.Size]byte]*session
}

func newSessionStore(ttl time.Duration, maxSessions int, now func() time.Time) *sessionStore {
	return &sessionStore{ttl: ttl, max: maxSessions, now: now, m: map[[sha256.Size]byte]*session{}}
}

// randomToken returns 256 random bits, base64url-encoded.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a new session with fresh random id and CSRF token.
func (st *sessionStore) create(akid, principal string) *session {
	now := st.now()
	s := &session{id: randomToken(), csrf: randomToken(), akid: akid, principal: principal,
		created: now, expires: now.Add(st.ttl)}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.m) >= st.max {
		st.evictLocked(now)
	}
	st.m[sha256.Sum256([]byte(s.id))] = s
	return s
}

// evictLocked drops expired sessions, then the oldest while still full.
func (st *sessionStore) evictLocked(now time.Time) {
	var oldest [sha256.Size]byte
	var oldestAt time.Time
	for k, s := range st.m {
		if !now.Before(s.expires) {
			delete(st.m, k)
			continue
		}
		if oldestAt.IsZero() || s.created.Before(oldestAt) {
			oldest, oldestAt = k, s.created
		}
	}
	if len(st.m) >= st.max && !oldestAt.IsZero() {
		delete(st.m, oldest)
	}
}

// get returns the live session with id, or nil. Expired sessions are
// removed.
func (st *sessionStore) get(id string) *session {
	if id == "" {
		return nil
	}
	k := sha256.Sum256([]byte(id))
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.m[k]
	if s == nil {
		return nil
	}
	if !st.now().Before(s.expires) {
		delete(st.m, k)
		return nil
	}
	return s
}

// delete ends the session with id, if any.
func (st *sessionStore) delete(id string) {
	k := sha256.Sum256([]byte(id))
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.m, k)
}

// len returns the number of stored sessions (for tests).
func (st *sessionStore) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.m)
}

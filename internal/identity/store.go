package identity

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/state"
)

// State-store namespaces.
const (
	nsUsers    = "iam.users"
	nsKeys     = "iam.keys"
	nsRoles    = "iam.roles"
	nsGroups   = "iam.groups"
	nsPolicies = "iam.policies"
	nsSessions = "sts.sessions"
)

// MaxKeysPerUser is AWS's limit of access keys per user.
const MaxKeysPerUser = 2

// Store is the identity store. It is safe for concurrent use.
type Store struct {
	st      state.Store
	b       *barrier.Barrier
	account string
	now     func() time.Time

	// keyMu serialises CreateAccessKey's count-then-insert, so concurrent
	// calls cannot exceed MaxKeysPerUser. (Across nodes sharing a
	// PostgreSQL store the quota can still be overshot by a race; it is a
	// quota, not a permission.)
	keyMu sync.Mutex
	// createMu serialises the case-insensitive name check of creates with
	// the create on this node; name claims (names.go) do it across nodes.
	createMu sync.Mutex

	mu      sync.Mutex // guards following fields
	cache   *cache
	touched map[string]time.Time // access key → last recorded use

	// uses counts the last-use writes running off the request path.
	uses sync.WaitGroup
}

// Wait waits for the last-use writes Principal started in the
// background; call it before closing the state store.
func (s *Store) Wait() { s.uses.Wait() }

// New returns a Store over st, sealing secret keys with b.
func New(st state.Store, b *barrier.Barrier, account string) *Store {
	return &Store{st: st, b: b, account: account, now: time.Now, cache: newCache(), touched: map[string]time.Time{}}
}

var nameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func validName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return errf(ErrInvalidInput, "invalid %s name %q (1-64 of letters, digits and +=,.@_-)", kind, name)
	}
	return nil
}

func normPath(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || len(p) > 512 {
		return "", errf(ErrInvalidInput, "path must begin and end with /")
	}
	return p, nil
}

// SetClock replaces the store's clock (time.Now), so tests can expire STS
// sessions. Call it before the store is used; it is not synchronised.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

// arn builds arn:aws:iam::ACCOUNT:KIND/PATH…NAME.
func (s *Store) arn(kind, path, name string) string {
	return "arn:aws:iam::" + s.account + ":" + kind + path + name
}

// Account returns the account id in the store's ARNs.
func (s *Store) Account() string { return s.account }

// randomID returns prefix + n characters of [A-Z2-7].
func randomID(prefix string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

// randomSecret returns a 40-character secret access key.
func randomSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 40)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// get loads and decodes one record.
func get[T any](ctx context.Context, st state.Store, ns, key string) (*T, error) {
	b, err := st.Get(ctx, ns, key)
	if errors.Is(err, state.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w", ns, key, err)
	}
	return &v, nil
}

// list loads every record of a namespace.
func list[T any](ctx context.Context, st state.Store, ns string) ([]*T, error) {
	kvs, err := st.List(ctx, ns, "")
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(kvs))
	for _, kv := range kvs {
		var v T
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			return nil, fmt.Errorf("decode %s/%s: %w", ns, kv.Key, err)
		}
		out = append(out, &v)
	}
	return out, nil
}

// update applies fn to a record atomically. create: the record must not
// exist (fn gets nil); otherwise it must exist. fn returning nil deletes.
func update[T any](ctx context.Context, st state.Store, ns, key string, create bool, fn func(*T) (*T, error)) error {
	return st.Update(ctx, ns, key, func(old []byte) ([]byte, error) {
		var cur *T
		if old != nil {
			if create {
				return nil, ErrExists
			}
			cur = new(T)
			if err := json.Unmarshal(old, cur); err != nil {
				return nil, err
			}
		} else if !create {
			return nil, ErrNotFound
		}
		next, err := fn(cur)
		if err != nil || next == nil {
			return nil, err
		}
		return json.Marshal(next)
	})
}

// nameFree reports ErrExists when ns holds a record whose key equals name
// ignoring case: IAM names are unique case-insensitively.
func (s *Store) nameFree(ctx context.Context, ns, name string) error {
	kvs, err := s.st.List(ctx, ns, "")
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if strings.EqualFold(kv.Key, name) {
			return ErrExists
		}
	}
	return nil
}

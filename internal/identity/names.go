package identity

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/state"
)

// IAM names (users, groups, roles, managed policies) are unique ignoring
// case. On one node createMu orders the check and the create; across
// nodes sharing a state store, a create first claims the folded name in
// nsNames. The store serialises updates of one key across processes, so
// of two nodes creating "Bob" and "bob" at once only one claim succeeds.
const nsNames = "iam.names"

// claimTTL is how long a claim whose entity does not exist (a create in
// flight, or one that died between claim and write) keeps the name.
const claimTTL = 30 * time.Second

// nameClaim is the record of a claimed name: the exact name, and when.
type nameClaim struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

func claimKey(ns, name string) string { return ns + "/" + strings.ToLower(name) }

// createNamed creates the entity name of namespace ns with write, unless
// a name equal to it ignoring case exists or is being created (ErrExists).
func createNamed[T any](ctx context.Context, s *Store, ns, name string, v *T) error {
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if err := s.nameFree(ctx, ns, name); err != nil {
		return err
	}
	if err := s.claimName(ctx, ns, name); err != nil {
		return err
	}
	err := update(ctx, s.st, ns, name, true, func(*T) (*T, error) { return v, nil })
	if err != nil {
		s.releaseName(ctx, ns, name)
	}
	return err
}

// claimName records the claim of name, taking over a claim older than
// claimTTL whose entity does not exist.
func (s *Store) claimName(ctx context.Context, ns, name string) error {
	key := claimKey(ns, name)
	now := s.now()
	var old []byte
	if b, err := s.st.Get(ctx, nsNames, key); err == nil {
		var c nameClaim
		if json.Unmarshal(b, &c) == nil && now.Sub(c.At) < claimTTL {
			return ErrExists
		}
		if c.Name != "" {
			if _, err := s.st.Get(ctx, ns, c.Name); !errors.Is(err, state.ErrNotFound) {
				if err != nil {
					return err
				}
				return ErrExists
			}
		}
		old = b
	} else if !errors.Is(err, state.ErrNotFound) {
		return err
	}
	next, err := json.Marshal(nameClaim{Name: name, At: now})
	if err != nil {
		return err
	}
	return s.st.Update(ctx, nsNames, key, func(cur []byte) ([]byte, error) {
		if string(cur) != string(old) { // claimed (or taken over) meanwhile
			return nil, ErrExists
		}
		return next, nil
	})
}

// releaseName drops the claim of name after its entity was deleted (or
// its create failed), so that the name can be created again at once.
func (s *Store) releaseName(ctx context.Context, ns, name string) {
	_ = s.st.Update(ctx, nsNames, claimKey(ns, name), func(cur []byte) ([]byte, error) {
		var c nameClaim
		if cur == nil || json.Unmarshal(cur, &c) != nil || c.Name == name {
			return nil, nil
		}
		return cur, nil // claimed by another name since
	})
}

// deleted releases the claim of name once its delete succeeded.
func (s *Store) deleted(ctx context.Context, ns, name string, err error) error {
	if err == nil {
		s.releaseName(ctx, ns, name)
	}
	return err
}

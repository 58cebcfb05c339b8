package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/state"
)

// CreateUser creates an IAM user with tags. Names are unique ignoring
// case, as on AWS (ErrExists).
func (s *Store) CreateUser(ctx context.Context, name, path string, tags ...Tag) (*User, error) {
	if err := validName("user", name); err != nil {
		return nil, err
	}
	path, err := normPath(path)
	if err != nil {
		return nil, err
	}
	if err := checkNewTags(tags); err != nil {
		return nil, err
	}
	u := &User{UserName: name, UserID: randomID("AIDA", 17), ARN: s.arn("user", path, name), Path: path, CreateDate: s.clock(), Tags: tags}
	if err := createNamed(ctx, s, nsUsers, name, u); err != nil {
		return nil, err
	}
	return u, nil
}

// GetUser returns a user or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, name string) (*User, error) {
	return get[User](ctx, s.st, nsUsers, name)
}

// ListUsers returns users whose path starts with pathPrefix ("" = all).
func (s *Store) ListUsers(ctx context.Context, pathPrefix string) ([]*User, error) {
	all, err := list[User](ctx, s.st, nsUsers)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(u *User) bool { return !strings.HasPrefix(u.Path, pathPrefix) }), nil
}

// DeleteUser deletes a user. Like AWS it refuses (ErrDeleteConflict) while
// the user has access keys or policies or is a member of a group.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	keys, err := s.ListAccessKeys(ctx, name)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		return errf(ErrDeleteConflict, "Cannot delete entity, must delete access keys first.")
	}
	err = update(ctx, s.st, nsUsers, name, false, func(u *User) (*User, error) {
		if !u.empty() {
			return nil, errf(ErrDeleteConflict, "Cannot delete entity, must delete policies first.")
		}
		if len(u.Groups) > 0 {
			return nil, errf(ErrDeleteConflict, "Cannot delete entity, must remove users from group first.")
		}
		return nil, nil
	})
	s.invalidate()
	return s.deleted(ctx, nsUsers, name, err)
}

// CreateAccessKey creates a key pair for user; the secret is returned only
// here. At most MaxKeysPerUser keys per user (ErrLimitExceeded).
func (s *Store) CreateAccessKey(ctx context.Context, user string) (*AccessKey, Credentials, error) {
	if _, err := s.GetUser(ctx, user); err != nil {
		return nil, Credentials{}, err
	}
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	keys, err := s.ListAccessKeys(ctx, user)
	if err != nil {
		return nil, Credentials{}, err
	}
	if len(keys) >= MaxKeysPerUser {
		return nil, Credentials{}, errf(ErrLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", MaxKeysPerUser)
	}
	akid, secret := randomID("AKIA", 16), randomSecret()
	k := &keyRecord{AccessKey: AccessKey{AccessKeyID: akid, UserName: user, Status: "Active", CreateDate: s.clock()},
		Sealed: s.b.Seal([]byte(secret), []byte("iam-key:"+akid))}
	if err := update(ctx, s.st, nsKeys, akid, true, func(*keyRecord) (*keyRecord, error) { return k, nil }); err != nil {
		return nil, Credentials{}, err
	}
	return &k.AccessKey, Credentials{AccessKeyID: akid, SecretAccessKey: secret}, nil
}

// keyRecord is the stored form of an access key: the secret sealed.
type keyRecord struct {
	AccessKey
	Sealed []byte `json:"sealed"`
}

// ListAccessKeys returns the keys of user.
func (s *Store) ListAccessKeys(ctx context.Context, user string) ([]*AccessKey, error) {
	if _, err := s.GetUser(ctx, user); err != nil {
		return nil, err
	}
	all, err := list[keyRecord](ctx, s.st, nsKeys)
	if err != nil {
		return nil, err
	}
	var out []*AccessKey
	for _, k := range all {
		if k.UserName == user {
			out = append(out, &k.AccessKey)
		}
	}
	return out, nil
}

// UpdateAccessKey sets a key's status to Active or Inactive.
func (s *Store) UpdateAccessKey(ctx context.Context, user, akid, status string) error {
	if status != "Active" && status != "Inactive" {
		return errf(ErrInvalidInput, "status must be Active or Inactive")
	}
	err := update(ctx, s.st, nsKeys, akid, false, func(k *keyRecord) (*keyRecord, error) {
		if k.UserName != user {
			return nil, ErrNotFound
		}
		k.Status = status
		return k, nil
	})
	s.invalidate()
	return err
}

// DeleteAccessKey deletes a key; it stops working at once on every node.
func (s *Store) DeleteAccessKey(ctx context.Context, user, akid string) error {
	err := update(ctx, s.st, nsKeys, akid, false, func(k *keyRecord) (*keyRecord, error) {
		if k.UserName != user {
			return nil, ErrNotFound
		}
		return nil, nil
	})
	s.invalidate()
	return err
}

// TouchKey records a key's last use. It writes at most once a minute per
// key, so it stays off the hot path.
func (s *Store) TouchKey(ctx context.Context, akid string) {
	if now, due := s.touchDue(akid, time.Minute); due {
		s.writeKeyUse(ctx, akid, now)
	}
}

// touchDue reports whether a use of key (an access key id, or "role:"+ARN)
// is due to be recorded, granularity after the last recorded one, and if
// so marks it recorded now. It is the cheap synchronous check that keeps
// the store write (and its goroutine) to once per key and granularity.
func (s *Store) touchDue(key string, granularity time.Duration) (time.Time, bool) {
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.touched[key]; ok && now.Sub(last) < granularity {
		return now, false
	}
	s.touched[key] = now
	return now, true
}

// writeKeyUse records an access key's last use; touchDue decides when.
func (s *Store) writeKeyUse(ctx context.Context, akid string, now time.Time) {
	_ = update(ctx, s.st, nsKeys, akid, false, func(k *keyRecord) (*keyRecord, error) {
		k.LastUsed = now
		return k, nil
	})
}

// loadKey returns a key record and its secret.
func (s *Store) loadKey(ctx context.Context, akid string) (*keyRecord, string, error) {
	k, err := get[keyRecord](ctx, s.st, nsKeys, akid)
	if err != nil {
		return nil, "", err
	}
	secret, err := s.b.Open(k.Sealed, []byte("iam-key:"+akid))
	if err != nil {
		return nil, "", fmt.Errorf("open access key %s: %w", akid, err)
	}
	return k, string(secret), nil
}

func isNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, state.ErrNotFound)
}

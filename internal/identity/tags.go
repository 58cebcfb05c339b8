package identity

import (
	"context"
	"slices"
	"strings"
	"unicode"
)

// Tag is a key/value tag of a user, role, policy or role session.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// Tags is a list of tags with case-insensitively unique keys, as IAM keeps
// them.
type Tags []Tag

// MaxTags is IAM's limit of tags per user, role, policy or session.
const MaxTags = 50

// tagText reports whether s is min to max characters of letters
// (\p{L}), separators (\p{Z}), numbers (\p{N}) or _.:/=+-@. (As a
// regular expression with a {1,128} repetition of that class, each of
// the two compiled to several MiB kept for the process's life.)
func tagText(s string, min, max int) bool {
	n := 0
	for _, r := range s {
		n++
		if n > max || !(unicode.IsLetter(r) || unicode.Is(unicode.Z, r) || unicode.IsNumber(r) || strings.ContainsRune("_.:/=+-@", r)) {
			return false
		}
	}
	return n >= min
}

// CheckTags validates tags as IAM does: key 1-128, value 0-256 characters
// of letters, digits, spaces and _.:/=+-@, keys unique ignoring case, keys
// not starting with "aws:".
func CheckTags(tags Tags) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if !tagText(t.Key, 1, 128) || !tagText(t.Value, 0, 256) {
			return errf(ErrInvalidInput, "invalid tag %q: keys are 1-128 and values 0-256 letters, digits, spaces or _.:/=+-@", t.Key)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return errf(ErrInvalidInput, "tag keys starting with aws: are reserved")
		}
		k := strings.ToLower(t.Key)
		if seen[k] {
			return errf(ErrInvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	return nil
}

// Map returns the tags as key → value.
func (ts Tags) Map() map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[t.Key] = t.Value
	}
	return m
}

// merge returns ts with add applied: a tag whose key matches an existing
// one ignoring case replaces it. ErrLimitExceeded past MaxTags.
func (ts Tags) merge(add Tags) (Tags, error) {
	out := slices.Clone(ts)
	for _, t := range add {
		i := slices.IndexFunc(out, func(o Tag) bool { return strings.EqualFold(o.Key, t.Key) })
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, errf(ErrLimitExceeded, "The number of tags has reached the maximum limit.")
	}
	return out, nil
}

// without returns ts without the tags whose keys match keys ignoring case.
func (ts Tags) without(keys []string) Tags {
	return slices.DeleteFunc(slices.Clone(ts), func(t Tag) bool {
		return slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, t.Key) })
	})
}

// sessionTags are a session principal's tags: the role's, overridden by
// the session's (same key ignoring case).
func sessionTags(role, session Tags) map[string]string {
	merged, _ := role.merge(session)
	return merged.Map()
}

// TagUser adds or replaces tags of a user.
func (s *Store) TagUser(ctx context.Context, name string, tags Tags) error {
	if err := CheckTags(tags); err != nil {
		return err
	}
	err := update(ctx, s.st, nsUsers, name, false, func(u *User) (*User, error) {
		var err error
		u.Tags, err = u.Tags.merge(tags)
		return u, err
	})
	s.invalidate()
	return err
}

// UntagUser removes tags of a user by key.
func (s *Store) UntagUser(ctx context.Context, name string, keys []string) error {
	err := update(ctx, s.st, nsUsers, name, false, func(u *User) (*User, error) {
		u.Tags = u.Tags.without(keys)
		return u, nil
	})
	s.invalidate()
	return err
}

// TagRole adds or replaces tags of a role.
func (s *Store) TagRole(ctx context.Context, name string, tags Tags) error {
	if err := CheckTags(tags); err != nil {
		return err
	}
	err := update(ctx, s.st, nsRoles, name, false, func(r *Role) (*Role, error) {
		var err error
		r.Tags, err = r.Tags.merge(tags)
		return r, err
	})
	s.invalidate()
	return err
}

// UntagRole removes tags of a role by key.
func (s *Store) UntagRole(ctx context.Context, name string, keys []string) error {
	err := update(ctx, s.st, nsRoles, name, false, func(r *Role) (*Role, error) {
		r.Tags = r.Tags.without(keys)
		return r, nil
	})
	s.invalidate()
	return err
}

// TagPolicy adds or replaces tags of a managed policy.
func (s *Store) TagPolicy(ctx context.Context, arn string, tags Tags) error {
	if err := CheckTags(tags); err != nil {
		return err
	}
	return s.editPolicy(ctx, arn, func(p *ManagedPolicy) error {
		var err error
		p.Tags, err = p.Tags.merge(tags)
		return err
	})
}

// UntagPolicy removes tags of a managed policy by key.
func (s *Store) UntagPolicy(ctx context.Context, arn string, keys []string) error {
	return s.editPolicy(ctx, arn, func(p *ManagedPolicy) error {
		p.Tags = p.Tags.without(keys)
		return nil
	})
}

func (s *Store) editPolicy(ctx context.Context, arn string, fn func(*ManagedPolicy) error) error {
	name, err := s.policyName(arn)
	if err != nil {
		return err
	}
	err = update(ctx, s.st, nsPolicies, name, false, func(p *ManagedPolicy) (*ManagedPolicy, error) {
		if p.ARN != arn {
			return nil, ErrNotFound
		}
		return p, fn(p)
	})
	s.invalidate()
	return err
}

// checkNewTags validates the tags of a create.
func checkNewTags(tags Tags) error {
	if len(tags) > MaxTags {
		return errf(ErrLimitExceeded, "The number of tags has reached the maximum limit.")
	}
	return CheckTags(tags)
}

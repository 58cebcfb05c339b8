package secrets

import "context"

// Live is one read of a secret's record: who the secret is, to authorize
// the caller, and the value to log in with, read from the same record once
// the caller is allowed. The Data API does this on every call, so the
// record is loaded once and the decrypted value comes from a cache keyed
// by ARN and version (a version's value never changes; the cache is
// dropped with the record cache on every write, here or on another node).
type Live struct {
	Ident
	s *Store
	r *record
}

// Live loads the secret identified by secretID once. Errors: ErrNotFound.
func (s *Store) Live(ctx context.Context, secretID string) (Live, error) {
	r, err := s.load(ctx, secretID)
	if err != nil {
		return Live{}, err
	}
	return Live{Ident: Ident{ARN: r.ARN, Name: r.Name, Tags: r.Tags, Policy: r.Policy}, s: s, r: r}, nil
}

// SecretString returns the SecretString to log in with, as LiveValue
// picks it, from the record Live read (nil for a binary secret), and
// records the access. Errors as LiveValue.
func (l Live) SecretString(ctx context.Context) (*string, error) {
	v, p, err := l.s.live(l.r)
	if err != nil {
		return nil, err
	}
	l.s.touch(ctx, l.r, v)
	return p.SecretString, nil
}

// LiveValue returns the value clients must log in with: AWSPENDING while a
// rotation has set it on the database and not yet finished, else
// AWSCURRENT. Errors as GetValue.
func (s *Store) LiveValue(ctx context.Context, secretID string) (*Value, error) {
	r, err := s.load(ctx, secretID)
	if err != nil {
		return nil, err
	}
	v, p, err := s.live(r)
	if err != nil {
		return nil, err
	}
	s.touch(ctx, r, v)
	return newValue(r, v, p), nil
}

// live picks and opens r's live version: the AWSPENDING version a rotation
// has set on the database while it can be opened, else AWSCURRENT.
func (s *Store) live(r *record) (*version, Payload, error) {
	if r.scheduled() {
		return nil, Payload{}, ErrScheduledForDeletion
	}
	if rot := r.Rotation; rot != nil && rot.LivePending != "" {
		if v := r.versionByID(rot.LivePending); v != nil {
			if p, err := s.openCached(r.ARN, v); err == nil {
				return v, p, nil
			}
		}
	}
	v, err := pickVersion(r, "", "")
	if err != nil {
		return nil, Payload{}, err
	}
	p, err := s.openCached(r.ARN, v)
	return v, p, err
}

// plainKey names a version's decrypted string in Store.plain.
type plainKey struct{ arn, vid string }

// openCached is open for string versions, answered from Store.plain after
// the first decryption. Binary payloads are not cached (callers may keep
// and modify the slice).
func (s *Store) openCached(arn string, v *version) (Payload, error) {
	if v.Binary {
		return s.open(arn, v)
	}
	k := plainKey{arn, v.ID}
	s.cmu.Lock()
	str, ok := s.plain[k]
	gen := s.gen
	s.cmu.Unlock()
	if ok {
		return Payload{SecretString: &str}, nil
	}
	p, err := s.open(arn, v)
	if err != nil {
		return Payload{}, err
	}
	s.cmu.Lock()
	if s.gen == gen { // no write since the record was current
		if len(s.plain) >= maxCached {
			clear(s.plain)
		}
		s.plain[k] = *p.SecretString
	}
	s.cmu.Unlock()
	return p, nil
}

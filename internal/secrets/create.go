package secrets

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/sqlgate/sqlgate/internal/arn"
)

// CreateInput is the input of Create.
type CreateInput struct {
	Name        string
	Description string
	KMSKeyID    string
	Tags        []Tag
	// Token (ClientRequestToken) becomes the first version's id; a retry
	// with the same token and value returns the existing secret. Generated
	// when empty.
	Token string
	// Value is the first version's value (stage AWSCURRENT); nil creates a
	// secret without versions.
	Value *Payload
	// Suffix is the ARN's random suffix; NewSuffix() when empty. Callers
	// that authorize against the would-be ARN pass the suffix they used.
	Suffix string
}

// ARN returns the ARN of secret name with suffix in this store.
func (s *Store) ARN(name, suffix string) string {
	return arn.Secret(s.region, s.account, name, suffix)
}

// Create creates a secret. Errors: ErrExists, ErrScheduledForDeletion (the
// name belongs to a secret marked for deletion), *ParamError.
func (s *Store) Create(ctx context.Context, in CreateInput) (*Ref, error) {
	if !ValidName(in.Name) {
		return nil, &ParamError{Msg: "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"}
	}
	if err := checkPayload(in.Value); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	suffix := in.Suffix
	if suffix == "" {
		suffix = NewSuffix()
	}
	token := in.Token
	if token == "" {
		token = NewVersionID()
	}
	var out *Ref
	err := s.update(ctx, in.Name, func(old []byte) ([]byte, error) {
		now := s.clock()
		if old != nil {
			r, err := decodeRecord(old)
			if err != nil {
				return nil, err
			}
			if !r.expired(now) {
				ref, err := s.createRetry(r, in, token)
				out = ref
				return old, err
			}
		}
		r := &record{
			Name: in.Name, ARN: s.ARN(in.Name, suffix), Description: in.Description, KMSKeyID: in.KMSKeyID,
			Tags: mergeTags(nil, in.Tags), Created: now, LastChanged: now,
		}
		var v *version
		if in.Value != nil {
			v = s.newVersion(r, token, *in.Value, now)
			r.Versions = append(r.Versions, v)
			r.moveStage(StageCurrent, v)
		}
		out = r.ref(v)
		return r.encode()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// createRetry decides a Create on an existing live record: an idempotent
// retry (same token, same value) returns it; anything else fails.
func (s *Store) createRetry(r *record, in CreateInput, token string) (*Ref, error) {
	if r.scheduled() {
		return nil, ErrScheduledForDeletion
	}
	if in.Value == nil || in.Token == "" {
		return nil, ErrExists
	}
	v := r.versionByID(token)
	if v == nil {
		return nil, ErrExists
	}
	p, err := s.open(r.ARN, v)
	if err != nil {
		return nil, err
	}
	if !p.equal(*in.Value) {
		return nil, ErrExists
	}
	return r.ref(v), nil
}

func (s *Store) newVersion(r *record, id string, p Payload, now time.Time) *version {
	return &version{ID: id, Created: now, Binary: p.binary(), Ciphertext: s.seal(r.ARN, id, p)}
}

// MaxValueSize is the largest SecretString or SecretBinary in bytes.
const MaxValueSize = 65536

func checkPayload(p *Payload) error {
	if p == nil {
		return nil
	}
	if p.SecretString != nil && p.SecretBinary != nil {
		return &ParamError{Msg: "You can't specify both a binary secret value and a string secret value in the same secret."}
	}
	if len(p.bytes()) > MaxValueSize {
		return &ParamError{Msg: "The secret value exceeds the maximum size of 65536 bytes."}
	}
	return nil
}

// maxTags is the most tags a secret may carry.
const maxTags = 50

func checkTags(tags []Tag) error {
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return &ParamError{Msg: "Tag keys must be 1-128 characters and tag values at most 256 characters."}
		}
	}
	return nil
}

// mergeTags returns old with tags added or overwritten by key.
func mergeTags(old, tags []Tag) []Tag {
	out := append([]Tag(nil), old...)
next:
	for _, t := range tags {
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value = t.Value
				continue next
			}
		}
		out = append(out, t)
	}
	return out
}

// EnsureGenerated creates the secret name with a generated login
// ({"username":user,"password":random,"engine":engine}) unless it exists,
// and returns its ARN. The embedded SQLite cluster "default" gets its
// secret this way, so a new user can query at once.
func (s *Store) EnsureGenerated(ctx context.Context, name, user, engine, description string) (string, error) {
	if d, err := s.Describe(ctx, name); err == nil {
		return d.ARN, nil
	} else if !errors.Is(err, ErrNotFound) {
		return "", err
	}
	pw := make([]byte, 24)
	_, _ = rand.Read(pw)
	v, _ := json.Marshal(map[string]string{"username": user, "password": base64.RawURLEncoding.EncodeToString(pw), "engine": engine})
	str := string(v)
	ref, err := s.Create(ctx, CreateInput{Name: name, Description: description, Value: &Payload{SecretString: &str}})
	if errors.Is(err, ErrExists) {
		d, derr := s.Describe(ctx, name)
		if derr != nil {
			return "", derr
		}
		return d.ARN, nil
	}
	if err != nil {
		return "", err
	}
	return ref.ARN, nil
}

// EnsureDefault creates, unless it exists, the secret "default" of the
// embedded SQLite cluster "default" (which ignores its login), and
// returns its ARN. The server calls it at start and the admin CLI when it
// opens a data dir, so a new user can query at once.
func (s *Store) EnsureDefault(ctx context.Context) (string, error) {
	return s.EnsureGenerated(ctx, "default", "sqlgate", "sqlite",
		"Credentials for the embedded SQLite cluster \"default\" (SQLite ignores them).")
}

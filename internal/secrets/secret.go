package secrets

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Tag is a secret tag.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// Secret is a secret's metadata, never its values.
type Secret struct {
	Name        string
	ARN         string
	Description string
	KMSKeyID    string
	Tags        []Tag
	Created     time.Time
	LastChanged time.Time
	// LastAccessed is the UTC date of the last GetValue; zero if never.
	LastAccessed time.Time
	// DeletedDate is when DeleteSecret was called; zero if not scheduled.
	DeletedDate time.Time
	// DeletionDate is when a scheduled secret will be purged.
	DeletionDate time.Time
	Versions     []VersionInfo // creation order
	// Policy is the resource policy document; "" when there is none.
	Policy string
	// Rotation is the rotation configuration and state; nil when rotation
	// was never configured.
	Rotation *Rotation
}

// VersionInfo describes one version of a secret.
type VersionInfo struct {
	ID           string
	Stages       []string
	Created      time.Time
	LastAccessed time.Time // zero if never
}

// VersionIDsToStages maps every labeled version id to its stages (unlabeled,
// deprecated versions are left out, as in DescribeSecret).
func (s *Secret) VersionIDsToStages() map[string][]string {
	m := make(map[string][]string, len(s.Versions))
	for _, v := range s.Versions {
		if len(v.Stages) > 0 {
			m[v.ID] = v.Stages
		}
	}
	return m
}

// Scheduled reports whether the secret is marked for deletion.
func (s *Secret) Scheduled() bool { return !s.DeletionDate.IsZero() }

func (r *record) secret() *Secret {
	out := &Secret{
		Name: r.Name, ARN: r.ARN, Description: r.Description, KMSKeyID: r.KMSKeyID,
		Tags: slices.Clone(r.Tags), Created: r.Created, LastChanged: r.LastChanged,
		LastAccessed: deref(r.LastAccessed), DeletedDate: deref(r.DeletedAt), DeletionDate: deref(r.DeletionDate),
		Policy: r.Policy,
	}
	if r.Rotation != nil {
		rot := *r.Rotation
		out.Rotation = &rot
	}
	for _, v := range r.Versions {
		out.Versions = append(out.Versions, VersionInfo{
			ID: v.ID, Stages: slices.Clone(v.Stages), Created: v.Created, LastAccessed: deref(v.LastAccessed),
		})
	}
	return out
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// Payload is a secret value: SecretString or SecretBinary, never both. It
// redacts itself when formatted or logged.
type Payload struct {
	SecretString *string
	SecretBinary []byte
}

func (p Payload) bytes() []byte {
	if p.SecretString != nil {
		return []byte(*p.SecretString)
	}
	return p.SecretBinary
}

func (p Payload) binary() bool { return p.SecretString == nil }

// equal compares two payloads in constant time (per length).
func (p Payload) equal(q Payload) bool {
	return p.binary() == q.binary() && subtle.ConstantTimeCompare(p.bytes(), q.bytes()) == 1
}

// String redacts the value.
func (p Payload) String() string { return "[REDACTED]" }

// GoString redacts the value.
func (p Payload) GoString() string { return "secrets.Payload{[REDACTED]}" }

// LogValue redacts the value.
func (p Payload) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// Value is a decrypted secret version, as GetSecretValue returns it.
type Value struct {
	ARN       string
	Name      string
	VersionID string
	Stages    []string
	Created   time.Time
	Payload
}

// String prints the identity of the value, never the value.
func (v Value) String() string {
	return fmt.Sprintf("secrets.Value{ARN:%s VersionID:%s [REDACTED]}", v.ARN, v.VersionID)
}

// GoString is String.
func (v Value) GoString() string { return v.String() }

// LogValue logs the identity of the value, never the value.
func (v Value) LogValue() slog.Value {
	return slog.GroupValue(slog.String("arn", v.ARN), slog.String("version", v.VersionID))
}

// Ref identifies the secret (and version) a write produced.
type Ref struct {
	ARN       string
	Name      string
	VersionID string   // empty when no version was written
	Stages    []string // stages of VersionID
}

func (r *record) ref(v *version) *Ref {
	ref := &Ref{ARN: r.ARN, Name: r.Name}
	if v != nil {
		ref.VersionID, ref.Stages = v.ID, slices.Clone(v.Stages)
	}
	return ref
}

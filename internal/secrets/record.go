package secrets

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/arn"
)

// record is the stored form of a secret (JSON in state namespace
// "secrets", key = name). Values are only ever present sealed.
type record struct {
	Name         string     `json:"name"`
	ARN          string     `json:"arn"`
	Description  string     `json:"description,omitempty"`
	KMSKeyID     string     `json:"kmsKeyId,omitempty"`
	Tags         []Tag      `json:"tags,omitempty"`
	Created      time.Time  `json:"created"`
	LastChanged  time.Time  `json:"lastChanged"`
	LastAccessed *time.Time `json:"lastAccessed,omitempty"`
	DeletedAt    *time.Time `json:"deletedAt,omitempty"`    // when DeleteSecret was called
	DeletionDate *time.Time `json:"deletionDate,omitempty"` // when it will be purged
	Versions     []*version `json:"versions,omitempty"`     // creation order
	Policy       string     `json:"policy,omitempty"`       // resource policy document
	Rotation     *Rotation  `json:"rotation,omitempty"`
}

type version struct {
	ID           string     `json:"id"`
	Stages       []string   `json:"stages,omitempty"`
	Created      time.Time  `json:"created"`
	LastAccessed *time.Time `json:"lastAccessed,omitempty"`
	Binary       bool       `json:"binary,omitempty"`
	Ciphertext   []byte     `json:"ct"`
}

func decodeRecord(b []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode secret record: %w", err)
	}
	return &r, nil
}

func (r *record) encode() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode secret record: %w", err)
	}
	return b, nil
}

func (r *record) scheduled() bool { return r.DeletionDate != nil }

func (r *record) expired(now time.Time) bool {
	return r.DeletionDate != nil && !now.Before(*r.DeletionDate)
}

func (r *record) versionByID(id string) *version {
	for _, v := range r.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

func (r *record) versionByStage(stage string) *version {
	for _, v := range r.Versions {
		if slices.Contains(v.Stages, stage) {
			return v
		}
	}
	return nil
}

// moveStage attaches stage to v only, detaching it from every other
// version. Moving AWSCURRENT demotes the old current version to AWSPREVIOUS.
func (r *record) moveStage(stage string, v *version) {
	for _, o := range r.Versions {
		if o == v || !slices.Contains(o.Stages, stage) {
			continue
		}
		o.Stages = slices.DeleteFunc(o.Stages, func(s string) bool { return s == stage })
		if stage == StageCurrent {
			r.moveStage(StagePrevious, o)
		}
	}
	if !slices.Contains(v.Stages, stage) {
		v.Stages = append(v.Stages, stage)
	}
}

// prune drops the oldest unlabeled versions older than a day while the
// secret holds more than maxVersions.
func (r *record) prune(now time.Time) {
	for i := 0; len(r.Versions) > maxVersions && i < len(r.Versions); {
		v := r.Versions[i]
		if len(v.Stages) == 0 && now.Sub(v.Created) > 24*time.Hour {
			r.Versions = slices.Delete(r.Versions, i, i+1)
			continue
		}
		i++
	}
}

// candidate is one way to read a SecretId: the state key to look at and
// the test the stored ARN must pass.
type candidate struct {
	name  string
	match func(arn string) bool
}

func matchAny(string) bool { return true }

// candidates interprets id as a name, a full ARN (NAME-XXXXXX) or a partial
// ARN (no suffix). A name that itself ends in "-XXXXXX" makes a full ARN
// ambiguous, so both readings are tried, full first.
func (s *Store) candidates(id string) []candidate {
	if !arn.IsARN(id) {
		return []candidate{{name: id, match: matchAny}}
	}
	a, err := arn.Parse(id)
	if err != nil || a.Service != "secretsmanager" || a.Region != s.region || a.Account != s.account {
		return nil
	}
	res, ok := strings.CutPrefix(a.Resource, "secret:")
	if !ok || res == "" {
		return nil
	}
	var out []candidate
	if n := len(res) - 7; n > 0 && res[n] == '-' && isSuffix(res[n+1:]) {
		out = append(out, candidate{name: res[:n], match: func(got string) bool { return got == id }})
	}
	out = append(out, candidate{name: res, match: func(got string) bool {
		return len(got) == len(id)+7 && strings.HasPrefix(got, id+"-")
	}})
	return out
}

func isSuffix(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(suffixAlphabet, rune(s[i])) {
			return false
		}
	}
	return true
}

// ValidName reports whether name is a valid secret name: 1–512 characters
// from A–Z a–z 0–9 / _ + = . @ -.
func ValidName(name string) bool {
	if name == "" || len(name) > 512 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("/_+=.@-", c) >= 0) {
			return false
		}
	}
	return true
}

// day truncates t to its UTC date, the granularity of LastAccessedDate.
func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

package endpoints

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/state"
)

// State-store namespaces. API keys are stored as the SHA-256 of their
// value, plus the value sealed by the secret barrier when the Store has a
// Sealer (keys created before that have no sealed value).
const (
	nsKeys  = "endpoints.apikeys" // key ID → KeyRecord
	nsPlans = "endpoints.plans"   // plan ID → PlanRecord
	nsUsage = "endpoints.usage"   // "<key ID>/<YYYY-MM-DD>" → decimal count
)

// Errors of the key and plan store.
var (
	ErrKeyNotFound  = errors.New("api key not found")
	ErrPlanNotFound = errors.New("usage plan not found")
	ErrExists       = errors.New("already exists")
	// ErrInvalid wraps a refused value (name, key value, quota …).
	ErrInvalid = errors.New("invalid")
	// ErrDeclared refuses a change to a key or plan declared in the config.
	ErrDeclared = errors.New("declared in the config file")
)

// KeyRecord is a stored API key: its hash and, when sealed, its value.
type KeyRecord struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	SHA256      string            `json:"sha256"`
	Created     time.Time         `json:"created"`
	Updated     time.Time         `json:"updated,omitzero"`
	Revoked     *time.Time        `json:"revoked,omitempty"` // disabled since
	Plans       []string          `json:"plans,omitempty"`   // plan IDs
	Description string            `json:"description,omitempty"`
	CustomerID  string            `json:"customerId,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	// Sealed is the value sealed by the Store's Sealer; nil for keys
	// created before values were kept.
	Sealed []byte `json:"sealed,omitempty"`
	// Config marks a key declared in the config file (never stored).
	Config bool `json:"-"`
}

// Enabled reports whether the key is accepted.
func (k *KeyRecord) Enabled() bool { return k.Revoked == nil }

// SetEnabled enables the key, or disables it from now on.
func (k *KeyRecord) SetEnabled(on bool, now time.Time) {
	switch {
	case on:
		k.Revoked = nil
	case k.Revoked == nil:
		k.Revoked = &now
	}
}

// ValidKeyName reports whether s can name an API key.
func ValidKeyName(s string) bool { return keyName.MatchString(s) }

// DayUsage is one key's request count on one UTC day.
type DayUsage struct {
	Day   string // YYYY-MM-DD
	Count int64
}

// Sealer seals API key values at rest (the secret barrier).
type Sealer interface {
	Seal(plaintext, aad []byte) []byte
	Open(ciphertext, aad []byte) ([]byte, error)
}

// Store manages API keys, usage plans and usage counts in the state store.
// The CLI uses it offline; the server reads keys and plans at (re)load
// and on every change any node makes.
type Store struct {
	st state.Store
	// Sealer keeps key values (nil = values are not kept).
	Sealer Sealer
	// Now is the clock (nil = time.Now).
	Now func() time.Time

	mu sync.Mutex // guards following fields
	// The plans and keys declared in the config; keys may be bound to the
	// declared plans as well as to stored ones.
	cfgPlans []config.UsagePlan
	cfgKeys  []config.APIKey
}

// SetDeclared sets the plans and keys declared in the config.
func (s *Store) SetDeclared(plans []config.UsagePlan, keys []config.APIKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfgPlans, s.cfgKeys = plans, keys
}

func (s *Store) declared() ([]config.UsagePlan, []config.APIKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfgPlans, s.cfgKeys
}

// NewStore returns a Store over st.
func NewStore(st state.Store) *Store { return &Store{st: st} }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// HashKey returns the SHA-256 of an API key value, as stored.
func HashKey(value string) [32]byte { return sha256.Sum256([]byte(value)) }

var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_ .-]{0,127}$`)

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n characters of keyAlphabet from crypto/rand
// (rejection sampling, so every character is uniform).
func randomString(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:])
		for _, c := range buf {
			if c < 248 && len(out) < n { // 248 = 4·62
				out = append(out, keyAlphabet[int(c)%len(keyAlphabet)])
			}
		}
	}
	return string(out)
}

// KeySpec describes a key to create.
type KeySpec struct {
	Name, Description, CustomerID string
	// Value is the key's value; "" generates 40 random characters.
	Value    string
	Disabled bool
	Tags     map[string]string
}

// CreateKey creates an enabled key named name and returns it with its
// value.
func (s *Store) CreateKey(ctx context.Context, name string) (*KeyRecord, string, error) {
	return s.NewKey(ctx, KeySpec{Name: name})
}

// NewKey creates a key. Names and values are unique: a second key with
// either is ErrExists.
func (s *Store) NewKey(ctx context.Context, spec KeySpec) (*KeyRecord, string, error) {
	if !keyName.MatchString(spec.Name) {
		return nil, "", fmt.Errorf("%w: api key name %q (letters, digits, space, '.', '-' and '_', at most 128)", ErrInvalid, spec.Name)
	}
	value := spec.Value
	if value == "" {
		value = randomString(40)
	} else if len(value) < 20 || len(value) > 128 {
		return nil, "", fmt.Errorf("%w: an API key value has 20 to 128 characters", ErrInvalid)
	}
	h := HashKey(value)
	hexHash := hex.EncodeToString(h[:])
	keys, err := s.AllKeys(ctx)
	if err != nil {
		return nil, "", err
	}
	for _, k := range keys {
		if k.Name == spec.Name {
			return nil, "", fmt.Errorf("api key %q: %w", spec.Name, ErrExists)
		}
		if k.SHA256 == hexHash {
			return nil, "", fmt.Errorf("api key value: %w", ErrExists)
		}
	}
	now := s.now()
	rec := &KeyRecord{ID: "k" + strings.ToLower(randomString(9)), Name: spec.Name, SHA256: hexHash, Created: now,
		Updated: now, Description: spec.Description, CustomerID: spec.CustomerID, Tags: spec.Tags}
	if spec.Disabled {
		rec.Revoked = &now
	}
	if s.Sealer != nil {
		rec.Sealed = s.Sealer.Seal([]byte(value), sealAAD(rec.ID))
	}
	if err := s.putKey(ctx, rec); err != nil {
		return nil, "", err
	}
	return rec, value, nil
}

func sealAAD(keyID string) []byte { return []byte("apikey\x00" + keyID) }

// KeyValue returns a key's value when it was kept sealed; ok is false for
// keys created before values were kept, and for declared keys.
func (s *Store) KeyValue(k *KeyRecord) (value string, ok bool, err error) {
	if len(k.Sealed) == 0 || s.Sealer == nil {
		return "", false, nil
	}
	b, err := s.Sealer.Open(k.Sealed, sealAAD(k.ID))
	if err != nil {
		return "", false, fmt.Errorf("open api key %s: %w", k.ID, err)
	}
	return string(b), true, nil
}

func (s *Store) putKey(ctx context.Context, rec *KeyRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := s.st.Put(ctx, nsKeys, rec.ID, b); err != nil {
		return fmt.Errorf("store api key: %w", err)
	}
	return nil
}

// UpdateKey applies fn to the stored key id in one atomic update.
func (s *Store) UpdateKey(ctx context.Context, id string, fn func(k *KeyRecord) error) (*KeyRecord, error) {
	if s.configKey(id) != nil {
		return nil, fmt.Errorf("api key %s: %w", id, ErrDeclared)
	}
	var out KeyRecord
	err := s.st.Update(ctx, nsKeys, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%q: %w", id, ErrKeyNotFound)
		}
		out = KeyRecord{}
		if err := json.Unmarshal(old, &out); err != nil {
			return nil, fmt.Errorf("decode api key %s: %w", id, err)
		}
		if err := fn(&out); err != nil {
			return nil, err
		}
		out.Updated = s.now()
		return json.Marshal(&out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteKey deletes a stored key; its usage history stays.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	if s.configKey(id) != nil {
		return fmt.Errorf("api key %s: %w", id, ErrDeclared)
	}
	return s.st.Update(ctx, nsKeys, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%q: %w", id, ErrKeyNotFound)
		}
		return nil, nil
	})
}

// ConfigKeyID is the ID under which a declared key appears.
func ConfigKeyID(name string) string { return "config." + name }

func (s *Store) configKey(id string) *config.APIKey {
	_, keys := s.declared()
	for i := range keys {
		if ConfigKeyID(keys[i].Name) == id {
			return &keys[i]
		}
	}
	return nil
}

// AllKeys returns the declared keys (Config set) and the stored ones.
func (s *Store) AllKeys(ctx context.Context) ([]*KeyRecord, error) {
	stored, err := s.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	_, ckeys := s.declared()
	out := make([]*KeyRecord, 0, len(ckeys)+len(stored))
	for _, c := range ckeys {
		r := &KeyRecord{ID: ConfigKeyID(c.Name), Name: c.Name, SHA256: c.ValueSHA256, Plans: c.UsagePlans, Config: true}
		if c.Value != "" {
			h := HashKey(c.Value)
			r.SHA256 = hex.EncodeToString(h[:])
		}
		out = append(out, r)
	}
	return append(out, stored...), nil
}

// GetKey returns the key with this ID, declared or stored.
func (s *Store) GetKey(ctx context.Context, id string) (*KeyRecord, error) {
	keys, err := s.AllKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%q: %w", id, ErrKeyNotFound)
}

// ListKeys returns every stored key, revoked ones included, by name.
func (s *Store) ListKeys(ctx context.Context) ([]*KeyRecord, error) {
	kvs, err := s.st.List(ctx, nsKeys, "")
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	out := make([]*KeyRecord, 0, len(kvs))
	for _, kv := range kvs {
		var r KeyRecord
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			return nil, fmt.Errorf("decode api key %s: %w", kv.Key, err)
		}
		out = append(out, &r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// FindKey returns the stored key with this name or ID.
func (s *Store) FindKey(ctx context.Context, nameOrID string) (*KeyRecord, error) {
	keys, err := s.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Name == nameOrID || k.ID == nameOrID {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%q: %w", nameOrID, ErrKeyNotFound)
}

// RevokeKey disables a key; its usage history stays.
func (s *Store) RevokeKey(ctx context.Context, nameOrID string) (*KeyRecord, error) {
	k, err := s.FindKey(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	return s.UpdateKey(ctx, k.ID, func(k *KeyRecord) error {
		if k.Revoked == nil {
			now := s.now()
			k.Revoked = &now
		}
		return nil
	})
}

// Usage returns a key's request counts per day, oldest first.
func (s *Store) Usage(ctx context.Context, keyID string) ([]DayUsage, error) {
	kvs, err := s.st.List(ctx, nsUsage, keyID+"/")
	if err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	out := make([]DayUsage, 0, len(kvs))
	for _, kv := range kvs {
		n, _ := strconv.ParseInt(string(kv.Value), 10, 64)
		out = append(out, DayUsage{Day: strings.TrimPrefix(kv.Key, keyID+"/"), Count: n})
	}
	return out, nil
}

// addUsage adds n to a key's count of day: one state write per key and
// day per flush, not per request.
func (s *Store) addUsage(ctx context.Context, keyID, day string, n int64) error {
	return s.st.Update(ctx, nsUsage, keyID+"/"+day, func(old []byte) ([]byte, error) {
		cur, _ := strconv.ParseInt(string(old), 10, 64)
		return strconv.AppendInt(nil, cur+n, 10), nil
	})
}

// usageFrom returns a key's stored counts of the days from day from
// (YYYY-MM-DD) on.
func (s *Store) usageFrom(ctx context.Context, keyID, from string) (map[string]int64, error) {
	days, err := s.Usage(ctx, keyID)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, d := range days {
		if d.Day >= from {
			out[d.Day] = d.Count
		}
	}
	return out, nil
}

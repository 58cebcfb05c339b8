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
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/state"
)

// State-store namespaces. API keys are stored as the SHA-256 of their
// value: the value itself is shown once, at creation, and never stored.
const (
	nsKeys  = "endpoints.apikeys" // key ID → KeyRecord
	nsPlans = "endpoints.plans"   // plan name → config.UsagePlan
	nsUsage = "endpoints.usage"   // "<key ID>/<YYYY-MM-DD>" → decimal count
)

// Errors of the key and plan store.
var (
	ErrKeyNotFound  = errors.New("api key not found")
	ErrPlanNotFound = errors.New("usage plan not found")
	ErrExists       = errors.New("already exists")
)

// KeyRecord is a stored API key: never its value.
type KeyRecord struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	SHA256  string     `json:"sha256"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked,omitempty"`
	Plans   []string   `json:"plans,omitempty"`
}

// DayUsage is one key's request count on one UTC day.
type DayUsage struct {
	Day   string // YYYY-MM-DD
	Count int64
}

// Store manages API keys, usage plans and usage counts in the state store.
// The CLI uses it offline; the server reads keys and plans at (re)load.
type Store struct {
	st state.Store
	// ConfigPlans are the plans declared in the config; keys may be bound
	// to them as well as to stored plans.
	ConfigPlans []config.UsagePlan
	// Now is the clock (nil = time.Now).
	Now func() time.Time
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

var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

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

// CreateKey creates a key named name and returns it with its value,
// which is not stored and cannot be shown again.
func (s *Store) CreateKey(ctx context.Context, name string) (*KeyRecord, string, error) {
	if !keyName.MatchString(name) {
		return nil, "", fmt.Errorf("invalid key name %q (letters, digits, '-' and '_', at most 64)", name)
	}
	if _, err := s.FindKey(ctx, name); err == nil {
		return nil, "", fmt.Errorf("api key %q: %w", name, ErrExists)
	}
	value := randomString(40)
	h := HashKey(value)
	rec := &KeyRecord{ID: "k" + strings.ToLower(randomString(11)), Name: name, SHA256: hex.EncodeToString(h[:]), Created: s.now()}
	if err := s.putKey(ctx, rec); err != nil {
		return nil, "", err
	}
	return rec, value, nil
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

// RevokeKey marks a key revoked; its usage history stays.
func (s *Store) RevokeKey(ctx context.Context, nameOrID string) (*KeyRecord, error) {
	k, err := s.FindKey(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	if k.Revoked == nil {
		now := s.now()
		k.Revoked = &now
	}
	return k, s.putKey(ctx, k)
}

// CreatePlan stores a usage plan.
func (s *Store) CreatePlan(ctx context.Context, p config.UsagePlan) error {
	if err := config.ValidateUsagePlan("usage plan "+p.Name, p, nil); err != nil {
		return err
	}
	if _, err := s.st.Get(ctx, nsPlans, p.Name); err == nil || s.configPlan(p.Name) != nil {
		return fmt.Errorf("usage plan %q: %w", p.Name, ErrExists)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.st.Put(ctx, nsPlans, p.Name, b)
}

// DeletePlan deletes a stored usage plan.
func (s *Store) DeletePlan(ctx context.Context, name string) error {
	if _, err := s.st.Get(ctx, nsPlans, name); err != nil {
		return fmt.Errorf("%q: %w", name, ErrPlanNotFound)
	}
	return s.st.Delete(ctx, nsPlans, name)
}

// ListPlans returns the stored plans and the config's, by name.
func (s *Store) ListPlans(ctx context.Context) ([]config.UsagePlan, error) {
	kvs, err := s.st.List(ctx, nsPlans, "")
	if err != nil {
		return nil, fmt.Errorf("list usage plans: %w", err)
	}
	out := slices.Clone(s.ConfigPlans)
	for _, kv := range kvs {
		var p config.UsagePlan
		if err := json.Unmarshal(kv.Value, &p); err != nil {
			return nil, fmt.Errorf("decode usage plan %s: %w", kv.Key, err)
		}
		if s.configPlan(p.Name) == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *Store) configPlan(name string) *config.UsagePlan {
	for i := range s.ConfigPlans {
		if s.ConfigPlans[i].Name == name {
			return &s.ConfigPlans[i]
		}
	}
	return nil
}

// Bind binds a stored key to a plan; Unbind (bind=false) removes it.
func (s *Store) Bind(ctx context.Context, planName, key string, bind bool) (*KeyRecord, error) {
	plans, err := s.ListPlans(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(plans, func(p config.UsagePlan) bool { return p.Name == planName }) {
		return nil, fmt.Errorf("%q: %w", planName, ErrPlanNotFound)
	}
	k, err := s.FindKey(ctx, key)
	if err != nil {
		return nil, err
	}
	has := slices.Contains(k.Plans, planName)
	switch {
	case bind && !has:
		k.Plans = append(k.Plans, planName)
	case !bind && has:
		k.Plans = slices.DeleteFunc(k.Plans, func(p string) bool { return p == planName })
	default:
		return k, nil
	}
	return k, s.putKey(ctx, k)
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

// usageSince sums a key's counts for keys with this prefix of days
// ("2026-11" = the month) and returns the count of day too.
func (s *Store) usageSince(ctx context.Context, keyID, month, day string) (monthN, dayN int64, err error) {
	kvs, err := s.st.List(ctx, nsUsage, keyID+"/"+month)
	if err != nil {
		return 0, 0, fmt.Errorf("read usage: %w", err)
	}
	for _, kv := range kvs {
		n, _ := strconv.ParseInt(string(kv.Value), 10, 64)
		monthN += n
		if kv.Key == keyID+"/"+day {
			dayN = n
		}
	}
	return monthN, dayN, nil
}

// apiKey is a key the server accepts.
type apiKey struct {
	id, name string
	hash     [32]byte
	plans    []string
}

// plan is a compiled usage plan.
type plan struct {
	cfg       config.UsagePlan
	burst     float64
	endpoints map[string]bool // nil = all
}

func compilePlan(p config.UsagePlan) *plan {
	cp := &plan{cfg: p, burst: float64(p.Burst)}
	if cp.burst == 0 {
		cp.burst = max(1, p.Rate)
	}
	if len(p.Endpoints) > 0 {
		cp.endpoints = map[string]bool{}
		for _, e := range p.Endpoints {
			cp.endpoints[e] = true
		}
	}
	return cp
}

// loadKeys returns the enabled keys and all plans: stored and declared in
// cfg (a declared plan or key wins over a stored one of the same name).
func (s *Store) loadKeys(ctx context.Context, cfg *config.Config) ([]*apiKey, map[string]*plan, error) {
	s.ConfigPlans = cfg.UsagePlans
	cplans, err := s.ListPlans(ctx)
	if err != nil {
		return nil, nil, err
	}
	plans := map[string]*plan{}
	for _, p := range cplans {
		plans[p.Name] = compilePlan(p)
	}
	var keys []*apiKey
	declared := map[string]bool{}
	for _, k := range cfg.APIKeys {
		ak := &apiKey{id: "config." + k.Name, name: k.Name, plans: k.UsagePlans}
		if k.Value != "" {
			ak.hash = HashKey(k.Value)
		} else {
			_, _ = hex.Decode(ak.hash[:], []byte(k.ValueSHA256)) // validated
		}
		keys = append(keys, ak)
		declared[k.Name] = true
	}
	stored, err := s.ListKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range stored {
		if r.Revoked != nil || declared[r.Name] {
			continue
		}
		ak := &apiKey{id: r.ID, name: r.Name, plans: r.Plans}
		if b, err := hex.DecodeString(r.SHA256); err != nil || len(b) != 32 {
			return nil, nil, fmt.Errorf("api key %s: bad stored hash", r.ID)
		}
		_, _ = hex.Decode(ak.hash[:], []byte(r.SHA256))
		keys = append(keys, ak)
	}
	return keys, plans, nil
}

// planFor returns the plan limiting key on endpoint: nil when the key is
// bound to no plan (no limits); ok is false when the key is bound to
// plans but none covers the endpoint (the key is not for this API).
func (k *apiKey) planFor(endpoint string, plans map[string]*plan) (p *plan, ok bool) {
	if len(k.plans) == 0 {
		return nil, true
	}
	for _, name := range k.plans {
		if p := plans[name]; p != nil && (p.endpoints == nil || p.endpoints[endpoint]) {
			return p, true
		}
	}
	return nil, false
}

// Package secrets is sqlgate's secret store, modelled on AWS Secrets Manager:
// named, versioned secrets with staging labels (AWSCURRENT, AWSPREVIOUS, …),
// tags and scheduled deletion, persisted in a state.Store with every value
// sealed by a barrier.Barrier (AES-256-GCM, associated data = ARN + "\x00" +
// VersionId, so a ciphertext cannot be moved to another secret or version).
//
// Every change is one state.Store.Update of the secret's record, so
// concurrent writers never lose versions. Secret values never appear in
// errors or logs; Value and Payload redact themselves when printed.
package secrets

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/state"
)

// namespace is the state.Store namespace of secret records, keyed by name.
const namespace = "secrets"

// Staging labels with a meaning of their own.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

// maxVersions is how many versions a secret keeps before unlabeled versions
// older than a day are dropped, as Secrets Manager does.
const maxVersions = 100

// Options configures a Store. Zero fields take the defaults.
type Options struct {
	Region  string           // default "us-east-1"
	Account string           // default "000000000000"
	Now     func() time.Time // clock; default time.Now
}

// Store is the secret store. It is safe for concurrent use.
type Store struct {
	st      state.Store
	b       *barrier.Barrier
	region  string
	account string
	now     func() time.Time

	cmu   sync.Mutex // guards following fields
	cache map[string]*record
	plain map[plainKey]string // decrypted string versions (openCached)
	gen   uint64              // bumped by every write
}

// New returns a Store over st whose values are sealed by b.
func New(st state.Store, b *barrier.Barrier, opt Options) *Store {
	s := &Store{st: st, b: b, region: opt.Region, account: opt.Account, now: opt.Now, cache: map[string]*record{}, plain: map[plainKey]string{}}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.account == "" {
		s.account = "000000000000"
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Region returns the region in the store's ARNs.
func (s *Store) Region() string { return s.region }

// Account returns the account in the store's ARNs.
func (s *Store) Account() string { return s.account }

func (s *Store) clock() time.Time { return s.now().UTC().Round(time.Millisecond) }

// errNoKey tells mutate that a lookup candidate does not match.
var errNoKey = errors.New("no such key")

// mutate applies fn to the secret identified by id in one state.Update and
// returns the record as written (nil when fn deleted it by returning
// del=true). A secret past its deletion date is purged and reported as
// ErrNotFound.
func (s *Store) mutate(ctx context.Context, id string, fn func(r *record, now time.Time) (del bool, err error)) (*record, error) {
	for _, c := range s.candidates(id) {
		var out *record
		purged := false
		err := s.update(ctx, c.name, func(old []byte) ([]byte, error) {
			if old == nil {
				return nil, errNoKey
			}
			r, err := decodeRecord(old)
			if err != nil {
				return nil, err
			}
			if !c.match(r.ARN) {
				return nil, errNoKey
			}
			now := s.clock()
			if r.expired(now) {
				purged = true
				return nil, nil
			}
			del, err := fn(r, now)
			if err != nil {
				return nil, err
			}
			if del {
				out = r
				return nil, nil
			}
			out = r
			return r.encode()
		})
		switch {
		case errors.Is(err, errNoKey):
			continue
		case err != nil:
			return nil, err
		case purged:
			return nil, ErrNotFound
		}
		return out, nil
	}
	return nil, ErrNotFound
}

// load returns the record of the secret identified by id, purging it if
// its deletion date has passed.
func (s *Store) load(ctx context.Context, id string) (*record, error) {
	for _, c := range s.candidates(id) {
		r, err := s.get(ctx, c.name)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !c.match(r.ARN) {
			continue
		}
		if r.expired(s.clock()) {
			return nil, s.purge(ctx, r.Name)
		}
		return r, nil
	}
	return nil, ErrNotFound
}

// get returns the decoded record stored under name, from the cache when
// possible. Cached records are shared: callers must not modify them.
func (s *Store) get(ctx context.Context, name string) (*record, error) {
	s.cmu.Lock()
	r, ok := s.cache[name]
	s.cmu.Unlock()
	if ok {
		return r, nil
	}
	gen := s.generation()
	raw, err := s.st.Get(ctx, namespace, name)
	if err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("load secret: %w", err)
	}
	if r, err = decodeRecord(raw); err != nil {
		return nil, err
	}
	s.cmu.Lock()
	if s.gen == gen { // no write since we read
		if len(s.cache) >= maxCached {
			clear(s.cache)
		}
		s.cache[name] = r
	}
	s.cmu.Unlock()
	return r, nil
}

// maxCached bounds the record cache.
const maxCached = 4096

func (s *Store) generation() uint64 {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.gen
}

// update is state.Update on a secret record; it drops the cache.
func (s *Store) update(ctx context.Context, name string, fn func(old []byte) ([]byte, error)) error {
	defer s.Invalidate()
	return s.st.Update(ctx, namespace, name, fn)
}

// Invalidate empties the record cache (after a write, or when another node
// reports one through the state store's watcher).
func (s *Store) Invalidate() {
	s.cmu.Lock()
	s.gen++
	clear(s.cache)
	clear(s.plain)
	s.cmu.Unlock()
}

// Run keeps the cache coherent with writes by other processes sharing the
// state store, when it can report them; else it returns at once.
func (s *Store) Run(ctx context.Context) error {
	w, ok := s.st.(interface {
		Watch(ctx context.Context, fn func(ns, key string)) error
	})
	if !ok {
		return nil
	}
	return w.Watch(ctx, func(ns, _ string) {
		if ns == namespace || ns == "" || ns == "*" {
			s.Invalidate()
		}
	})
}

// purge deletes name if it is still past its deletion date and returns
// ErrNotFound (or the storage error).
func (s *Store) purge(ctx context.Context, name string) error {
	err := s.update(ctx, name, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, errNoKey
		}
		r, err := decodeRecord(old)
		if err != nil {
			return nil, err
		}
		if !r.expired(s.clock()) {
			return old, nil // restored meanwhile
		}
		return nil, nil
	})
	if err != nil && !errors.Is(err, errNoKey) {
		return fmt.Errorf("purge secret: %w", err)
	}
	return ErrNotFound
}

// seal encrypts p for version vid of the secret arn.
func (s *Store) seal(arn, vid string, p Payload) []byte {
	return s.b.Seal(p.bytes(), aad(arn, vid))
}

// open decrypts version v of the secret arn.
func (s *Store) open(arn string, v *version) (Payload, error) {
	pt, err := s.b.Open(v.Ciphertext, aad(arn, v.ID))
	if err != nil {
		return Payload{}, fmt.Errorf("%w: version %s: %w", ErrDecrypt, v.ID, err)
	}
	if v.Binary {
		return Payload{SecretBinary: pt}, nil
	}
	str := string(pt)
	return Payload{SecretString: &str}, nil
}

func aad(arn, vid string) []byte { return []byte(arn + "\x00" + vid) }

// NewVersionID returns a random UUID (version 4), the form Secrets Manager
// and the SDKs use for version ids and ClientRequestTokens.
func NewVersionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

const suffixAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewSuffix returns the random 6-character ARN suffix of a new secret.
func NewSuffix() string {
	out := make([]byte, 0, 6)
	var buf [16]byte
	for len(out) < 6 {
		_, _ = rand.Read(buf[:])
		for _, c := range buf {
			// 248 = 4*62: reject the rest so every character is equally likely.
			if c < 248 && len(out) < 6 {
				out = append(out, suffixAlphabet[int(c)%len(suffixAlphabet)])
			}
		}
	}
	return string(out)
}

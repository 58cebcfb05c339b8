// Package barrier encrypts values at rest with AES-256-GCM under a keyring of
// numbered key terms, in the manner of Vault's barrier: every ciphertext
// starts with the term of the key that sealed it, so a new key can become
// active while values sealed under older terms stay readable.
//
// Ciphertext layout: term (4 bytes, big-endian) | nonce (12) | GCM sealed data.
package barrier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// KeySize is the size of every key in bytes (AES-256).
const KeySize = 32

const (
	termSize  = 4
	nonceSize = 12
	overhead  = termSize + nonceSize + 16 // + GCM tag
)

var (
	// ErrUnknownTerm is returned by Open for a ciphertext sealed under a key
	// term the keyring does not hold.
	ErrUnknownTerm = errors.New("barrier: unknown key term")
	// ErrDecrypt is returned by Open for a ciphertext that is truncated,
	// corrupted, or sealed with different associated data.
	ErrDecrypt = errors.New("barrier: message authentication failed")
)

// Barrier seals and opens values. It is safe for concurrent use.
type Barrier struct {
	aeads  map[uint32]cipher.AEAD
	active uint32
}

// New returns a Barrier over keys (term → 32-byte key) that seals with the
// key of term active. Term 0 is reserved.
func New(keys map[uint32][]byte, active uint32) (*Barrier, error) {
	if _, ok := keys[active]; !ok {
		return nil, fmt.Errorf("barrier: active term %d not in keyring", active)
	}
	b := &Barrier{aeads: make(map[uint32]cipher.AEAD, len(keys)), active: active}
	for term, key := range keys {
		if term == 0 {
			return nil, errors.New("barrier: key term 0 is reserved")
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("barrier: key term %d is %d bytes, want %d", term, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("barrier: key term %d: %w", term, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("barrier: key term %d: %w", term, err)
		}
		b.aeads[term] = aead
	}
	return b, nil
}

// ActiveTerm returns the term Seal uses.
func (b *Barrier) ActiveTerm() uint32 { return b.active }

// Seal encrypts plaintext bound to aad with the active key and a fresh
// random nonce.
func (b *Barrier) Seal(plaintext, aad []byte) []byte {
	out := make([]byte, termSize+nonceSize, overhead+len(plaintext))
	binary.BigEndian.PutUint32(out, b.active)
	// crypto/rand.Read never fails on supported platforms (Go ≥1.24 aborts
	// the process instead of returning an error).
	_, _ = rand.Read(out[termSize:])
	return b.aeads[b.active].Seal(out, out[termSize:], plaintext, aad)
}

// Open decrypts a ciphertext made by Seal under any term of the keyring and
// checks that it was sealed with aad.
func (b *Barrier) Open(ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) < overhead {
		return nil, ErrDecrypt
	}
	term := binary.BigEndian.Uint32(ciphertext)
	aead, ok := b.aeads[term]
	if !ok {
		return nil, fmt.Errorf("%w %d", ErrUnknownTerm, term)
	}
	nonce := ciphertext[termSize : termSize+nonceSize]
	pt, err := aead.Open(nil, nonce, ciphertext[termSize+nonceSize:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// Term returns the key term a ciphertext was sealed under, so callers can
// find values to re-seal after a rotation.
func Term(ciphertext []byte) (uint32, bool) {
	if len(ciphertext) < overhead {
		return 0, false
	}
	return binary.BigEndian.Uint32(ciphertext), true
}

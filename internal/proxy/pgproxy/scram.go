package pgproxy

// Server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it,
// https://www.postgresql.org/docs/current/sasl-authentication.html. The
// proxy knows the secret's plaintext password and derives the SCRAM keys
// from it with a per-process salt, caching them per password so that a
// connection storm costs HMACs, not PBKDF2 runs. Channel binding
// (SCRAM-SHA-256-PLUS) is not offered.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
)

const (
	scramMechanism  = "SCRAM-SHA-256"
	scramIterations = 4096
)

var errSCRAM = errors.New("SCRAM exchange failed")

// scramKeys are the stored and server keys of one password.
type scramKeys struct {
	storedKey, serverKey []byte
}

// scramCache derives and caches keys per password (keyed by its SHA-256).
type scramCache struct {
	salt []byte
	mu   sync.Mutex // guards keys
	keys map[[32]byte]scramKeys
}

func newSCRAMCache() *scramCache {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	return &scramCache{salt: salt, keys: map[[32]byte]scramKeys{}}
}

func (c *scramCache) get(password string) scramKeys {
	h := sha256.Sum256([]byte(password))
	c.mu.Lock()
	k, ok := c.keys[h]
	c.mu.Unlock()
	if ok {
		return k
	}
	salted := pbkdf2SHA256([]byte(password), c.salt, scramIterations)
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	stored := sha256.Sum256(clientKey)
	k = scramKeys{storedKey: stored[:], serverKey: hmacSHA256(salted, []byte("Server Key"))}
	c.mu.Lock()
	if len(c.keys) > 10000 {
		c.keys = map[[32]byte]scramKeys{}
	}
	c.keys[h] = k
	c.mu.Unlock()
	return k
}

// pbkdf2SHA256 is PBKDF2 (RFC 8018 §5.2) with HMAC-SHA-256 and a 32-byte
// output: one block.
func pbkdf2SHA256(password, salt []byte, iter int) []byte {
	mac := hmac.New(sha256.New, password)
	mac.Write(salt)
	mac.Write(binary.BigEndian.AppendUint32(nil, 1))
	u := mac.Sum(nil)
	out := append([]byte(nil), u...)
	for i := 1; i < iter; i++ {
		mac.Reset()
		mac.Write(u)
		u = mac.Sum(u[:0])
		for j := range out {
			out[j] ^= u[j]
		}
	}
	return out
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// scramServer is one exchange. keys holds the keys of every password the
// client may log in with (during a rotation's grace window, two); the
// proof is checked against each and matched names the one it proves.
type scramServer struct {
	keys            []scramKeys
	matched         int
	salt            []byte
	clientFirstBare string
	serverFirst     string
	nonce           string
	gs2Header       string
}

// first handles client-first-message "n,,n=user,r=cnonce" and returns
// server-first-message.
func (s *scramServer) first(msg []byte) (string, error) {
	m := string(msg)
	var gs2 string
	switch {
	case strings.HasPrefix(m, "n,"), strings.HasPrefix(m, "y,"):
	default:
		return "", errSCRAM // "p=": channel binding not offered
	}
	i := strings.IndexByte(m[2:], ',')
	if i < 0 {
		return "", errSCRAM
	}
	gs2, s.clientFirstBare = m[:2+i+1], m[2+i+1:]
	s.gs2Header = gs2
	var cnonce string
	for _, attr := range strings.Split(s.clientFirstBare, ",") {
		if strings.HasPrefix(attr, "r=") {
			cnonce = attr[2:]
		}
	}
	if cnonce == "" {
		return "", errSCRAM
	}
	nb := make([]byte, 18)
	_, _ = rand.Read(nb)
	s.nonce = cnonce + base64.StdEncoding.EncodeToString(nb)
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(s.salt) + ",i=4096"
	return s.serverFirst, nil
}

// final checks client-final-message "c=biws,r=nonce,p=proof" and returns
// server-final-message "v=signature".
func (s *scramServer) final(msg []byte) (string, error) {
	m := string(msg)
	i := strings.LastIndex(m, ",p=")
	if i < 0 {
		return "", errSCRAM
	}
	withoutProof, proofB64 := m[:i], m[i+3:]
	var chanBinding, nonce string
	for _, attr := range strings.Split(withoutProof, ",") {
		switch {
		case strings.HasPrefix(attr, "c="):
			chanBinding = attr[2:]
		case strings.HasPrefix(attr, "r="):
			nonce = attr[2:]
		}
	}
	if chanBinding != base64.StdEncoding.EncodeToString([]byte(s.gs2Header)) || nonce != s.nonce {
		return "", errSCRAM
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return "", errSCRAM
	}
	authMsg := []byte(s.clientFirstBare + "," + s.serverFirst + "," + withoutProof)
	for i, k := range s.keys {
		if proves(proof, k, authMsg) {
			s.matched = i
			return "v=" + base64.StdEncoding.EncodeToString(hmacSHA256(k.serverKey, authMsg)), nil
		}
	}
	return "", errSCRAM
}

// proves reports whether proof is a ClientProof for the password of k.
func proves(proof []byte, k scramKeys, authMsg []byte) bool {
	clientSig := hmacSHA256(k.storedKey, authMsg)
	clientKey := make([]byte, sha256.Size)
	for j := range clientKey {
		clientKey[j] = proof[j] ^ clientSig[j]
	}
	got := sha256.Sum256(clientKey)
	return subtle.ConstantTimeCompare(got[:], k.storedKey) == 1
}

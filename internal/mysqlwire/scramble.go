package mysqlwire

// Password scrambles of the auth plugins:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods_native_password_authentication.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// NewScramble returns 20 random bytes that are valid in a NUL-terminated
// string (clients treat the scramble as one).
func NewScramble() []byte {
	b := make([]byte, ScrambleLen)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] &= 0x7f // like mysqld: 7-bit, never NUL or '$'
		if b[i] == 0 || b[i] == '$' {
			b[i]++
		}
	}
	return b
}

// ScrambleNative is mysql_native_password:
// SHA1(pw) XOR SHA1(scramble || SHA1(SHA1(pw))). Empty password → empty.
func ScrambleNative(scramble []byte, password string) []byte {
	if password == "" {
		return nil
	}
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	m := sha1.New()
	m.Write(scramble[:ScrambleLen])
	m.Write(h2[:])
	out := m.Sum(nil)
	for i := range out {
		out[i] ^= h1[i]
	}
	return out
}

// ScrambleSHA2 is the caching_sha2_password fast-auth response:
// SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) || scramble).
func ScrambleSHA2(scramble []byte, password string) []byte {
	if password == "" {
		return nil
	}
	h1 := sha256.Sum256([]byte(password))
	h2 := sha256.Sum256(h1[:])
	m := sha256.New()
	m.Write(h2[:])
	m.Write(scramble[:ScrambleLen])
	out := m.Sum(nil)
	for i := range out {
		out[i] ^= h1[i]
	}
	return out
}

// SHA2Digest is the value caching_sha2_password keeps in its cache:
// SHA256(SHA256(pw)).
func SHA2Digest(password string) [32]byte {
	h1 := sha256.Sum256([]byte(password))
	return sha256.Sum256(h1[:])
}

// CheckScramble compares a client's response with the one computed from
// the password, in constant time.
func CheckScramble(got, want []byte) bool {
	return subtle.ConstantTimeCompare(got, want) == 1
}

// XORPassword is (pw || NUL) XOR scramble (repeated), the plaintext of the
// RSA full-auth exchange.
func XORPassword(password []byte, scramble []byte) []byte {
	out := make([]byte, len(password)+1)
	copy(out, password)
	for i := range out {
		out[i] ^= scramble[i%len(scramble)]
	}
	return out
}

// EncryptPassword is the client side of the RSA exchange (backend leg).
func EncryptPassword(password string, scramble []byte, pubPEM []byte) ([]byte, error) {
	block, _ := pem.Decode(pubPEM)
	if block == nil {
		return nil, errors.New("parse server public key: no PEM block")
	}
	pk, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse server public key: %w", err)
	}
	rsaKey, ok := pk.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("parse server public key: not RSA")
	}
	return rsa.EncryptOAEP(sha1.New(), rand.Reader, rsaKey, XORPassword([]byte(password), scramble), nil)
}

// DecryptPassword is the server side of the RSA exchange.
func DecryptPassword(key *rsa.PrivateKey, ciphertext, scramble []byte) (string, error) {
	plain, err := rsa.DecryptOAEP(sha1.New(), rand.Reader, key, ciphertext, nil)
	if err != nil {
		return "", fmt.Errorf("decrypt password: %w", err)
	}
	for i := range plain {
		plain[i] ^= scramble[i%len(scramble)]
	}
	if n := len(plain); n > 0 && plain[n-1] == 0 {
		plain = plain[:n-1]
	}
	return string(plain), nil
}

// PublicKeyPEM encodes key's public half as the PEM MySQL clients expect.
func PublicKeyPEM(key *rsa.PrivateKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		panic("BUG: marshal RSA public key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

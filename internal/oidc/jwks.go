package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
)

// KeySet is a parsed JWKS: key id → public key.
type KeySet map[string]crypto.PublicKey

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// ParseJWKS decodes {"keys":[…]}: RSA keys and EC P-256 keys with a kid;
// other keys (and encryption keys) are skipped.
func ParseJWKS(b []byte) (KeySet, error) {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	ks := KeySet{}
	for _, k := range doc.Keys {
		if k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pk, err := k.publicKey()
		if err != nil {
			return nil, fmt.Errorf("jwks: key %q: %w", k.Kid, err)
		}
		if pk != nil {
			ks[k.Kid] = pk
		}
	}
	return ks, nil
}

func (k jwk) publicKey() (crypto.PublicKey, error) {
	dec := base64.RawURLEncoding.DecodeString
	switch k.Kty {
	case "RSA":
		n, err1 := dec(k.N)
		e, err2 := dec(k.E)
		if err := errors.Join(err1, err2); err != nil || len(n) < 256 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("invalid RSA key (2048 bits at least)")
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 {
			return nil, errors.New("invalid RSA exponent")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
	case "EC":
		if k.Crv != "P-256" {
			return nil, nil
		}
		x, err1 := dec(k.X)
		y, err2 := dec(k.Y)
		if errors.Join(err1, err2) != nil || len(x) != 32 || len(y) != 32 {
			return nil, errors.New("invalid P-256 key")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, fmt.Errorf("invalid P-256 key: %w", err)
		}
		return pub, nil
	}
	return nil, nil
}

// Expect is what a token must satisfy.
type Expect struct {
	Issuer    string   // exact "iss"
	Audiences []string // "aud" must contain one of these
	Now       time.Time
	Leeway    time.Duration // clock skew allowed on exp/nbf
}

// Verify checks t's signature with the key its kid names in ks (RS256
// with an RSA key, ES256 with a P-256 key; anything else is refused) and
// then its claims against e.
func Verify(t *Token, ks KeySet, e Expect) error {
	if t.Header.Alg != "RS256" && t.Header.Alg != "ES256" {
		return fmt.Errorf("%w: unsupported signing algorithm %q", ErrInvalidToken, t.Header.Alg)
	}
	key, ok := ks[t.Header.Kid]
	if !ok {
		return fmt.Errorf("%w: no key with kid %q in the issuer's JWKS", ErrInvalidToken, t.Header.Kid)
	}
	if err := verifySig(t, key); err != nil {
		return err
	}
	c := t.Claims
	if c.Iss != e.Issuer {
		return fmt.Errorf("%w: issuer %q is not %q", ErrInvalidToken, c.Iss, e.Issuer)
	}
	if !slices.ContainsFunc(c.Aud, func(a string) bool { return slices.Contains(e.Audiences, a) }) {
		return fmt.Errorf("%w: Incorrect token audience", ErrInvalidToken)
	}
	if c.Exp == nil {
		return fmt.Errorf("%w: no exp claim", ErrInvalidToken)
	}
	if exp := time.Unix(*c.Exp, 0); !e.Now.Before(exp.Add(e.Leeway)) {
		return fmt.Errorf("%w: Token expired: current date/time %s must be before the expiration date/time %s",
			ErrExpired, e.Now.UTC().Format(time.RFC3339), exp.UTC().Format(time.RFC3339))
	}
	if c.Nbf != nil && e.Now.Add(e.Leeway).Before(time.Unix(*c.Nbf, 0)) {
		return fmt.Errorf("%w: token not valid yet (nbf)", ErrInvalidToken)
	}
	return nil
}

func verifySig(t *Token, key crypto.PublicKey) error {
	h := sha256.Sum256(t.SigningInput)
	switch k := key.(type) {
	case *rsa.PublicKey:
		if t.Header.Alg == "RS256" && rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], t.Signature) == nil {
			return nil
		}
	case *ecdsa.PublicKey:
		if t.Header.Alg == "ES256" && len(t.Signature) == 64 {
			r, s := new(big.Int).SetBytes(t.Signature[:32]), new(big.Int).SetBytes(t.Signature[32:])
			if ecdsa.Verify(k, h[:], r, s) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: signature verification failed", ErrInvalidToken)
}

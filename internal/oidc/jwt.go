// Package oidc verifies OpenID Connect ID tokens (JWTs) for STS
// AssumeRoleWithWebIdentity: compact JWS decoding, JWKS parsing, RS256
// and ES256 signatures and the iss/aud/exp/nbf claims, with the standard
// library only. Nothing here trusts a token's header beyond choosing the
// key: the algorithm must be one the key type allows, and "none" never is.
package oidc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Errors callers map to AWS's codes.
var (
	// ErrInvalidToken: malformed, unsigned, badly signed, wrong audience
	// or issuer, unknown key (InvalidIdentityToken).
	ErrInvalidToken = errors.New("oidc: invalid identity token")
	// ErrExpired: past exp (ExpiredTokenException).
	ErrExpired = errors.New("oidc: token expired")
)

// MaxTokenBytes bounds a token (AWS: 20000 characters).
const MaxTokenBytes = 20000

// Header is the JOSE header of a token.
type Header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// Claims are the registered claims sqlgate checks; Raw holds every claim.
type Claims struct {
	Iss string   `json:"iss"`
	Sub string   `json:"sub"`
	Aud Audience `json:"aud"`
	Exp *int64   `json:"exp"`
	Nbf *int64   `json:"nbf"`
	Iat *int64   `json:"iat"`
}

// Audience is "aud": a string or an array of strings.
type Audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("aud: want a string or an array of strings")
	}
	*a = l
	return nil
}

// Token is a decoded, not yet verified, compact JWS.
type Token struct {
	Header       Header
	Claims       Claims
	SigningInput []byte // header.payload, as signed
	Signature    []byte
}

// Parse decodes a compact JWS (three base64url parts). It checks only the
// form: the signature and claims are checked by Verify.
func Parse(s string) (*Token, error) {
	if len(s) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, MaxTokenBytes)
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not a compact JWS (want three dot-separated parts)", ErrInvalidToken)
	}
	t := &Token{SigningInput: []byte(parts[0] + "." + parts[1])}
	if err := decodePart(parts[0], &t.Header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalidToken, err)
	}
	if err := decodePart(parts[1], &t.Claims); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrInvalidToken, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrInvalidToken, err)
	}
	t.Signature = sig
	return t, nil
}

// decodePart decodes one base64url JSON object.
func decodePart(p string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

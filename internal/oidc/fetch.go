package oidc

import (
	"context"
	"crypto/sha1" //nolint:gosec // IAM OIDC thumbprints are SHA-1 by definition
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrFetch: the issuer's keys could not be obtained (IDPCommunicationError).
var ErrFetch = errors.New("oidc: cannot fetch the issuer's keys")

// Keys obtains the signing keys of issuers: from a local JWKS file when
// one is configured for the issuer (air-gapped sites), else from the
// issuer's discovery document (ISSUER/.well-known/openid-configuration →
// jwks_uri). Fetched key sets are cached for TTL; an unknown kid refetches
// at most once per MinRefresh.
type Keys struct {
	Client     *http.Client
	Files      map[string]string // issuer URL → JWKS file
	TTL        time.Duration     // 0 = 1h
	MinRefresh time.Duration     // 0 = 10s

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	ks      KeySet
	fetched time.Time
}

// Get returns the key set for issuer. thumbprints, when not empty, are
// the SHA-1 fingerprints (hex) one of which a certificate of the JWKS
// host's TLS chain must have, as IAM OIDC providers declare them. kid is
// the key the token names: a cached set without it is refetched.
func (k *Keys) Get(ctx context.Context, issuer, kid string, thumbprints []string) (KeySet, error) {
	if f, ok := k.Files[issuer]; ok {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFetch, err)
		}
		return ParseJWKS(b)
	}
	k.mu.Lock()
	c, ok := k.cache[issuer]
	k.mu.Unlock()
	ttl, minRefresh := or(k.TTL, time.Hour), or(k.MinRefresh, 10*time.Second)
	age := time.Since(c.fetched)
	if ok && age < ttl && (c.ks[kid] != nil || age < minRefresh) {
		return c.ks, nil
	}
	ks, err := k.fetch(ctx, issuer, thumbprints)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.cache == nil {
		k.cache = map[string]cached{}
	}
	k.cache[issuer] = cached{ks: ks, fetched: time.Now()}
	k.mu.Unlock()
	return ks, nil
}

func or(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (k *Keys) fetch(ctx context.Context, issuer string, thumbprints []string) (KeySet, error) {
	var disc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	b, err := k.get(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", thumbprints)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &disc); err != nil || !strings.HasPrefix(disc.JWKSURI, "https://") {
		return nil, fmt.Errorf("%w: discovery document of %s has no https jwks_uri", ErrFetch, issuer)
	}
	if b, err = k.get(ctx, disc.JWKSURI, thumbprints); err != nil {
		return nil, err
	}
	ks, err := ParseJWKS(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	return ks, nil
}

func (k *Keys) get(ctx context.Context, url string, thumbprints []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	client := k.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: HTTP %d", ErrFetch, url, resp.StatusCode)
	}
	if len(thumbprints) > 0 && !chainMatches(resp.TLS, thumbprints) {
		return nil, fmt.Errorf("%w: no certificate of %s matches the provider's thumbprints", ErrFetch, req.URL.Host)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// chainMatches reports whether a certificate the server presented has one
// of the SHA-1 thumbprints.
func chainMatches(cs *tls.ConnectionState, thumbprints []string) bool {
	if cs == nil {
		return false
	}
	for _, c := range cs.PeerCertificates {
		sum := sha1.Sum(c.Raw) //nolint:gosec
		if slices.ContainsFunc(thumbprints, func(t string) bool { return strings.EqualFold(t, hex.EncodeToString(sum[:])) }) {
			return true
		}
	}
	return false
}

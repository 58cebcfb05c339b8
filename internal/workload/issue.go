package workload

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
)

// Issue checks a bootstrap token presented from peer and returns fresh
// credentials for the workload's role: an AssumeRole by the workload
// type's service principal with session name = workload name, the
// workload's session tags and source identity, evaluated against the
// role's current trust policy.
func (s *Store) Issue(ctx context.Context, name, token string, peer netip.Addr) (*Workload, identity.Credentials, error) {
	w, err := s.Authenticate(ctx, name, token, peer)
	if err != nil {
		return nil, identity.Credentials{}, err
	}
	creds, err := s.assume(ctx, w, peer)
	return w, creds, err
}

// IssueBound returns credentials for a workload a listener is bound to by
// configuration (IMDS): no token, but the peer must be in the workload's
// allowed networks.
func (s *Store) IssueBound(ctx context.Context, name string, peer netip.Addr) (*Workload, identity.Credentials, error) {
	w, err := s.Get(ctx, name)
	if err != nil {
		return nil, identity.Credentials{}, err
	}
	if !allowed(w.AllowCIDRs, peer) {
		return nil, identity.Credentials{}, fmt.Errorf("%w: %s", ErrForbiddenNetwork, peer)
	}
	creds, err := s.assume(ctx, w, peer)
	return w, creds, err
}

// Authenticate returns the workload name if token is its bootstrap
// token (compared in constant time) and peer is in its allowed networks.
func (s *Store) Authenticate(ctx context.Context, name, token string, peer netip.Addr) (*Workload, error) {
	w, err := s.Get(ctx, name)
	if errors.Is(err, ErrNotFound) {
		// Spend the same work as a real comparison.
		tokenMatches("", token)
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	if !tokenMatches(w.TokenHash, token) {
		return nil, ErrUnauthorized
	}
	if !allowed(w.AllowCIDRs, peer) {
		return nil, fmt.Errorf("%w: %s", ErrForbiddenNetwork, peer)
	}
	return w, nil
}

// tokenMatches compares SHA-256(token) with the stored hex hash in
// constant time.
func tokenMatches(storedHex, token string) bool {
	want, err := hex.DecodeString(storedHex)
	got, _ := hex.DecodeString(hashToken(token))
	if err != nil || len(want) != len(got) {
		want = make([]byte, len(got))
		subtle.ConstantTimeCompare(want, got)
		return false
	}
	return subtle.ConstantTimeCompare(want, got) == 1
}

func (s *Store) assume(ctx context.Context, w *Workload, peer netip.Addr) (identity.Credentials, error) {
	lifetime := w.Lifetime
	if lifetime == 0 {
		lifetime = s.Lifetime
	}
	if lifetime == 0 {
		lifetime = time.Hour
	}
	role, err := s.roles.GetRole(ctx, w.RoleName)
	if err != nil || role.ARN != w.RoleARN {
		return identity.Credentials{}, fmt.Errorf("%w: role %s of workload %s is gone", ErrUntrusted, w.RoleARN, w.Name)
	}
	if max := time.Duration(role.MaxSessionDuration) * time.Second; lifetime > max {
		lifetime = max
	}
	in := identity.AssumeInput{RoleARN: w.RoleARN, SessionName: w.Name, Duration: lifetime,
		SourceIdentity: w.SourceIdentity, Tags: w.Tags}
	ctx = iam.WithRequestInfo(ctx, iam.RequestInfo{SourceIP: peer.Unmap().String()})
	_, creds, err := s.roles.AssumeRole(ctx, servicePrincipal(w.Service()), in)
	if errors.Is(err, identity.ErrAssumeDenied) {
		return creds, fmt.Errorf("%w: %w", ErrUntrusted, err)
	}
	return creds, err
}

// ContainerCredentials is the JSON body the AWS SDKs' container
// credential provider reads.
type ContainerCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
	RoleArn         string `json:"RoleArn"`
}

// containerJSON renders credentials as the container endpoint returns them.
func containerJSON(w *Workload, c identity.Credentials) []byte {
	b, _ := json.Marshal(ContainerCredentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		Token: c.SessionToken, Expiration: c.Expiration.UTC().Format(time.RFC3339), RoleArn: w.RoleARN})
	return b
}

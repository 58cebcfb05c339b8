// Package workload registers workloads — a function, instance, task or pod
// bound to an IAM role — and issues them short-lived credentials for that
// role, so that nothing running next to sqlgate needs a static access key.
//
// A workload is stored in the state store with a bootstrap token (only its
// SHA-256 is kept), the networks it may present the token from, and
// optional session tags and source identity. Its role must trust the
// service principal of the workload's type (lambda.amazonaws.com, …):
// that is checked when the workload is created and again, through
// AssumeRole's trust evaluation, on every credential request.
package workload

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/state"
)

// ns is the state-store namespace of workloads.
const ns = "workloads"

// Errors callers branch on.
var (
	ErrNotFound     = errors.New("workload: not found")
	ErrExists       = errors.New("workload: already exists")
	ErrInvalidInput = errors.New("workload: invalid input")
	// ErrUntrusted: the role does not trust the workload type's service.
	ErrUntrusted = errors.New("workload: role does not trust the workload's service principal")
	// ErrUnauthorized: unknown workload or wrong bootstrap token (the two
	// are not told apart).
	ErrUnauthorized = errors.New("workload: invalid bootstrap token")
	// ErrForbiddenNetwork: the token came from outside the allowed networks.
	ErrForbiddenNetwork = errors.New("workload: source address not allowed")
)

// Services maps a workload type to the service principal its role must trust.
var Services = map[string]string{
	"lambda": "lambda.amazonaws.com",
	"ec2":    "ec2.amazonaws.com",
	"ecs":    "ecs-tasks.amazonaws.com",
	"eks":    "pods.eks.amazonaws.com",
}

// DefaultCIDRs are the allowed source networks when none are given: the
// workload runs on the same host as the credential listener.
var DefaultCIDRs = []string{"127.0.0.0/8", "::1/128"}

// Workload is one registered workload.
type Workload struct {
	Name     string `json:"name"`
	Type     string `json:"type"` // lambda | ec2 | ecs | eks
	RoleName string `json:"role_name"`
	RoleARN  string `json:"role_arn"`
	// AllowCIDRs are the networks the bootstrap token is accepted from.
	AllowCIDRs []string `json:"allow_cidrs"`
	// Tags become session tags of every credential issued; SourceIdentity
	// the session's source identity.
	Tags           identity.Tags `json:"tags,omitempty"`
	SourceIdentity string        `json:"source_identity,omitempty"`
	// Lifetime of issued credentials; 0 = the store's default.
	Lifetime     time.Duration `json:"lifetime,omitempty"`
	TokenHash    string        `json:"token_hash"` // hex SHA-256 of the bootstrap token
	CreateDate   time.Time     `json:"create_date"`
	TokenRotated time.Time     `json:"token_rotated"`
}

// Service returns the service principal of the workload's type.
func (w *Workload) Service() string { return Services[w.Type] }

// Roles is what the workload store needs of the identity store.
type Roles interface {
	GetRole(ctx context.Context, name string) (*identity.Role, error)
	AssumeRole(ctx context.Context, caller *iam.Principal, in identity.AssumeInput) (*identity.Session, identity.Credentials, error)
}

// Store keeps workloads and issues their credentials.
type Store struct {
	st    state.Store
	roles Roles
	// Lifetime is the default credential lifetime (0 = 1 hour).
	Lifetime time.Duration
	now      func() time.Time
}

// New returns a Store over st, issuing credentials through roles.
func New(st state.Store, roles Roles) *Store {
	return &Store{st: st, roles: roles, now: time.Now}
}

var nameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// CreateInput describes a new workload.
type CreateInput struct {
	Name, Type, Role string
	AllowCIDRs       []string
	Tags             identity.Tags
	SourceIdentity   string
	Lifetime         time.Duration
}

// Create registers a workload and returns it with its bootstrap token,
// which is not stored and cannot be shown again.
func (s *Store) Create(ctx context.Context, in CreateInput) (*Workload, string, error) {
	if !nameRE.MatchString(in.Name) {
		return nil, "", fmt.Errorf("%w: name must be 2-64 of letters, digits and +=,.@_-", ErrInvalidInput)
	}
	if in.Type == "" {
		in.Type = "lambda"
	}
	svc, ok := Services[in.Type]
	if !ok {
		return nil, "", fmt.Errorf("%w: type must be lambda, ec2, ecs or eks", ErrInvalidInput)
	}
	cidrs, err := normCIDRs(in.AllowCIDRs)
	if err != nil {
		return nil, "", err
	}
	role, err := s.roles.GetRole(ctx, roleName(in.Role))
	if err != nil {
		return nil, "", fmt.Errorf("%w: role %s", ErrNotFound, in.Role)
	}
	if in.Lifetime != 0 && (in.Lifetime < 15*time.Minute || in.Lifetime > time.Duration(role.MaxSessionDuration)*time.Second) {
		return nil, "", fmt.Errorf("%w: lifetime must be between 15m and the role's MaxSessionDuration (%ds)", ErrInvalidInput, role.MaxSessionDuration)
	}
	if err := Trusts(ctx, role, svc, in.Name); err != nil {
		return nil, "", err
	}
	token := newToken()
	now := s.now().UTC().Truncate(time.Second)
	w := &Workload{Name: in.Name, Type: in.Type, RoleName: role.RoleName, RoleARN: role.ARN, AllowCIDRs: cidrs,
		Tags: in.Tags, SourceIdentity: in.SourceIdentity, Lifetime: in.Lifetime,
		TokenHash: hashToken(token), CreateDate: now, TokenRotated: now}
	err = s.st.Update(ctx, ns, w.Name, func(old []byte) ([]byte, error) {
		if old != nil {
			return nil, ErrExists
		}
		return json.Marshal(w)
	})
	if err != nil {
		return nil, "", err
	}
	return w, token, nil
}

// roleName accepts a role name or ARN.
func roleName(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }

// Trusts evaluates role's trust policy for sts:AssumeRole by the service
// principal svc, as AWS does when the service assumes the role.
func Trusts(ctx context.Context, role *identity.Role, svc, session string) error {
	trust, err := iam.ParseTrustPolicy([]byte(role.TrustPolicy))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	p := servicePrincipal(svc)
	keys := iam.RequestContext(ctx, p, role.ARN, time.Now())
	keys["sts:rolesessionname"] = []string{session}
	req := &iam.Request{Action: "sts:AssumeRole", Resource: role.ARN, Principal: p, Context: keys}
	if iam.Evaluate([]*iam.Policy{trust}, req).Decision != iam.DecisionAllow {
		return fmt.Errorf("%w: role %s does not allow %s to sts:AssumeRole", ErrUntrusted, role.RoleName, svc)
	}
	return nil
}

func servicePrincipal(svc string) *iam.Principal {
	return &iam.Principal{ARN: svc, Service: svc}
}

// Get returns a workload or ErrNotFound.
func (s *Store) Get(ctx context.Context, name string) (*Workload, error) {
	b, err := s.st.Get(ctx, ns, name)
	if errors.Is(err, state.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	w := &Workload{}
	if err := json.Unmarshal(b, w); err != nil {
		return nil, fmt.Errorf("decode workload %s: %w", name, err)
	}
	return w, nil
}

// List returns every workload, by name.
func (s *Store) List(ctx context.Context) ([]*Workload, error) {
	kvs, err := s.st.List(ctx, ns, "")
	if err != nil {
		return nil, err
	}
	out := make([]*Workload, 0, len(kvs))
	for _, kv := range kvs {
		w := &Workload{}
		if err := json.Unmarshal(kv.Value, w); err != nil {
			return nil, fmt.Errorf("decode workload %s: %w", kv.Key, err)
		}
		out = append(out, w)
	}
	return out, nil
}

// RotateToken replaces the bootstrap token; the old one stops working at
// once. It returns the new token.
func (s *Store) RotateToken(ctx context.Context, name string) (string, error) {
	token := newToken()
	err := s.st.Update(ctx, ns, name, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		w := &Workload{}
		if err := json.Unmarshal(old, w); err != nil {
			return nil, err
		}
		w.TokenHash, w.TokenRotated = hashToken(token), s.now().UTC().Truncate(time.Second)
		return json.Marshal(w)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// Delete removes a workload: its token stops working at once.
func (s *Store) Delete(ctx context.Context, name string) error {
	return s.st.Update(ctx, ns, name, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		return nil, nil
	})
}

// newToken returns a fresh bootstrap token: 32 random bytes, base64url.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "sgwt_" + base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// normCIDRs parses and canonicalises networks (a bare address is a /32
// or /128); none means DefaultCIDRs.
func normCIDRs(in []string) ([]string, error) {
	if len(in) == 0 {
		return DefaultCIDRs, nil
	}
	out := make([]string, 0, len(in))
	for _, c := range in {
		c = strings.TrimSpace(c)
		if a, err := netip.ParseAddr(c); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()).String())
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("%w: allowed network %q: %v", ErrInvalidInput, c, err)
		}
		out = append(out, p.Masked().String())
	}
	return out, nil
}

// allowed reports whether peer is inside one of cidrs.
func allowed(cidrs []string, peer netip.Addr) bool {
	peer = peer.Unmap()
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Contains(peer) {
			return true
		}
	}
	return false
}

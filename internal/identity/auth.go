package identity

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
)

// cache holds what authentication and authorization read on every request:
// access key → principal, secret and compiled policies. Any write through
// this Store, or a change reported by the state store's watcher (another
// node), empties it, so a deleted key stops working at once.
type cache struct {
	keys map[string]*cachedKey
}

type cachedKey struct {
	principal *iam.Principal
	secret    string
	token     string
	expires   time.Time // zero for long-term keys
	policies  []*iam.Policy
	// session are the session policies of a role session: when there
	// are any, a request must be allowed by them as well.
	session   []*iam.Policy
	inactive  bool
	decisions decisions
}

func newCache() *cache { return &cache{keys: map[string]*cachedKey{}} }

// invalidate empties the cache.
func (s *Store) invalidate() {
	s.mu.Lock()
	s.cache = newCache()
	s.mu.Unlock()
}

// watcher is implemented by state stores that report writes (also other
// processes'); see state.Watcher.
type watcher interface {
	Watch(ctx context.Context, fn func(ns, key string)) error
}

// Run keeps the cache coherent with other nodes until ctx is done, when
// the state store can report writes. It returns at once otherwise.
func (s *Store) Run(ctx context.Context, log *slog.Logger) {
	w, ok := s.st.(watcher)
	if !ok {
		return
	}
	err := w.Watch(ctx, func(ns, _ string) {
		switch ns {
		case nsUsers, nsKeys, nsRoles, nsGroups, nsPolicies, nsSessions, "", "*":
			s.invalidate()
		}
	})
	if err != nil && ctx.Err() == nil {
		log.Error("identity cache watcher stopped; caching disabled", "err", err)
		s.mu.Lock()
		s.cache = nil
		s.mu.Unlock()
	}
}

// lookup returns the cached entry for akid, loading it on a miss.
func (s *Store) lookup(ctx context.Context, akid string) (*cachedKey, error) {
	s.mu.Lock()
	c := s.cache
	var e *cachedKey
	if c != nil {
		e = c.keys[akid]
	}
	s.mu.Unlock()
	if e != nil {
		if !e.expires.IsZero() && !s.now().Before(e.expires) {
			return nil, ErrExpiredToken
		}
		return e, nil
	}
	e, err := s.load(ctx, akid)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.cache == c && c != nil { // not invalidated meanwhile
		c.keys[akid] = e
	}
	s.mu.Unlock()
	return e, nil
}

func (s *Store) load(ctx context.Context, akid string) (*cachedKey, error) {
	if k, secret, err := s.loadKey(ctx, akid); err == nil {
		u, err := s.GetUser(ctx, k.UserName)
		if err != nil {
			return nil, err
		}
		pols, err := s.userPolicies(ctx, u)
		if err != nil {
			return nil, err
		}
		p := &iam.Principal{ARN: u.ARN, AccessKeyID: akid, UserName: u.UserName, UserID: u.UserID, Tags: u.Tags.Map()}
		return &cachedKey{principal: p, secret: secret, policies: pols, inactive: k.Status != "Active"}, nil
	} else if !isNotFound(err) {
		return nil, err
	}
	r, secret, token, err := s.loadSession(ctx, akid)
	if err != nil {
		return nil, err
	}
	role, err := s.GetRole(ctx, r.RoleName)
	if err != nil || role.RoleID != r.RoleID {
		return nil, ErrNotFound // the role was deleted (or re-created) since
	}
	pols, err := s.compile(ctx, role.InlinePolicies, role.AttachedPolicies)
	if err != nil {
		return nil, err
	}
	p := &iam.Principal{ARN: r.AssumedRoleARN, AccessKeyID: akid, UserID: r.RoleID + ":" + r.SessionName, RoleARN: r.RoleARN,
		IssuedAt: r.Issued, SourceIdentity: r.SourceIdentity, Tags: sessionTags(role.Tags, r.Tags)}
	var session []*iam.Policy
	for _, doc := range r.Policies {
		sp, err := iam.Parse([]byte(doc))
		if err != nil {
			return nil, errf(ErrMalformedPolicy, "stored session policy: %v", err)
		}
		session = append(session, sp)
	}
	return &cachedKey{principal: p, secret: secret, token: token, expires: r.Expiration, policies: pols, session: session}, nil
}

// userPolicies compiles the policies of u and of the groups it is a
// member of.
func (s *Store) userPolicies(ctx context.Context, u *User) ([]*iam.Policy, error) {
	pols, err := s.compile(ctx, u.InlinePolicies, u.AttachedPolicies)
	if err != nil {
		return nil, err
	}
	groups, err := s.groupsOf(ctx, u)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		gp, err := s.compile(ctx, g.InlinePolicies, g.AttachedPolicies)
		if err != nil {
			return nil, err
		}
		pols = append(pols, gp...)
	}
	return pols, nil
}

// compile parses inline documents and the default versions of attached
// managed policies. A policy that no longer parses denies nothing and
// allows nothing: it is skipped, and evaluation fails closed.
func (s *Store) compile(ctx context.Context, inline map[string]string, attached []string) ([]*iam.Policy, error) {
	var out []*iam.Policy
	for _, doc := range inline {
		p, err := iam.Parse([]byte(doc))
		if err != nil {
			return nil, errf(ErrMalformedPolicy, "stored inline policy: %v", err)
		}
		out = append(out, p)
	}
	for _, arn := range attached {
		mp, err := s.GetPolicy(ctx, arn)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		p, err := iam.Parse([]byte(mp.defaultDocument()))
		if err != nil {
			return nil, errf(ErrMalformedPolicy, "stored policy %s: %v", arn, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// SecretKey implements sigv4.KeyStore for IAM users and STS sessions:
// the secret and the session token that must accompany it. Inactive keys
// are reported unknown; expired sessions return ErrExpiredToken.
func (s *Store) SecretKey(ctx context.Context, akid string) (string, string, error) {
	e, err := s.lookup(ctx, akid)
	if err != nil {
		return "", "", err
	}
	if e.inactive {
		return "", "", ErrNotFound
	}
	return e.secret, e.token, nil
}

// Principal returns the principal of a verified access key.
func (s *Store) Principal(ctx context.Context, akid string) (*iam.Principal, error) {
	e, err := s.lookup(ctx, akid)
	if err != nil {
		return nil, err
	}
	if e.inactive {
		return nil, ErrNotFound
	}
	// LastUsed bookkeeping: a map check per request; a store write (in
	// its own goroutine, off the request path) once per key and minute.
	if now, due := s.touchDue(akid, time.Minute); due {
		s.uses.Add(1)
		go func() {
			defer s.uses.Done()
			s.writeKeyUse(context.WithoutCancel(ctx), akid, now)
		}()
	}
	if arn := e.principal.RoleARN; arn != "" {
		if now, due := s.touchDue("role:"+arn, roleUseGranularity); due {
			s.uses.Add(1)
			go func() {
				defer s.uses.Done()
				s.writeRoleUse(context.WithoutCancel(ctx), arn, now)
			}()
		}
	}
	return e.principal, nil
}

// Authorizer evaluates the IAM policies of the principal in ctx, together
// with the resource policy in ctx (iam.WithResourcePolicy) when there is
// one. Root principals are allowed everything; everything else is denied
// unless a policy allows it and none denies it. It fails closed on any
// error.
type Authorizer struct{ Store *Store }

var _ iam.Authorizer = Authorizer{}

// Authorize implements iam.Authorizer. A decision that read nothing from
// the request context is cached with the access key (see decisions).
func (a Authorizer) Authorize(ctx context.Context, action, resource string) error {
	p := iam.PrincipalFrom(ctx)
	if p != nil && p.Root {
		return nil
	}
	if p == nil {
		return &iam.AccessDeniedError{PrincipalARN: "anonymous", Action: action, Resource: resource}
	}
	deny := func() error { return &iam.AccessDeniedError{PrincipalARN: p.ARN, Action: action, Resource: resource} }
	e, err := a.Store.lookup(ctx, p.AccessKeyID)
	if err != nil || e.inactive {
		return deny()
	}
	rp := iam.ResourcePolicyFrom(ctx)
	// Only the key's own principal: a context carrying another principal
	// value under the same key id is evaluated afresh.
	cacheable := p == e.principal
	k := decisionKey{action: action, resource: resource, rp: rp}
	if cacheable {
		if allowed, ok := e.decisions.get(k); ok {
			if allowed {
				return nil
			}
			return deny()
		}
	}
	// The request context (some twenty condition keys) is built only if a
	// policy reads a condition key or a policy variable.
	readContext := false
	req := &iam.Request{Action: action, Resource: resource, Principal: p, LazyContext: func() map[string][]string {
		readContext = true
		return iam.RequestContext(ctx, p, resource, a.Store.now())
	}}
	allowed := decide(e, rp, req)
	if cacheable && !readContext {
		e.decisions.put(k, allowed)
	}
	if !allowed {
		return deny()
	}
	return nil
}

// decide evaluates req against e's policies and the resource policy rp.
func decide(e *cachedKey, rp *iam.Policy, req *iam.Request) bool {
	pols := e.policies
	if rp != nil {
		pols = append(pols[:len(pols):len(pols)], rp)
	}
	res := iam.Evaluate(pols, req)
	if res.Decision != iam.DecisionAllow {
		return false
	}
	// Session policies bound what the identity policies grant; an Allow
	// that came from the resource policy itself is not bounded by them.
	viaResource := rp != nil && res.Policy == len(pols)-1
	return len(e.session) == 0 || viaResource || iam.Evaluate(e.session, req).Decision == iam.DecisionAllow
}

// Policies returns the compiled policies of the principal of akid (for
// the policy simulator).
func (s *Store) Policies(ctx context.Context, akid string) ([]*iam.Policy, error) {
	e, err := s.lookup(ctx, akid)
	if err != nil {
		return nil, err
	}
	return e.policies, nil
}

// IsAuthError reports errors that mean "these credentials do not work".
func IsAuthError(err error) bool {
	return isNotFound(err) || errors.Is(err, ErrExpiredToken)
}

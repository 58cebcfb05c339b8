package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
)

// ErrExpiredToken is returned for temporary credentials past their expiry.
var ErrExpiredToken = errors.New("identity: the security token included in the request is expired")

// ErrAssumeDenied is returned when a role's trust policy does not allow the caller.
var ErrAssumeDenied = errors.New("identity: not authorized to assume role")

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// sessionRecord is the stored form of a session: secret and token sealed.
type sessionRecord struct {
	Session
	SealedSecret []byte `json:"sealed_secret"`
	SealedToken  []byte `json:"sealed_token"`
}

// AssumeInput is an AssumeRole request.
type AssumeInput struct {
	RoleARN, SessionName string
	Duration             time.Duration // 0 = 1 hour
	ExternalID           string
	SourceIdentity       string
	Tags                 Tags     // session tags: need sts:TagSession
	TransitiveTagKeys    []string // keys of Tags
	// Policy and PolicyARNs are session policies: the session may do only
	// what the role's policies and these allow.
	Policy     string
	PolicyARNs []string
}

// AssumeRole issues temporary credentials for in.RoleARN to caller, if the
// role's trust policy allows the caller, evaluated with the request
// context of ctx (iam.RequestContext: source IP, transport, … and the
// sts: keys the API put there) plus the role's tags. Session tags need the
// trust policy to allow sts:TagSession, a source identity
// sts:SetSourceIdentity. (The caller's own permissions are checked by the
// API before.)
func (s *Store) AssumeRole(ctx context.Context, caller *iam.Principal, in AssumeInput) (*Session, Credentials, error) {
	return s.assumeAs(ctx, caller, "sts:AssumeRole", nil, in)
}

// assumeAs is AssumeRole for the trust-policy action action (also
// sts:AssumeRoleWithWebIdentity), with extra condition keys.
func (s *Store) assumeAs(ctx context.Context, caller *iam.Principal, action string, extra map[string][]string, in AssumeInput) (*Session, Credentials, error) {
	if !sessionNameRE.MatchString(in.SessionName) {
		return nil, Credentials{}, errf(ErrInvalidInput, "RoleSessionName must be 2-64 of letters, digits and +=,.@_-")
	}
	if err := checkNewTags(in.Tags); err != nil {
		return nil, Credentials{}, err
	}
	name := in.RoleARN[strings.LastIndexByte(in.RoleARN, '/')+1:]
	role, err := s.GetRole(ctx, name)
	if err != nil || role.ARN != in.RoleARN {
		return nil, Credentials{}, errf(ErrNotFound, "role %s", in.RoleARN)
	}
	duration := in.Duration
	if duration == 0 {
		duration = time.Hour
	}
	if duration < 15*time.Minute || duration > time.Duration(role.MaxSessionDuration)*time.Second {
		return nil, Credentials{}, errf(ErrInvalidInput, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if err := s.trusts(ctx, caller, role, in, action, extra); err != nil {
		return nil, Credentials{}, err
	}
	policies, err := s.sessionPolicies(ctx, in)
	if err != nil {
		return nil, Credentials{}, err
	}
	if in, err = s.inheritTags(ctx, caller, in); err != nil {
		return nil, Credentials{}, err
	}
	now := s.clock()
	akid, secret, token := randomID("ASIA", 16), randomSecret(), randomToken()
	sess := &sessionRecord{Session: Session{AccessKeyID: akid, RoleName: role.RoleName, RoleARN: role.ARN, RoleID: role.RoleID,
		SessionName: in.SessionName, AssumedRoleARN: "arn:aws:sts::" + s.account + ":assumed-role/" + role.RoleName + "/" + in.SessionName,
		Expiration: now.Add(duration), CallerARN: caller.ARN, Issued: now, SourceIdentity: in.SourceIdentity,
		Tags: in.Tags, TransitiveTags: in.TransitiveTagKeys, Policies: policies},
		SealedSecret: s.b.Seal([]byte(secret), []byte("sts-secret:"+akid)),
		SealedToken:  s.b.Seal([]byte(token), []byte("sts-token:"+akid))}
	if err := update(ctx, s.st, nsSessions, akid, true, func(*sessionRecord) (*sessionRecord, error) { return sess, nil }); err != nil {
		return nil, Credentials{}, err
	}
	s.pruneSessions(ctx, now)
	return &sess.Session, Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: token, Expiration: sess.Expiration}, nil
}

// trusts evaluates the role's trust policy for action (sts:AssumeRole or
// sts:AssumeRoleWithWebIdentity), and for sts:TagSession and
// sts:SetSourceIdentity when the request uses them, with extra keys.
func (s *Store) trusts(ctx context.Context, caller *iam.Principal, role *Role, in AssumeInput, action string, extra map[string][]string) error {
	trust, err := iam.ParseTrustPolicy([]byte(role.TrustPolicy))
	if err != nil {
		return errf(ErrAssumeDenied, "trust policy: %v", err)
	}
	keys := iam.RequestContext(ctx, caller, role.ARN, s.now())
	for k, v := range AssumeRoleKeys(role.Tags, in) {
		keys[k] = v
	}
	for k, v := range extra {
		keys[k] = v
	}
	actions := []string{action}
	if len(in.Tags) > 0 || len(in.TransitiveTagKeys) > 0 {
		actions = append(actions, "sts:TagSession")
	}
	if in.SourceIdentity != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	for _, a := range actions {
		req := &iam.Request{Action: a, Resource: role.ARN, Principal: caller, Context: keys}
		if iam.Evaluate([]*iam.Policy{trust}, req).Decision != iam.DecisionAllow {
			return ErrAssumeDenied
		}
	}
	return nil
}

// inheritTags adds the transitive session tags of a role session calling
// AssumeRole (role chaining) to the new session, as AWS does; the request
// may not set a tag with the same key.
func (s *Store) inheritTags(ctx context.Context, caller *iam.Principal, in AssumeInput) (AssumeInput, error) {
	if caller.RoleARN == "" || caller.AccessKeyID == "" {
		return in, nil
	}
	prev, err := get[sessionRecord](ctx, s.st, nsSessions, caller.AccessKeyID)
	if err != nil || len(prev.TransitiveTags) == 0 {
		return in, nil
	}
	in.Tags = slices.Clone(in.Tags)
	for _, k := range prev.TransitiveTags {
		i := slices.IndexFunc(prev.Tags, func(t Tag) bool { return strings.EqualFold(t.Key, k) })
		if i < 0 {
			continue
		}
		if slices.ContainsFunc(in.Tags, func(t Tag) bool { return strings.EqualFold(t.Key, k) }) {
			return in, errf(ErrInvalidInput, "One or more of the specified transitive tag keys can't be set because it conflicts with a transitive tag key of the calling session.")
		}
		in.Tags = append(in.Tags, prev.Tags[i])
		in.TransitiveTagKeys = append(slices.Clone(in.TransitiveTagKeys), prev.Tags[i].Key)
	}
	return in, nil
}

// AssumeRoleKeys are the sts: and tag condition keys of an AssumeRole
// request on a role with roleTags: what AWS supplies for sts:AssumeRole,
// sts:TagSession and sts:SetSourceIdentity.
func AssumeRoleKeys(roleTags Tags, in AssumeInput) map[string][]string {
	keys := map[string][]string{"sts:rolesessionname": {in.SessionName}}
	if in.ExternalID != "" {
		keys["sts:externalid"] = []string{in.ExternalID}
	}
	if in.SourceIdentity != "" {
		keys["sts:sourceidentity"] = []string{in.SourceIdentity}
	}
	for _, t := range roleTags {
		k := strings.ToLower(t.Key)
		keys["aws:resourcetag/"+k] = []string{t.Value}
		keys["iam:resourcetag/"+k] = []string{t.Value}
	}
	var tagKeys []string
	for _, t := range in.Tags {
		keys["aws:requesttag/"+strings.ToLower(t.Key)] = []string{t.Value}
		tagKeys = append(tagKeys, t.Key)
	}
	if len(tagKeys) > 0 {
		keys["aws:tagkeys"] = tagKeys
	}
	if len(in.TransitiveTagKeys) > 0 {
		keys["sts:transitivetagkeys"] = in.TransitiveTagKeys
	}
	return keys
}

// sessionPolicies checks the session policies of in and returns their
// documents: the Policy parameter and the default versions of PolicyARNs.
func (s *Store) sessionPolicies(ctx context.Context, in AssumeInput) ([]string, error) {
	var docs []string
	if in.Policy != "" {
		if _, err := iam.Parse([]byte(in.Policy)); err != nil {
			return nil, errf(ErrMalformedPolicy, "%v", err)
		}
		docs = append(docs, in.Policy)
	}
	for _, arn := range in.PolicyARNs {
		mp, err := s.GetPolicy(ctx, arn)
		if err != nil {
			return nil, errf(ErrInvalidInput, "Policy %s does not exist or is not attachable.", arn)
		}
		docs = append(docs, mp.defaultDocument())
	}
	return docs, nil
}

func randomToken() string {
	b := make([]byte, 96)
	_, _ = rand.Read(b)
	return "SQLG" + base64.StdEncoding.EncodeToString(b)
}

// loadSession returns a live session and its secret and token.
func (s *Store) loadSession(ctx context.Context, akid string) (*sessionRecord, string, string, error) {
	r, err := get[sessionRecord](ctx, s.st, nsSessions, akid)
	if err != nil {
		return nil, "", "", err
	}
	if !s.now().Before(r.Expiration) {
		return nil, "", "", ErrExpiredToken
	}
	secret, err := s.b.Open(r.SealedSecret, []byte("sts-secret:"+akid))
	if err != nil {
		return nil, "", "", fmt.Errorf("open session %s: %w", akid, err)
	}
	token, err := s.b.Open(r.SealedToken, []byte("sts-token:"+akid))
	if err != nil {
		return nil, "", "", fmt.Errorf("open session %s: %w", akid, err)
	}
	return r, string(secret), string(token), nil
}

// pruneSessions deletes sessions expired for more than a day (best effort).
func (s *Store) pruneSessions(ctx context.Context, now time.Time) {
	all, err := list[sessionRecord](ctx, s.st, nsSessions)
	if err != nil {
		return
	}
	for _, r := range all {
		if now.Sub(r.Expiration) > 24*time.Hour {
			_ = s.st.Delete(ctx, nsSessions, r.AccessKeyID)
		}
	}
}

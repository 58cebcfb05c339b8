package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
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

// AssumeRole issues temporary credentials for roleARN to caller, if the
// role's trust policy allows the caller. (The caller's own permission for
// sts:AssumeRole is checked by the API before.) duration 0 = 1 hour.
func (s *Store) AssumeRole(ctx context.Context, caller *iam.Principal, roleARN, sessionName string, duration time.Duration) (*Session, Credentials, error) {
	if !sessionNameRE.MatchString(sessionName) {
		return nil, Credentials{}, errf(ErrInvalidInput, "RoleSessionName must be 2-64 of letters, digits and +=,.@_-")
	}
	name := roleARN[strings.LastIndexByte(roleARN, '/')+1:]
	role, err := s.GetRole(ctx, name)
	if err != nil || role.ARN != roleARN {
		return nil, Credentials{}, errf(ErrNotFound, "role %s", roleARN)
	}
	if duration == 0 {
		duration = time.Hour
	}
	if duration < 15*time.Minute || duration > time.Duration(role.MaxSessionDuration)*time.Second {
		return nil, Credentials{}, errf(ErrInvalidInput, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	trust, err := iam.ParseTrustPolicy([]byte(role.TrustPolicy))
	if err != nil {
		return nil, Credentials{}, errf(ErrAssumeDenied, "trust policy: %v", err)
	}
	req := &iam.Request{Action: "sts:AssumeRole", Resource: role.ARN, Principal: caller, Context: principalKeys(caller)}
	if iam.Evaluate([]*iam.Policy{trust}, req).Decision != iam.DecisionAllow {
		return nil, Credentials{}, ErrAssumeDenied
	}
	now := s.clock()
	akid, secret, token := randomID("ASIA", 16), randomSecret(), randomToken()
	sess := &sessionRecord{Session: Session{AccessKeyID: akid, RoleName: role.RoleName, RoleARN: role.ARN, RoleID: role.RoleID,
		SessionName: sessionName, AssumedRoleARN: "arn:aws:sts::" + s.account + ":assumed-role/" + role.RoleName + "/" + sessionName,
		Expiration: now.Add(duration), CallerARN: caller.ARN},
		SealedSecret: s.b.Seal([]byte(secret), []byte("sts-secret:"+akid)),
		SealedToken:  s.b.Seal([]byte(token), []byte("sts-token:"+akid))}
	if err := update(ctx, s.st, nsSessions, akid, true, func(*sessionRecord) (*sessionRecord, error) { return sess, nil }); err != nil {
		return nil, Credentials{}, err
	}
	s.pruneSessions(ctx, now)
	return &sess.Session, Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: token, Expiration: sess.Expiration}, nil
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

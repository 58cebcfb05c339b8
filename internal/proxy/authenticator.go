package proxy

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/exec"
	"github.com/sqlgate/sqlgate/internal/iam"
)

// secretTTL is how long auth secrets are cached. A failed login refreshes
// the cache at once, so a rotated password works on the next attempt.
const secretTTL = 10 * time.Second

// IAM auth modes (config.Proxy.IAMAuth).
const (
	IAMDisabled = "disabled"
	IAMOptional = "optional"
	IAMRequired = "required"
)

// Authenticator checks client credentials against the cluster's
// auth_secrets (RDS Proxy "Auth" with AuthScheme=SECRETS) and, per
// iam_auth, IAM database auth tokens. It never logs passwords or tokens.
type Authenticator struct {
	cluster string
	src     SecretReader
	tokens  TokenVerifier
	// listen is the listen address, a host:port name an IAM token may be
	// generated for.
	listen string
	// set holds the settings Update may change.
	set atomic.Pointer[authSettings]

	mu     sync.Mutex // guards following fields
	byUser map[string]Login
	// grace holds, by username, the other password a client may log in
	// with while a secret rotates or for its grace window after (see
	// GraceReader), with the login the backend uses then (AWSCURRENT).
	grace map[string]graceLogin
	// bySecret holds, by secret ARN, the current login and the other
	// version's login (zero when none), for Relogin.
	bySecret map[string][2]Login
	loaded   time.Time
	gen      uint64 // the reader's Generation at the last load
}

// GraceReader is implemented by secret readers that know a second
// password clients may still log in with: the AWSPREVIOUS value for a
// grace window after a rotation (or the other value while one runs). A
// client presenting it is logged in; backend connections still use the
// current value.
type GraceReader interface {
	GraceSecretString(ctx context.Context, id string) (value string, ok bool, err error)
}

// generationer is implemented by secret readers whose values may change:
// Generation moves on every change, and the Authenticator reloads then
// rather than after secretTTL.
type generationer interface {
	Generation() uint64
}

type graceLogin struct {
	password string
	login    Login
}

// authSettings are the Authenticator's settings from the proxy config.
type authSettings struct {
	secrets []string
	iam     string
	// hosts are the advertised_hosts, further names an IAM token may be
	// generated for.
	hosts []string
}

// NewAuthenticator returns an Authenticator for d.Cluster.Proxy.
func NewAuthenticator(d Deps) *Authenticator {
	a := &Authenticator{cluster: d.Cluster.Name, src: d.Secrets, tokens: d.Tokens}
	px := config.Proxy{}
	if d.Cluster.Proxy != nil {
		px = *d.Cluster.Proxy
	}
	a.listen = px.Listen
	a.Update(px)
	return a
}

// Update applies a proxy config's auth settings (auth_secrets, iam_auth,
// advertised_hosts); the next login sees them. When the secrets change,
// the cached logins are dropped.
func (a *Authenticator) Update(px config.Proxy) {
	set := &authSettings{secrets: px.AuthSecrets, iam: IAMOptional, hosts: px.AdvertisedHosts}
	if px.IAMAuth != "" {
		set.iam = px.IAMAuth
	}
	if a.tokens == nil {
		set.iam = IAMDisabled
	}
	old := a.set.Swap(set)
	if old != nil && !slices.Equal(old.secrets, set.secrets) {
		a.mu.Lock()
		a.byUser, a.grace, a.bySecret, a.loaded = nil, nil, nil, time.Time{}
		a.mu.Unlock()
	}
}

// IAMMode returns the effective iam_auth mode: disabled when no
// TokenVerifier is configured.
func (a *Authenticator) IAMMode() string { return a.set.Load().iam }

// Candidate is a password a client may log in with as some user, and the
// backend login it gets then.
type Candidate struct {
	Password string
	Login    Login
}

// Passwords returns the passwords user may log in with, for
// challenge-response verification (SCRAM, MD5, mysql_native_password,
// caching_sha2_password): the auth secret's current password and, while
// the secret rotates or for the grace window after (see GraceReader), the
// other one (the previous password of a single-user rotation, or the
// previous user's of an alternating-users rotation). The backend login is
// always the current one. ErrAuthFailed when there is none or iam_auth is
// required (passwords are not accepted then).
func (a *Authenticator) Passwords(ctx context.Context, user string) ([]Candidate, error) {
	if a.IAMMode() == IAMRequired {
		return nil, ErrAuthFailed
	}
	l, err := a.lookup(ctx, user, false)
	if err != nil && !errors.Is(err, ErrAuthFailed) {
		return nil, err
	}
	var out []Candidate
	if err == nil {
		out = append(out, Candidate{Password: l.Password, Login: l})
	}
	if g, ok := a.graceFor(user); ok && (err != nil || g.password != l.Password) {
		out = append(out, Candidate{Password: g.password, Login: g.login})
	}
	if len(out) == 0 {
		return nil, ErrAuthFailed
	}
	return out, nil
}

// graceFor returns the grace login of user, if any.
func (a *Authenticator) graceFor(user string) (graceLogin, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g, ok := a.grace[user]
	return g, ok
}

// CheckPassword verifies a cleartext password, or an IAM token sent as the
// password when iam_auth allows it, for user. Passwords are compared in
// constant time. ErrAuthFailed on any mismatch.
func (a *Authenticator) CheckPassword(ctx context.Context, user, password string) (Login, error) {
	mode := a.IAMMode()
	if mode != IAMDisabled && LooksLikeIAMToken(password) {
		if err := a.tokens.VerifyDBToken(a.tokenContext(ctx), password, a.cluster, user); err != nil {
			return Login{}, fmt.Errorf("%w: %w", ErrAuthFailed, err)
		}
		l, err := a.lookup(ctx, user, false)
		if err != nil {
			return Login{}, err
		}
		l.ViaIAM = true
		return l, nil
	}
	if mode == IAMRequired {
		return Login{}, ErrAuthFailed
	}
	for _, refresh := range []bool{false, true} {
		l, err := a.lookup(ctx, user, refresh)
		if err == nil && Equal(l.Password, password) {
			return l, nil
		}
		if g, ok := a.graceFor(user); ok && Equal(g.password, password) {
			return g.login, nil
		}
		if err != nil && !errors.Is(err, ErrAuthFailed) {
			return Login{}, err
		}
	}
	return Login{}, ErrAuthFailed
}

// Equal compares two secrets in constant time (length included).
func Equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// LooksLikeIAMToken reports whether s has the shape of an rds-db auth
// token: host:port/?Action=connect&DBUser=...&X-Amz-Signature=...
func LooksLikeIAMToken(s string) bool {
	return strings.Contains(s, "Action=connect") && strings.Contains(s, "X-Amz-Signature=")
}

// lookup finds user's secret, reloading the secrets when the cache is
// stale, refresh is set and the cache is older than a second, or the user is
// unknown.
func (a *Authenticator) lookup(ctx context.Context, user string, refresh bool) (Login, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	age := time.Since(a.loaded)
	l, ok := a.byUser[user]
	if g, can := a.src.(generationer); can && a.byUser != nil && g.Generation() != a.gen {
		age = secretTTL // a secret changed: reload
	}
	if ok && age < secretTTL && !(refresh && age > time.Second) {
		return l, nil
	}
	if !ok && !refresh && age < time.Second && a.byUser != nil {
		return Login{}, ErrAuthFailed // unknown user: don't hammer the store
	}
	if err := a.loadLocked(ctx); err != nil {
		return Login{}, err
	}
	if l, ok = a.byUser[user]; !ok {
		return Login{}, ErrAuthFailed
	}
	return l, nil
}

// parseLogin parses a secret's value with the one parser every door uses.
func parseLogin(arn, value string) (Login, error) {
	v, err := exec.ParseSecret(value)
	if err != nil {
		return Login{}, err
	}
	return Login{User: v.Username, Password: v.Password, Database: v.DBName, SecretARN: arn}, nil
}

func (a *Authenticator) loadLocked(ctx context.Context) error {
	var gen uint64
	if g, ok := a.src.(generationer); ok {
		gen = g.Generation()
	}
	byUser := map[string]Login{}
	grace := map[string]graceLogin{}
	bySecret := map[string][2]Login{}
	for _, id := range a.set.Load().secrets {
		arn, val, err := a.src.SecretString(ctx, id)
		if err != nil {
			return fmt.Errorf("read auth secret %q: %w", id, err)
		}
		cur, err := parseLogin(arn, val)
		if err != nil {
			return fmt.Errorf("read auth secret %q: %w", id, err)
		}
		if _, dup := byUser[cur.User]; !dup {
			byUser[cur.User] = cur
		}
		other, err := a.loadGrace(ctx, id, arn, byUser[cur.User], grace)
		if err != nil {
			return err
		}
		bySecret[arn] = [2]Login{cur, other}
	}
	a.byUser, a.grace, a.bySecret, a.loaded, a.gen = byUser, grace, bySecret, time.Now(), gen
	return nil
}

// loadGrace adds the grace password of secret id, whose current login is
// cur, to grace and returns the grace version's own login (zero if none).
func (a *Authenticator) loadGrace(ctx context.Context, id, arn string, cur Login, grace map[string]graceLogin) (Login, error) {
	gr, ok := a.src.(GraceReader)
	if !ok {
		return Login{}, nil
	}
	val, ok, err := gr.GraceSecretString(ctx, id)
	if err != nil {
		return Login{}, fmt.Errorf("read auth secret %q: %w", id, err)
	}
	if !ok {
		return Login{}, nil
	}
	v, err := parseLogin(arn, val)
	if err != nil {
		return Login{}, nil
	}
	if _, dup := grace[v.User]; !dup {
		grace[v.User] = graceLogin{password: v.Password, login: cur}
	}
	return v, nil
}

// Relogin returns the login to retry with when the database refused
// failed, a backend login from secret failed.SecretARN: the secret's
// current login when it differs (the password changed since the client
// logged in, or this node had not yet seen the change), else the other
// version's while the secret rotates (the set step has just changed the
// password). ok is false when there is nothing else to try.
func (a *Authenticator) Relogin(ctx context.Context, failed Login) (Login, bool) {
	if failed.SecretARN == "" {
		return Login{}, false
	}
	if _, err := a.lookup(ctx, failed.User, true); err != nil && !errors.Is(err, ErrAuthFailed) {
		return Login{}, false
	}
	a.mu.Lock()
	pair := a.bySecret[failed.SecretARN]
	a.mu.Unlock()
	for _, l := range pair {
		if l.User != "" && (l.User != failed.User || l.Password != failed.Password) {
			l.Database, l.ViaIAM = failed.Database, failed.ViaIAM
			return l, true
		}
	}
	return Login{}, false
}

type sessionKey struct{}

// withSession returns ctx carrying the client session, so that IAM token
// checks see the client's address and transport.
func withSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// tokenTarget is what an IAM token is checked against: the host:port
// names the proxy answers to.
type tokenTarget struct {
	names []string
}

type tokenTargetKey struct{}

// tokenContext returns ctx carrying, for the TokenVerifier, the host:port
// names this proxy answers to — its listen address, advertised_hosts and
// the address the client connected to (see TokenHostOK) — and the client
// connection's address and transport for rds-db:connect (aws:SourceIp,
// aws:SecureTransport; iam.RequestInfoFrom).
func (a *Authenticator) tokenContext(ctx context.Context) context.Context {
	names := append([]string{a.listen}, a.set.Load().hosts...)
	info := iam.RequestInfo{}
	if sess, _ := ctx.Value(sessionKey{}).(*Session); sess != nil {
		local := sess.raw.LocalAddr().String()
		names = append(names, local)
		if ip, port, err := net.SplitHostPort(local); err == nil && net.ParseIP(ip).IsLoopback() {
			names = append(names, net.JoinHostPort("localhost", port))
		}
		info.Secure = sess.TLS()
		info.SourceIP, _, _ = net.SplitHostPort(sess.raw.RemoteAddr().String())
	}
	ctx = context.WithValue(ctx, tokenTargetKey{}, tokenTarget{names: names})
	return iam.WithRequestInfo(ctx, info)
}

// TokenHost returns the host:port an IAM auth token was generated for
// (the part before "/?"), with or without a scheme.
func TokenHost(token string) string {
	if i := strings.Index(token, "://"); i >= 0 {
		token = token[i+3:]
	}
	if i := strings.IndexAny(token, "/?"); i >= 0 {
		token = token[:i]
	}
	return token
}

// TokenHostOK reports whether hostport (see TokenHost) names the proxy
// whose Authenticator made ctx: its listen address, an advertised host or
// the address the client connected to (same port; host names compared
// ignoring case, addresses as IPs). Without such a ctx it is false.
func TokenHostOK(ctx context.Context, hostport string) bool {
	t, ok := ctx.Value(tokenTargetKey{}).(tokenTarget)
	h, port, err := net.SplitHostPort(hostport)
	if !ok || err != nil || h == "" || port == "" {
		return false
	}
	for _, n := range t.names {
		nh, np, err := net.SplitHostPort(n)
		if err != nil || nh == "" || np != port {
			continue
		}
		if strings.EqualFold(nh, h) || sameIP(nh, h) {
			return true
		}
	}
	return false
}

// sameIP reports whether a and b are the same IP address (spelled
// differently, e.g. ::ffff:127.0.0.1 and 127.0.0.1).
func sameIP(a, b string) bool {
	x, y := net.ParseIP(a), net.ParseIP(b)
	return x != nil && y != nil && x.Equal(y) && !x.IsUnspecified()
}

package proxy

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

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
	secrets []string
	iam     string
	src     SecretReader
	tokens  TokenVerifier
	// listen and hosts are the host:port names an IAM token may be
	// generated for: the listen address and advertised_hosts.
	listen string
	hosts  []string

	mu     sync.Mutex // guards following fields
	byUser map[string]Login
	loaded time.Time
}

// NewAuthenticator returns an Authenticator for d.Cluster.Proxy.
func NewAuthenticator(d Deps) *Authenticator {
	a := &Authenticator{cluster: d.Cluster.Name, src: d.Secrets, tokens: d.Tokens, iam: IAMOptional}
	if px := d.Cluster.Proxy; px != nil {
		a.secrets = px.AuthSecrets
		a.listen, a.hosts = px.Listen, px.AdvertisedHosts
		if px.IAMAuth != "" {
			a.iam = px.IAMAuth
		}
	}
	if a.tokens == nil {
		a.iam = IAMDisabled
	}
	return a
}

// IAMMode returns the effective iam_auth mode: disabled when no
// TokenVerifier is configured.
func (a *Authenticator) IAMMode() string { return a.iam }

// Secret returns the password of the auth secret whose username is user,
// for challenge-response verification (SCRAM, MD5, mysql_native_password),
// and the backend login. ErrAuthFailed when no secret has that username or
// iam_auth is required (passwords are not accepted then).
func (a *Authenticator) Secret(ctx context.Context, user string) (password string, login Login, err error) {
	if a.iam == IAMRequired {
		return "", Login{}, ErrAuthFailed
	}
	l, err := a.lookup(ctx, user, false)
	if err != nil {
		return "", Login{}, err
	}
	return l.Password, l, nil
}

// CheckPassword verifies a cleartext password, or an IAM token sent as the
// password when iam_auth allows it, for user. Passwords are compared in
// constant time. ErrAuthFailed on any mismatch.
func (a *Authenticator) CheckPassword(ctx context.Context, user, password string) (Login, error) {
	if a.iam != IAMDisabled && LooksLikeIAMToken(password) {
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
	if a.iam == IAMRequired {
		return Login{}, ErrAuthFailed
	}
	for _, refresh := range []bool{false, true} {
		l, err := a.lookup(ctx, user, refresh)
		if err != nil {
			return Login{}, err
		}
		if Equal(l.Password, password) {
			return l, nil
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

// secretValue is the JSON of a database credentials secret.
type secretValue struct {
	Username string `json:"username"`
	Password string `json:"password"`
	DBName   string `json:"dbname"`
}

func (a *Authenticator) loadLocked(ctx context.Context) error {
	byUser := map[string]Login{}
	for _, id := range a.secrets {
		arn, val, err := a.src.SecretString(ctx, id)
		if err != nil {
			return fmt.Errorf("read auth secret %q: %w", id, err)
		}
		var v secretValue
		if err := json.Unmarshal([]byte(val), &v); err != nil || v.Username == "" {
			return fmt.Errorf("read auth secret %q: not a JSON object with username and password", id)
		}
		if _, dup := byUser[v.Username]; !dup {
			byUser[v.Username] = Login{User: v.Username, Password: v.Password, Database: v.DBName, SecretARN: arn}
		}
	}
	a.byUser, a.loaded = byUser, time.Now()
	return nil
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
	names := append([]string{a.listen}, a.hosts...)
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

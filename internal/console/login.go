package console

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/iam"
)

// CookieName is the session cookie.
const CookieName = "sqlgate_console"

// CSRFHeader carries the session's CSRF token on state-changing calls.
const CSRFHeader = "X-CSRF-Token"

const maxLoginBytes = 16 << 10

type loginRequest struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
}

// sessionInfo is what the app learns about its session: who it is and
// the CSRF token to send back.
type sessionInfo struct {
	AccessKeyID string    `json:"accessKeyId"`
	ARN         string    `json:"arn"`
	Root        bool      `json:"root"`
	CSRFToken   string    `json:"csrfToken"`
	ExpiresAt   time.Time `json:"expiresAt"`
	Region      string    `json:"region"`
	Account     string    `json:"account"`
}

// login verifies an access key pair and starts a new session. Any session
// the browser already had is ended first: the id is always fresh, so an id
// planted before sign-in (fixation) never becomes authenticated.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if err := checkOrigin(r); err != nil {
		writeError(w, err)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		// A cross-site form cannot send JSON without a CORS preflight,
		// which sqlgate never answers: this blocks login CSRF.
		writeError(w, badRequest("Sign-in needs Content-Type: application/json."))
		return
	}
	var req loginRequest
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLoginBytes))
	if err == nil {
		err = json.Unmarshal(b, &req)
	}
	if err != nil || req.AccessKeyID == "" || req.SecretAccessKey == "" ||
		len(req.AccessKeyID) > 128 || len(req.SecretAccessKey) > 128 || len(req.SessionToken) > 4096 {
		writeError(w, badRequest("Enter an access key ID and a secret access key."))
		return
	}
	if old, err := r.Cookie(CookieName); err == nil {
		c.endSession(r.Context(), old.Value)
	}
	p, err := c.cfg.Keys.VerifyKey(r.Context(), req.AccessKeyID, req.SecretAccessKey, req.SessionToken)
	if err != nil {
		clearCookie(w, r)
		if !errors.Is(err, ErrBadCredentials) {
			c.log.Error("console sign-in failed", "err", err)
			writeError(w, awserr.ErrInternal(err))
			return
		}
		c.log.Info("console sign-in rejected", "access_key_id", req.AccessKeyID, "remote", remoteIP(r))
		writeError(w, awserr.New("UnrecognizedClientException", http.StatusUnauthorized,
			"The access key ID or secret access key is not valid."))
		return
	}
	s, err := c.startSession(r.Context(), p.AccessKeyID, p.ARN)
	if err != nil {
		c.log.Error("console sign-in failed", "err", err)
		writeError(w, awserr.ErrInternal(err))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: s.id, Path: Prefix, Expires: s.expires,
		MaxAge: int(c.cfg.SessionTTL / time.Second), HttpOnly: true, Secure: isSecure(r), SameSite: http.SameSiteStrictMode})
	if sw, ok := w.(*statusWriter); ok {
		sw.principal = p.ARN
	}
	c.log.Info("console sign-in", "principal", p.ARN, "remote", remoteIP(r))
	writeJSON(w, http.StatusOK, c.info(s, p))
}

func (c *Console) info(s *session, p *iam.Principal) sessionInfo {
	return sessionInfo{AccessKeyID: s.akid, ARN: p.ARN, Root: p.Root, CSRFToken: s.csrf, ExpiresAt: s.expires.UTC(),
		Region: c.cfg.Region, Account: c.cfg.Account}
}

// logout ends the session and clears the cookie.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	c.endSession(r.Context(), s.id)
	clearCookie(w, r)
	writeJSON(w, http.StatusOK, map[string]bool{"signedOut": true})
}

// session returns the session's identity and CSRF token, so a reloaded
// page can continue. Other origins cannot read it (no CORS).
func (c *Console) session(w http.ResponseWriter, r *http.Request, s *session) {
	writeJSON(w, http.StatusOK, c.info(s, iam.PrincipalFrom(r.Context())))
}

// authedFunc is a handler that runs with a live session and the
// principal in r's context.
type authedFunc func(w http.ResponseWriter, r *http.Request, s *session)

// authed checks the session cookie, the CSRF token (on anything but GET),
// the origin and the key, then runs next as the session's principal.
func (c *Console) authed(next authedFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := checkOrigin(r); err != nil {
			writeError(w, err)
			return
		}
		var s *session
		if ck, err := r.Cookie(CookieName); err == nil {
			var err error
			if s, err = c.findSession(r.Context(), ck.Value); err != nil {
				c.log.Error("console session lookup failed", "err", err)
				writeError(w, awserr.ErrInternal(err))
				return
			}
		}
		if s == nil {
			clearCookie(w, r)
			writeError(w, errSignIn("Sign in to use the console (no session, or it expired)."))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.checkCSRF(r.Header.Get(CSRFHeader)) {
			writeError(w, awserr.New("InvalidCsrfTokenException", http.StatusForbidden,
				"Missing or invalid "+CSRFHeader+" header."))
			return
		}
		p, err := c.cfg.Keys.Principal(r.Context(), s.akid)
		if err != nil {
			// The key was deleted, deactivated or expired since sign-in.
			c.endSession(r.Context(), s.id)
			clearCookie(w, r)
			writeError(w, errSignIn("The access key of this session no longer works; sign in again."))
			return
		}
		if sw, ok := w.(*statusWriter); ok {
			sw.principal = p.ARN
		}
		ctx := iam.WithPrincipal(r.Context(), p, iam.RequestInfo{SourceIP: remoteIP(r), Secure: isSecure(r)})
		next(w, r.WithContext(ctx), s)
	}
}

// checkOrigin rejects requests a browser marks as coming from another
// site: a foreign Origin header, or Sec-Fetch-Site other than same-origin
// (or none: typed into the address bar).
func checkOrigin(r *http.Request) error {
	deny := awserr.New("InvalidOriginException", http.StatusForbidden, "Cross-origin requests to the console are not allowed.")
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return deny
	}
	if o := r.Header.Get("Origin"); o != "" {
		scheme := "http://"
		if isSecure(r) {
			scheme = "https://"
		}
		if o != scheme+r.Host {
			return deny
		}
	}
	return nil
}

func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, Secure: isSecure(r), SameSite: http.SameSiteStrictMode})
}

func isSecure(r *http.Request) bool { return r.TLS != nil }

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func errSignIn(msg string) *awserr.Error {
	return awserr.New("SessionRequiredException", http.StatusUnauthorized, msg)
}

func badRequest(msg string) *awserr.Error {
	return awserr.New("BadRequestException", http.StatusBadRequest, msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, awserr.ErrInternal(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

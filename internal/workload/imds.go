package workload

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// IMDS serves the credential part of the EC2 instance metadata service,
// version 2 (a session token from PUT /latest/api/token, then GET
// /latest/meta-data/iam/security-credentials/ and …/ROLE), for exactly
// one workload: the requests carry no identity, so the listener is bound
// to the workload by configuration, and only its allowed networks may ask.
type IMDS struct {
	Store    *Store
	Workload string
	Log      *slog.Logger

	mu     sync.Mutex
	tokens map[string]time.Time // session token → expiry
}

const (
	imdsTokenPath = "/latest/api/token"
	imdsCredsPath = "/latest/meta-data/iam/security-credentials/"
	maxIMDSTTL    = 21600
)

func (h *IMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	peer := PeerAddr(r)
	wl, err := h.Store.Get(r.Context(), h.Workload)
	if err != nil || !allowed(wl.AllowCIDRs, peer) {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	if r.URL.Path == imdsTokenPath {
		h.putToken(w, r)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if !h.validToken(r.Header.Get("X-aws-ec2-metadata-token")) {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	switch rest, ok := strings.CutPrefix(r.URL.Path, imdsCredsPath); {
	case !ok:
		http.NotFound(w, r)
	case rest == "":
		_, _ = w.Write([]byte(wl.RoleName))
	case rest == wl.RoleName:
		h.credentials(w, r, wl.RoleName)
	default:
		http.NotFound(w, r)
	}
}

// putToken issues an IMDSv2 session token; like EC2, it refuses a request
// forwarded by a proxy (X-Forwarded-For).
func (h *IMDS) putToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("X-Forwarded-For") != "" {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
	if err != nil || ttl < 1 || ttl > maxIMDSTTL {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	now := time.Now()
	h.mu.Lock()
	if h.tokens == nil {
		h.tokens = map[string]time.Time{}
	}
	for k, exp := range h.tokens {
		if now.After(exp) {
			delete(h.tokens, k)
		}
	}
	h.tokens[tok] = now.Add(time.Duration(ttl) * time.Second)
	h.mu.Unlock()
	w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(ttl))
	_, _ = w.Write([]byte(tok))
}

func (h *IMDS) validToken(tok string) bool {
	if tok == "" {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	exp, ok := h.tokens[tok]
	return ok && time.Now().Before(exp)
}

// imdsCredentials is EC2's security-credentials document.
type imdsCredentials struct {
	Code            string `json:"Code"`
	LastUpdated     string `json:"LastUpdated"`
	Type            string `json:"Type"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

func (h *IMDS) credentials(w http.ResponseWriter, r *http.Request, role string) {
	peer := PeerAddr(r)
	_, c, err := h.Store.IssueBound(r.Context(), h.Workload, peer)
	if err != nil {
		status, code := errStatus(err)
		if errors.Is(err, ErrNotFound) {
			status, code = http.StatusNotFound, "NotFound"
		}
		h.Log.Warn("imds credentials refused", "workload", h.Workload, "peer", peer.String(), "code", code)
		http.Error(w, code, status)
		return
	}
	h.Log.Info("imds credentials issued", "workload", h.Workload, "role", role, "peer", peer.String(), "access_key_id", c.AccessKeyID)
	b, _ := json.Marshal(imdsCredentials{Code: "Success", LastUpdated: time.Now().UTC().Format(time.RFC3339), Type: "AWS-HMAC",
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Token: c.SessionToken,
		Expiration: c.Expiration.UTC().Format(time.RFC3339)})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

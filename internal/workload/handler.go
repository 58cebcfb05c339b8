package workload

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// CredentialsPath is the path prefix of the container credentials
// endpoint: GET CredentialsPath+NAME with the header
// "Authorization: BOOTSTRAP_TOKEN".
const CredentialsPath = "/v1/credentials/"

// Handler serves the container credentials endpoint the AWS SDKs read
// through AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN.
type Handler struct {
	Store *Store
	Log   *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, CredentialsPath)
	if !ok || name == "" || strings.Contains(name, "/") {
		writeErr(w, http.StatusNotFound, "NotFound", "Not found.")
		return
	}
	if r.Method != http.MethodGet {
		writeErr(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Use GET.")
		return
	}
	peer := PeerAddr(r)
	wl, creds, err := h.Store.Issue(r.Context(), name, r.Header.Get("Authorization"), peer)
	if err != nil {
		status, code := errStatus(err)
		h.Log.Warn("workload credentials refused", "workload", name, "peer", peer.String(), "code", code)
		writeErr(w, status, code, publicMessage(err))
		return
	}
	h.Log.Info("workload credentials issued", "workload", name, "peer", peer.String(),
		"access_key_id", creds.AccessKeyID, "expiration", creds.Expiration)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(containerJSON(wl, creds))
}

// PeerAddr is the address of the TCP peer of r (never a forwarding
// header): the invalid address when it cannot be parsed, which no
// network contains.
func PeerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// errStatus maps an Issue error to an HTTP status and error code.
func errStatus(err error) (int, string) {
	switch {
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, "InvalidToken"
	case errors.Is(err, ErrForbiddenNetwork), errors.Is(err, ErrUntrusted):
		return http.StatusForbidden, "AccessDenied"
	}
	return http.StatusInternalServerError, "InternalFailure"
}

func publicMessage(err error) string {
	switch {
	case errors.Is(err, ErrUnauthorized):
		return "Unknown workload or invalid bootstrap token."
	case errors.Is(err, ErrForbiddenNetwork):
		return "The bootstrap token is not accepted from this network."
	case errors.Is(err, ErrUntrusted):
		return "The workload's role does not allow its service principal to assume it."
	}
	return "Internal error."
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]string{"Code": code, "Message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

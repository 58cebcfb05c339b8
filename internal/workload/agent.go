package workload

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// maxCredentialsBody bounds a credentials response the agent relays.
const maxCredentialsBody = 64 << 10

// Agent is the credentials agent: a small process next to workloads on a
// host that does not run sqlgate. It listens node-locally (where the SDKs
// accept plain HTTP) and relays each container-credentials GET, with its
// Authorization header (the workload's bootstrap token), to a remote
// sqlgate over HTTPS. It keeps no token and no credentials.
type Agent struct {
	Remote *url.URL     // https://sqlgate.example:8443
	Client *http.Client // trusts the remote's certificate
	Log    *slog.Logger
}

func (a *Agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, CredentialsPath) {
		writeErr(w, http.StatusNotFound, "NotFound", "Not found.")
		return
	}
	if r.Method != http.MethodGet {
		writeErr(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Use GET.")
		return
	}
	target := *a.Remote
	target.Path = strings.TrimSuffix(target.Path, "/") + r.URL.Path
	target.RawQuery = ""
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target.String(), nil)
	if err != nil {
		writeErr(w, http.StatusBadGateway, "BadGateway", "Invalid remote URL.")
		return
	}
	if tok := r.Header.Get("Authorization"); tok != "" {
		req.Header.Set("Authorization", tok)
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		a.Log.Warn("credentials agent: remote unreachable", "remote", a.Remote.Host, "err", err)
		writeErr(w, http.StatusBadGateway, "BadGateway", "The remote sqlgate is unreachable.")
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCredentialsBody))
	if err != nil {
		writeErr(w, http.StatusBadGateway, "BadGateway", "Reading the remote response failed.")
		return
	}
	a.Log.Info("credentials agent: relayed", "path", r.URL.Path, "status", resp.StatusCode)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"

	"github.com/sqlgate/sqlgate/internal/admin"
	"github.com/sqlgate/sqlgate/internal/console"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/sigv4"
	"github.com/sqlgate/sqlgate/internal/state"
)

// newConsole wires the web console (/console/) to this server's key
// store and API handlers, so it acts exactly as a SigV4 client would.
func (s *Server) newConsole() *console.Console {
	var shared state.Store // nodes on one PostgreSQL store share sessions
	if s.cfg.State.Driver == "postgres" {
		shared = s.store
	}
	return console.New(console.Config{
		Store:          shared,
		Keys:           consoleBackend{s},
		Services:       consoleBackend{s},
		Authorizer:     identity.Authorizer{Store: s.ids},
		Region:         s.cfg.Region,
		Account:        s.cfg.AccountID,
		Log:            s.log,
		CredentialsURI: func(name string) string { return admin.CredentialsURI(s.cfg, name) },
	})
}

// consoleBackend gives the console the server's keys and APIs.
type consoleBackend struct{ s *Server }

var (
	_ console.KeyVerifier = consoleBackend{}
	_ console.Services    = consoleBackend{}
)

// VerifyKey implements console.KeyVerifier with the SigV4 key store: the
// same keys that sign API requests sign in to the console.
func (b consoleBackend) VerifyKey(ctx context.Context, akid, secret, token string) (*iam.Principal, error) {
	want, wantToken, err := b.s.secretKey(ctx, akid)
	switch {
	case errors.Is(err, sigv4.ErrUnknownKey), identity.IsAuthError(err):
		return nil, console.ErrBadCredentials
	case err != nil:
		return nil, fmt.Errorf("look up access key: %w", err)
	}
	okSecret := subtle.ConstantTimeCompare([]byte(secret), []byte(want))
	okToken := subtle.ConstantTimeCompare([]byte(token), []byte(wantToken))
	if okSecret&okToken != 1 {
		return nil, console.ErrBadCredentials
	}
	p, err := b.s.principal(ctx, akid)
	if identity.IsAuthError(err) {
		return nil, console.ErrBadCredentials
	}
	return p, err
}

// Principal implements console.KeyVerifier.
func (b consoleBackend) Principal(ctx context.Context, akid string) (*iam.Principal, error) {
	return b.s.principal(ctx, akid)
}

// DataAPI implements console.Services.
func (b consoleBackend) DataAPI(w http.ResponseWriter, r *http.Request, body []byte, requestID string) {
	b.s.dataAPI.Handle(w, r, body, requestID)
}

// DataAPIScript implements console.Services.
func (b consoleBackend) DataAPIScript(w http.ResponseWriter, r *http.Request, body []byte, requestID string) {
	b.s.dataAPI.HandleScript(w, r, body, requestID)
}

// SecretsManager implements console.Services.
func (b consoleBackend) SecretsManager(w http.ResponseWriter, r *http.Request, op string, body []byte, requestID string) {
	b.s.secretsAPI.Handle(w, r, op, body, requestID)
}

// APIGateway implements console.Services.
func (b consoleBackend) APIGateway(w http.ResponseWriter, r *http.Request, body []byte, requestID string) {
	b.s.apigwAPI.Handle(w, r, body, requestID)
}

// IAM implements console.Services.
func (b consoleBackend) IAM(w http.ResponseWriter, r *http.Request, service string, body []byte, requestID string) {
	b.s.iamAPI.Handle(w, r, service, body, requestID)
}

// Workloads implements console.Services.
func (b consoleBackend) Workloads(w http.ResponseWriter, r *http.Request, op string, body []byte, requestID string) {
	b.s.workloadAPI.Handle(w, r, op, body, requestID)
}

// Clusters implements console.Services: configuration and pool state of
// every cluster (the console filters by rds:DescribeDBClusters).
func (b consoleBackend) Clusters() []console.ClusterInfo {
	out := make([]console.ClusterInfo, 0, len(b.s.clusters))
	for i, c := range b.s.clusters {
		st := c.pool.Stats()
		ci := console.ClusterInfo{Name: c.name, ARN: c.api.ARN, Engine: c.engine, Address: c.address,
			Database: c.exec.Database, DataAPI: c.api.Enabled.Load(), MaxConnections: c.pool.Max(),
			Busy: st.Busy, Idle: st.Idle, Waiting: st.Waiting}
		if px := b.s.cfg.Clusters[i].Proxy; px != nil {
			ci.Proxy = &console.ProxyInfo{Listen: px.Listen, IAMAuth: px.IAMAuth, RequireTLS: px.RequireTLS,
				AuthSecrets: px.AuthSecrets}
		}
		out = append(out, ci)
	}
	return out
}

package server

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/oidc"
	"github.com/sqlgate/sqlgate/internal/workload"
)

// openWorkloads wires the workload store (after the identity store).
func (s *Server) openWorkloads() {
	s.workloads = workload.New(s.store, s.ids)
	s.workloads.Lifetime = s.cfg.Workloads.CredentialLifetime
	s.credsHandler = &workload.Handler{Store: s.workloads, Log: s.log.With("component", "workload")}
	s.oidcKeys = &oidc.Keys{Files: s.cfg.Workloads.OIDCJWKSFiles}
	s.workloadAPI = &workload.API{Store: s.workloads, Policies: s.ids, Authz: identity.Authorizer{Store: s.ids},
		Region: s.cfg.Region, Account: s.cfg.AccountID}
}

// Workloads returns the workload store (the admin API and tests).
func (s *Server) Workloads() *workload.Store { return s.workloads }

// isCredentialsPath reports a container-credentials request, served on
// every HTTP listener before SigV4 authentication (the bootstrap token
// authenticates it).
func isCredentialsPath(path string) bool { return strings.HasPrefix(path, workload.CredentialsPath) }

// listenWorkloads binds the node-local container-credentials listener
// and the IMDS listeners. Called with s.mu held.
func (s *Server) listenWorkloads() error {
	w := s.cfg.Workloads
	if w.Listen != "" {
		l, err := net.Listen("tcp", w.Listen)
		if err != nil {
			return fmt.Errorf("workloads.listen: %w", err)
		}
		s.addListener(l, s.credsHandler)
		s.log.Info("listening", "proto", "container-credentials", "addr", l.Addr().String())
	}
	for i, m := range w.IMDS {
		l, err := net.Listen("tcp", m.Listen)
		if err != nil {
			return fmt.Errorf("workloads.imds[%d].listen: %w", i, err)
		}
		s.addListener(l, s.imdsHandler(m.Workload))
		s.log.Info("listening", "proto", "imds", "addr", l.Addr().String(), "workload", m.Workload)
	}
	return nil
}

// imdsHandler is the IMDS endpoint bound to one workload.
func (s *Server) imdsHandler(name string) http.Handler {
	return &workload.IMDS{Store: s.workloads, Workload: name, Log: s.log.With("component", "imds")}
}

// isWebIdentity reports an unsigned STS AssumeRoleWithWebIdentity: the
// token in the body is the credential, so it is served without SigV4, as
// on AWS.
func isWebIdentity(r *http.Request, d route, body []byte) bool {
	return d.name == "iam" && r.Header.Get("Authorization") == "" && r.URL.Query().Get("X-Amz-Signature") == "" &&
		formAction(body) == "AssumeRoleWithWebIdentity"
}

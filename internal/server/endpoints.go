package server

import (
	"context"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/apigw"
	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/endpoints"
	"github.com/sqlgate/sqlgate/internal/exec"
	"github.com/sqlgate/sqlgate/internal/identity"
)

// openEndpoints wires the SQL-backed HTTP endpoints over the
// clusters' pools, the secret store and the state store.
func (s *Server) openEndpoints(ctx context.Context) error {
	backends := map[string]*exec.Cluster{}
	for _, c := range s.clusters {
		backends[c.name] = c.exec
		if c.topo != nil {
			backends[endpoints.ReaderBackend(c.name)] = c.topo.readerExec
		}
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	h, err := endpoints.New(ctx, s.cfg, endpoints.Options{Backends: backends, Secrets: s.secrets,
		State: s.store, Metrics: s.metrics.reg, Log: s.log, Sealer: s.sealer, Shared: s.cfg.State.Driver == "postgres"})
	if err != nil {
		return fmt.Errorf("endpoints: %w", err)
	}
	s.endpoints = h
	s.apigwAPI = apigw.New(h, identity.Authorizer{Store: s.ids}, s.cfg.Region, s.log.With("component", "apigw"))
	return nil
}

// watchEndpointKeys serves API keys and usage plans changed by any node
// sharing the state store from the moment the change is written.
func (s *Server) watchEndpointKeys(ctx context.Context) {
	if err := s.endpoints.Run(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("api key watcher stopped", "err", err)
	}
}

// ReloadEndpoints swaps in cfg's endpoint, API key and usage plan
// declarations (and re-reads keys and plans from the state store) without
// dropping in-flight requests. Clusters are not reloaded. On error, a
// field-named *config.FieldError for a bad declaration, the old set keeps
// serving.
func (s *Server) ReloadEndpoints(cfg *config.Config) error {
	if err := s.endpoints.Reload(context.Background(), cfg); err != nil {
		return fmt.Errorf("reload endpoints: %w", err)
	}
	return nil
}

// closeEndpoints writes the pending usage counts; call before the state
// store closes.
func (s *Server) closeEndpoints() {
	if s.endpoints == nil {
		return
	}
	if err := s.endpoints.Close(); err != nil {
		s.log.Error("write endpoint usage counts", "err", err)
	}
}

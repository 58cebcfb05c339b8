package server

import (
	"context"
	"time"

	"github.com/sqlgate/sqlgate/internal/lease"
)

// openLeases puts the clusters' connection budgets under lease when the
// state store is shared (driver postgres): the nodes on one store then
// split each cluster's max_connections (internal/lease), each instance's
// for a cluster with instances. With the SQLite
// store a node is alone and its budget is the whole max_connections, as
// before. SQLite clusters are files of one node and are not shared.
// The first renewal runs here, so the node has its share before it
// serves; a failure leaves it at 0 until Run renews.
func (s *Server) openLeases(ctx context.Context) {
	if s.cfg.State.Driver != "postgres" {
		return
	}
	id := s.cfg.State.NodeID
	if id == "" {
		id = lease.NodeID()
	}
	s.leases = lease.New(lease.Config{Node: id, Store: s.store, TTL: s.cfg.State.LeaseTTL, Log: s.log})
	for _, c := range s.clusters {
		switch {
		case c.budgets != nil: // one budget per instance
			for _, addr := range c.budgets.Addrs() {
				s.leases.Add(c.name, addr, c.budgets.Of(addr))
			}
		case c.engine != "sqlite":
			s.leases.Add(c.name, "", c.pool)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := s.leases.Renew(ctx); err != nil {
		s.log.Warn("first connection lease renewal failed; retrying", "err", err)
	}
	s.log.Info("sharing connection budgets through the state store", "node", id)
}

// runLeases renews the leases until ctx is done.
func (s *Server) runLeases(ctx context.Context) {
	if s.leases != nil {
		s.bg.GoLoop(ctx, "leases", s.leases.Run)
	}
}

// leaveLeases gives this node's shares back (shutdown, pools closed).
func (s *Server) leaveLeases() {
	if s.leases == nil || s.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.leases.Leave(ctx); err != nil {
		s.log.Warn("giving back connection leases", "err", err)
	}
}

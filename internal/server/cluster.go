package server

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/dataapi"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engines"
	"github.com/sqlgate/sqlgate/internal/exec"
	"github.com/sqlgate/sqlgate/internal/fairshare"
	"github.com/sqlgate/sqlgate/internal/pool"
)

// cluster is one configured database with its engine and pool.
type cluster struct {
	name    string
	engine  string
	address string        // host:port, or the SQLite file
	eng     engine.Engine // the writer (rotation, logins); not budgeted
	pool    *pool.Pool    // the Data API's pool, and the budget without instances
	// budgets holds one max_connections per instance of a cluster with
	// instances (nil without): every door's connections take their slots
	// there (budgets.go).
	budgets *pool.Instances
	exec    *exec.Cluster // the execution service every HTTP door uses
	api     *dataapi.Cluster
	topo    *clusterTopology // nil without instances (topology.go)
}

func (s *Server) openClusters() error {
	for i, cc := range s.cfg.Clusters {
		c, err := s.openCluster(cc)
		if err != nil {
			return fmt.Errorf("clusters[%d] (%s): %w", i, cc.Name, err)
		}
		s.clusters = append(s.clusters, c)
	}
	return nil
}

func (s *Server) openCluster(cc config.Cluster) (*cluster, error) {
	c := &cluster{name: cc.Name, engine: cc.Engine, address: cc.Address}
	if cc.Engine == "sqlite" {
		c.address = s.cfg.SQLitePath(cc)
	}
	eng, dialect, err := engines.OpenWriter(s.cfg, cc, c.writerFunc(cc))
	if err != nil {
		return nil, err
	}
	c.eng = eng
	s.watchTopology(c, cc)
	c.pool = pool.New(c.poolEngine(cc), pool.Config{Max: cc.MaxConnections})
	c.budgetDoor(c.pool.EvictIdleWhere, func(addr string) int {
		if addr == c.budgets.Writer() {
			return c.pool.Stats().Waiting
		}
		return 0
	})
	l := cc.Limits
	c.exec = &exec.Cluster{Name: cc.Name, Dialect: dialect, Pool: c.pool, Database: cc.Database,
		StatementTimeout: l.StatementTimeout, BorrowTimeout: l.BorrowTimeout, MaxResponseBytes: l.MaxResponseBytes, MaxDetached: l.MaxDetachedStatement,
		Log: s.log, Other: s.secrets.GraceSecretString, Shares: newShares(cc.Limits)}
	c.api = &dataapi.Cluster{Name: cc.Name, ARN: s.ClusterARN(cc.Name), Exec: c.exec,
		Limits: dataapi.Limits{MaxSQLChars: l.MaxSQLChars, TxIdleTimeout: l.TxIdleTimeout, TxMaxLifetime: l.TxMaxLifetime}}
	c.api.Enabled.Store(cc.DataAPIEnabled())
	s.openReaders(c, cc)
	return c, nil
}

// newShares returns the per-principal accounting of a cluster, nil when
// no per-principal limit is set (the Data API hot path then skips it).
// A reload that sets limits on a cluster started without them needs a
// restart (ReloadPools says so).
func newShares(l config.Limits) *fairshare.Shares {
	fl := sharesLimits(l)
	if !fl.Enabled() {
		return nil
	}
	return fairshare.New(fl)
}

func sharesLimits(l config.Limits) fairshare.Limits {
	conns, txns, waiters := l.Shares()
	return fairshare.Limits{Connections: conns, Transactions: txns, Waiters: waiters}
}

// probe reports "ok" when the database answers a TCP connect (or the SQLite
// file exists), else "down".
func (c *cluster) probe(ctx context.Context) string {
	if c.engine == "sqlite" {
		if _, err := os.Stat(c.address); err != nil {
			return "down"
		}
		return "ok"
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.address)
	if err != nil {
		return "down"
	}
	_ = conn.Close()
	return "ok"
}

func (c *cluster) close() {
	c.topo.close()
	c.pool.Close()
	if c.budgets != nil {
		_ = c.pool.Engine().Close()
		c.budgets.Close()
	}
	_ = c.eng.Close()
}

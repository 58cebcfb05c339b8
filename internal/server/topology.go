package server

import (
	"context"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engines"
	"github.com/sqlgate/sqlgate/internal/exec"
	"github.com/sqlgate/sqlgate/internal/pool"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/topology"
)

// clusterTopology is the health-check monitor of a cluster with instances
// and the engines its checks dial.
type clusterTopology struct {
	mon     *topology.Monitor
	engines *topology.Engines
	// readers chooses the reader of each new connection of the
	// cluster's reader endpoints (proxy endpoints with TargetRole
	// READ_ONLY, SQL endpoints with target reader).
	readers *topology.Balancer
	// readerExec is the execution service of the SQL endpoints with
	// target reader: a pool over the readers whose connections take
	// slots of the cluster's budget (openReaders).
	readerExec *exec.Cluster
	unEvict    func()
}

// openReaders sets up the reader pool of a cluster with instances; its
// connections take their slots from their readers' budgets, and its idle
// connections to an instance yield to that instance's other doors like
// idle proxy connections do.
func (s *Server) openReaders(c *cluster, cc config.Cluster) {
	if c.topo == nil {
		return
	}
	eng := topology.NewReaderEngine(cc.Engine, c.topo.readers, c.budgets,
		func(addr string) engine.Engine { return engines.OpenInstance(cc, addr) })
	rp := pool.New(eng, pool.Config{Max: cc.MaxConnections})
	c.topo.unEvict = c.budgetDoor(rp.EvictIdleWhere, nil)
	rx := *c.exec
	rx.Pool = rp
	c.topo.readerExec = &rx
}

// readerRoute is the route of the cluster's reader endpoints: its
// Balancer, or for a cluster without instances a route that has no
// reader to offer.
func (c *cluster) readerRoute() proxy.Route {
	if c.topo == nil {
		return noReaders{}
	}
	return c.topo.readers
}

// noReaders is the reader route of a cluster without instances.
type noReaders struct{}

func (noReaders) Pick() (string, func(), error) {
	return "", nil, fmt.Errorf("%w: the cluster lists no instances", topology.ErrNoReader)
}
func (noReaders) Serves(string) bool      { return false }
func (noReaders) Down(string, error)      {}
func (noReaders) Connected(string) func() { return func() {} }

// writerFunc returns what the cluster's engine dials: the monitor's
// current writer for a cluster with instances, nil (the fixed address)
// otherwise. The monitor is set by watchTopology before any connect.
func (c *cluster) writerFunc(cc config.Cluster) func() string {
	if !cc.Replicated() {
		return nil
	}
	return func() string { return c.topo.mon.Writer() }
}

// watchTopology sets up the health checks and the instances' budgets of
// a cluster with instances; Run starts the checks (runTopologies). Each
// check holds a slot of its instance's budget while connected.
func (s *Server) watchTopology(c *cluster, cc config.Cluster) {
	if !cc.Replicated() {
		return
	}
	c.openBudgets(cc)
	secret := cc.HealthCheck.Secret
	login := func(ctx context.Context) (engine.Credentials, error) {
		_, v, err := s.secrets.SecretString(ctx, secret)
		if err != nil {
			return engine.Credentials{}, fmt.Errorf("health check secret %q: %w", secret, err)
		}
		sec, err := exec.ParseSecret(v)
		if err != nil {
			return engine.Credentials{}, fmt.Errorf("health check secret %q: %w", secret, err)
		}
		return sec.Credentials(cc.Database), nil
	}
	engs := topology.NewEngines(func(addr string) engine.Engine { return engines.OpenInstance(cc, addr) }, login)
	var in []topology.Instance
	for _, i := range cc.Instances {
		in = append(in, topology.Instance{Address: i.Address, Role: topology.Role(i.Role)})
	}
	c.topo = &clusterTopology{engines: engs, mon: topology.New(topology.Config{
		Cluster: cc.Name, Instances: in, Interval: cc.HealthCheck.Interval, Timeout: cc.HealthCheck.Timeout,
		Dial: engs.Dial, Probe: topology.ProbeFor(cc.Engine), Budget: c.budgets,
		Log: s.log})}
	c.topo.readers = topology.NewBalancer(c.topo.mon, topology.ReaderPolicy{
		MaxLag: cc.Readers.MaxReplicaLag, WriterFallback: cc.Readers.WriterFallback})
}

// runTopologies starts the health checks of every cluster with instances.
func (s *Server) runTopologies(ctx context.Context) {
	for _, c := range s.clusters {
		if c.topo != nil {
			s.bg.GoLoop(ctx, "topology-"+c.name, c.topo.mon.Run)
		}
	}
}

// monitors lists the clusters' topology monitors for metrics.
func (s *Server) monitors() []*topology.Monitor {
	var out []*topology.Monitor
	for _, c := range s.clusters {
		if c.topo != nil {
			out = append(out, c.topo.mon)
		}
	}
	return out
}

// balancers lists the clusters' reader Balancers for metrics.
func (s *Server) balancers() []*topology.Balancer {
	var out []*topology.Balancer
	for _, c := range s.clusters {
		if c.topo != nil {
			out = append(out, c.topo.readers)
		}
	}
	return out
}

func (t *clusterTopology) close() {
	if t == nil {
		return
	}
	if t.readerExec != nil {
		t.unEvict()
		t.readerExec.Pool.Close()
		_ = t.readerExec.Pool.Engine().Close()
	}
	t.engines.Close()
}

package server

import (
	"context"
	"errors"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engines"
	"github.com/sqlgate/sqlgate/internal/pool"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/topology"
)

// Budgets of a cluster with instances. max_connections is the budget of
// each instance (pool.Instances): every door's connection to an instance
// holds a slot of that instance's budget — the Data API, console and
// writer SQL endpoints through a topology.WriterEngine under the
// cluster's pool, reader SQL endpoints through a topology.ReaderEngine,
// the proxies through instanceBudget, the health checks directly. Each
// door registers with every instance's budget how to close one of its
// idle connections to that instance and how many of its requests wait
// for one (budgetDoor), so idle connections yield per instance and the
// instance's demand (leases between nodes) counts every door. A cluster
// without instances keeps its pool as its one budget.

// openBudgets makes the instances' budgets of a cluster with instances;
// the topology monitor (set next by watchTopology) says which is the
// writer.
func (c *cluster) openBudgets(cc config.Cluster) {
	addrs := make([]string, 0, len(cc.Instances))
	for _, in := range cc.Instances {
		addrs = append(addrs, in.Address)
	}
	c.budgets = pool.NewInstances(addrs, func() string { return c.topo.mon.Writer() }, cc.MaxConnections)
}

// poolEngine is the engine of the cluster's pool: its writer engine, or
// for a cluster with instances one whose connections take their slots
// from the writer's budget.
func (c *cluster) poolEngine(cc config.Cluster) engine.Engine {
	if c.budgets == nil {
		return c.eng
	}
	return topology.NewWriterEngine(cc.Engine, c.budgets.Writer, c.budgets,
		func(addr string) engine.Engine { return engines.OpenInstance(cc, addr) })
}

// budgetDoor registers a door of a cluster with instances with every
// instance's budget: evict closes one of its idle connections matching
// (pool.Pool.EvictIdleWhere), waiting (optional) counts its requests
// waiting for a connection to an instance. It returns the removal (a
// no-op without instances).
func (c *cluster) budgetDoor(evict func(match func(engine.Conn) bool) bool, waiting func(addr string) int) (remove func()) {
	return c.eachInstance(func(addr string) bool {
		return evict(func(ec engine.Conn) bool { a, _ := topology.AddressOf(ec); return a == addr })
	}, waiting)
}

// eachInstance registers evict and waiting (optional) of one door with
// the budget of every instance, and returns their removal.
func (c *cluster) eachInstance(evict func(addr string) bool, waiting func(addr string) int) (remove func()) {
	if c.budgets == nil {
		return func() {}
	}
	var undo []func()
	for _, addr := range c.budgets.Addrs() {
		b := c.budgets.Of(addr)
		undo = append(undo, b.AddEvictor(func() bool { return evict(addr) }))
		if waiting != nil {
			undo = append(undo, b.AddWaiting(func() int { return waiting(addr) }))
		}
	}
	return func() {
		for _, f := range undo {
			f()
		}
	}
}

// connections returns the cluster's backend connections, busy and idle
// (the Data API's; busy includes the slots the other doors hold): with
// instances, those of every instance together.
func (c *cluster) connections() (busy, idle int) {
	st := c.pool.Stats()
	if c.budgets == nil {
		return st.Busy, st.Idle
	}
	open := 0
	for _, addr := range c.budgets.Addrs() {
		open += c.budgets.Of(addr).Open()
	}
	return max(open-st.Idle, 0), st.Idle
}

// proxyBudget is the budget the cluster's proxies draw on: the pool, or
// the instances' budgets.
func (c *cluster) proxyBudget() proxy.Budget {
	if c.budgets == nil {
		return c.pool
	}
	return instanceBudget{c.budgets}
}

// instanceBudget is the proxies' view of a cluster's instance budgets: a
// proxy.Budget of the current writer with proxy.Instances, so that
// routed borrows draw on the instance they go to (proxy/pool_instance.go).
type instanceBudget struct{ s *pool.Instances }

var _ proxy.Instances = instanceBudget{}

// Instance implements proxy.Instances.
func (b instanceBudget) Instance(addr string) (proxy.Budget, string) {
	if addr == "" {
		addr = b.s.Writer()
	}
	if p := b.s.Of(addr); p != nil {
		return p, addr
	}
	return noBudget{}, addr
}

func (b instanceBudget) writer() proxy.Budget {
	p, _ := b.Instance("")
	return p
}

// TryReserve, Reserve and Over act on the current writer's budget.
func (b instanceBudget) TryReserve() (func(), bool) { return b.writer().TryReserve() }

func (b instanceBudget) Reserve(ctx context.Context) (func(), error) {
	return b.writer().Reserve(ctx)
}

func (b instanceBudget) Over() bool { return b.writer().Over() }

// noBudget is the budget of an address outside the cluster: it has no
// slot to give.
type noBudget struct{}

var errNotInstance = errors.New("the address is not an instance of the cluster")

func (noBudget) TryReserve() (func(), bool)              { return nil, false }
func (noBudget) Reserve(context.Context) (func(), error) { return nil, errNotInstance }
func (noBudget) Over() bool                              { return false }

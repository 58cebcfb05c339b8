package pool

import (
	"context"
	"fmt"
	"slices"
)

// Instances is the connection budget of a cluster with instances (a
// writer and readers): one budget of max_connections per instance
// address, shared by every door that connects to that instance. Each
// budget is a Pool that nobody borrows from: the doors only reserve its
// slots (Reserve, TryReserve) for connections they open to its instance,
// and register evictors that close their idle connections to it, so its
// limit, lease, demand and eviction work as for a cluster of one address.
//
// The set of addresses is fixed when the cluster opens (instances change
// with a restart). An address outside it has no budget: reserving on it
// fails.
type Instances struct {
	writer func() string
	addrs  []string
	byAddr map[string]*Pool
}

// NewInstances returns the budgets of the instances at addrs, each of
// max connections; writer returns the current writer's address (one of
// addrs).
func NewInstances(addrs []string, writer func() string, max int) *Instances {
	s := &Instances{writer: writer, addrs: slices.Clone(addrs), byAddr: map[string]*Pool{}}
	for _, a := range addrs {
		if s.byAddr[a] == nil {
			s.byAddr[a] = New(nil, Config{Max: max})
		}
	}
	return s
}

// Addrs returns the instances' addresses in config order.
func (s *Instances) Addrs() []string { return slices.Clone(s.addrs) }

// Of returns the budget of the instance at addr, nil for an address
// outside the cluster.
func (s *Instances) Of(addr string) *Pool { return s.byAddr[addr] }

// Writer returns the current writer's address.
func (s *Instances) Writer() string { return s.writer() }

// ReserveOn takes a slot of the budget of the instance at addr, waiting
// until ctx is done (see Pool.Reserve).
func (s *Instances) ReserveOn(ctx context.Context, addr string) (release func(), err error) {
	b := s.byAddr[addr]
	if b == nil {
		return nil, fmt.Errorf("%s is not an instance of the cluster", addr)
	}
	return b.Reserve(ctx)
}

// SetMax changes every instance's budget (max_connections).
func (s *Instances) SetMax(n int) {
	for _, b := range s.byAddr {
		b.SetMax(n)
	}
}

// Close closes every budget.
func (s *Instances) Close() {
	for _, b := range s.byAddr {
		b.Close()
	}
}

// OverOn reports that the budget of the instance at addr holds more
// slots than it now allows (Pool.Over); false outside the cluster.
func (s *Instances) OverOn(addr string) bool {
	b := s.byAddr[addr]
	return b != nil && b.Over()
}

package topology

import (
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"
)

// ErrNoReader is returned by Balancer.Pick when no reader is eligible
// and the writer is not a fallback.
var ErrNoReader = errors.New("no reader instance is available")

// ReaderPolicy says which readers may serve reads.
type ReaderPolicy struct {
	// MaxLag: a reader lagging more gets no new connections (0 = any lag).
	MaxLag time.Duration
	// WriterFallback: with no eligible reader, reads go to the writer.
	WriterFallback bool
}

// Balancer chooses the instance of each transaction of a cluster's
// reader endpoints: among the healthy readers whose lag is within the
// policy, the one with the fewest picks outstanding, ties taken in turn.
// The proxies pick per borrow and end the pick when the transaction's
// connection comes back, so the outstanding picks are the requests in
// flight on each reader; a SQL endpoint's reader pool picks per
// connection. One Balancer is shared by every reader door of a cluster,
// so they balance together.
type Balancer struct {
	mon    *Monitor
	policy ReaderPolicy

	mu    sync.Mutex     // guards open, conns and turn
	open  map[string]int // picks outstanding, by address
	conns map[string]int // connections open (Connected), by address
	turn  int            // where the next tie-break starts
}

// NewBalancer returns a Balancer over mon's view of the instances.
func NewBalancer(mon *Monitor, policy ReaderPolicy) *Balancer {
	return &Balancer{mon: mon, policy: policy, open: map[string]int{}, conns: map[string]int{}}
}

// eligible returns the addresses of the readers that may take reads now,
// least lag first.
func (b *Balancer) eligible() []string {
	var out []string
	for _, s := range b.mon.Readers() {
		if b.policy.MaxLag <= 0 || s.Lag <= b.policy.MaxLag {
			out = append(out, s.Address)
		}
	}
	return out
}

// Pick returns the address of the instance to use and done, which the
// caller calls exactly once when it is done with it (the transaction's
// borrow ended, or the connection closed, or its dial failed). With no eligible reader it returns the writer when the
// policy falls back to it, else an error wrapping ErrNoReader that says
// why each reader is out.
func (b *Balancer) Pick() (addr string, done func(), err error) {
	cands := b.eligible()
	if len(cands) == 0 {
		if !b.policy.WriterFallback {
			return "", nil, b.noReader()
		}
		cands = []string{b.mon.Writer()}
	}
	b.mu.Lock()
	n := len(cands)
	start := b.turn % n
	addr = cands[start]
	for i := 1; i < n; i++ {
		if c := cands[(start+i)%n]; b.open[c] < b.open[addr] {
			addr = c
		}
	}
	b.turn++
	b.open[addr]++
	b.mu.Unlock()
	var once sync.Once
	return addr, func() { once.Do(func() { b.count(b.open, addr, -1) }) }, nil
}

// count adds d to m[addr].
func (b *Balancer) count(m map[string]int, addr string, d int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m[addr] += d; m[addr] <= 0 {
		delete(m, addr)
	}
}

// Connected counts a connection opened to addr for a reader door until
// closed (called once) is called: sqlgate_topology_reader_connections.
func (b *Balancer) Connected(addr string) (closed func()) {
	b.count(b.conns, addr, 1)
	var once sync.Once
	return func() { once.Do(func() { b.count(b.conns, addr, -1) }) }
}

// Connections returns the connections open through the reader doors by
// address (for metrics).
func (b *Balancer) Connections() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.conns)
}

// noReader explains why no reader is eligible.
func (b *Balancer) noReader() error {
	why := ""
	for _, s := range b.mon.Instances() {
		switch {
		case s.Role == RoleWriter && s.Healthy:
			continue
		case !s.Healthy:
			why += fmt.Sprintf("; %s: %s", s.Address, s.Reason)
		case s.Lag > b.policy.MaxLag:
			why += fmt.Sprintf("; %s: lag %s over max_replica_lag %s", s.Address, s.Lag.Round(time.Millisecond), b.policy.MaxLag)
		}
	}
	if why == "" {
		why = "; the cluster has no reader"
	}
	return fmt.Errorf("%w (healthy, replication lag within max_replica_lag)%s", ErrNoReader, why)
}

// Serves reports whether a connection to addr may still carry reads: it
// is an eligible reader, or it is the writer while the policy falls back
// to it and no reader is eligible. A pooled connection that no longer
// serves is closed instead of reused, so reads leave a reader that lags
// and come back when it has caught up (and leave the writer then).
func (b *Balancer) Serves(addr string) bool {
	cands := b.eligible()
	for _, c := range cands {
		if c == addr {
			return true
		}
	}
	return len(cands) == 0 && b.policy.WriterFallback && addr == b.mon.Writer()
}

// Down takes a reader whose connection failed between health checks out
// of the picks until the next check finds it serving (Monitor.MarkDown).
func (b *Balancer) Down(addr string, err error) {
	b.mon.MarkDown(addr, err)
}

// Open returns the picks outstanding by address (for tests and metrics).
func (b *Balancer) Open() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.open)
}

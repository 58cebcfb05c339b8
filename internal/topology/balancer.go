package topology

import (
	"errors"
	"fmt"
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

// Balancer chooses the instance of each new connection of a cluster's
// reader endpoints: among the healthy readers whose lag is within the
// policy, the one with the fewest connections open through this Balancer
// (each pooled connection carries one transaction at a time, so these are
// the outstanding requests a reader can be asked to carry). One Balancer
// is shared by every reader door of a cluster, so they balance together.
type Balancer struct {
	mon    *Monitor
	policy ReaderPolicy

	mu   sync.Mutex     // guards open
	open map[string]int // connections open, by address
}

// NewBalancer returns a Balancer over mon's view of the instances.
func NewBalancer(mon *Monitor, policy ReaderPolicy) *Balancer {
	return &Balancer{mon: mon, policy: policy, open: map[string]int{}}
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

// Pick returns the address a new connection should dial and done, which
// the caller calls exactly once when that connection is closed (or its
// dial failed). With no eligible reader it returns the writer when the
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
	addr = cands[0]
	for _, c := range cands[1:] {
		if b.open[c] < b.open[addr] {
			addr = c
		}
	}
	b.open[addr]++
	b.mu.Unlock()
	var once sync.Once
	return addr, func() { once.Do(func() { b.closed(addr) }) }, nil
}

func (b *Balancer) closed(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open[addr]--; b.open[addr] <= 0 {
		delete(b.open, addr)
	}
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

// Open returns the connections open through the Balancer by address (for
// tests and metrics).
func (b *Balancer) Open() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]int, len(b.open))
	for k, v := range b.open {
		out[k] = v
	}
	return out
}

// Package topology watches the instances of one cluster — a writer and any
// number of readers — by connecting to each on an interval and asking the
// server itself for its role and replication lag, so a replica promoted by
// the database's own tooling or an operator is recognised as the writer
// without a config change. The rest of the process asks a Monitor for the
// current writer address and the healthy readers (docs/proxy.md,
// "Topology").
package topology

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// Role is what an instance is, as the server itself reports it.
type Role string

// The roles. An instance that could not be checked has RoleUnknown.
const (
	RoleUnknown Role = "unknown"
	RoleWriter  Role = "writer"
	RoleReader  Role = "reader"
)

// Status is the last check of one instance.
type Status struct {
	Address string
	Role    Role
	// Healthy is true when the last check connected, ran its query and,
	// for a reader, found replication running.
	Healthy bool
	// Lag is how far a reader's applied data trails the writer (0 for
	// the writer). PostgreSQL: the age of the last replayed transaction
	// while received WAL is still unreplayed, else 0 (the standby's uptime
	// when it has replayed no transaction since it started); MariaDB/MySQL:
	// Seconds_Behind_Master.
	Lag time.Duration
	// LagBytes is the WAL received but not yet replayed (PostgreSQL only).
	LagBytes int64
	// Reason says why the instance is unhealthy ("" when healthy).
	Reason string
	// Checked is when the last check finished (zero before the first).
	Checked time.Time
}

// Observation is what a Probe learns from one connected instance.
type Observation struct {
	Role     Role
	Lag      time.Duration
	LagBytes int64
	// Unhealthy, when set, is why a reachable instance must not serve
	// (replication stopped).
	Unhealthy string
}

// Probe runs the engine's role and lag queries on a fresh connection.
type Probe func(ctx context.Context, c engine.Conn) (Observation, error)

// Dial opens a connection to the instance at address.
type Dial func(ctx context.Context, address string) (engine.Conn, error)

// Budget is the connection budget of a cluster's instances (a
// *pool.Instances): one max_connections per instance. Every check holds
// one slot of its instance's budget while it is connected, so checks
// count toward max_connections like every other backend connection.
type Budget interface {
	// ReserveOn takes a slot of the budget of the instance at addr,
	// waiting until ctx is done.
	ReserveOn(ctx context.Context, addr string) (release func(), err error)
	// OverOn reports that the instance's budget holds more slots than
	// it now allows (lowered): a connection coming back is closed.
	OverOn(addr string) bool
}

// Instance is one configured instance; Role is what the operator expects
// it to be (the server's answer wins).
type Instance struct {
	Address string
	Role    Role
}

// Config is the cluster a Monitor watches.
type Config struct {
	Cluster   string
	Instances []Instance
	Interval  time.Duration // between check rounds (0 = 5s)
	Timeout   time.Duration // per check, connect included (0 = 2s)
	Dial      Dial
	Probe     Probe
	Budget    Budget // nil = checks take no budget slot
	Log       *slog.Logger
}

// Monitor checks every instance of one cluster on an interval.
type Monitor struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex // guards following fields
	status   []Status   // in config order
	writer   string
	rounds   uint64
	skipped  uint64 // checks not run because the budget was full
	switches uint64 // writer changes
}

// New returns a Monitor whose writer is the configured writer until the
// first check says otherwise. Call Run to start checking.
func New(cfg Config) *Monitor {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	m := &Monitor{cfg: cfg, log: cfg.Log.With("component", "topology", "cluster", cfg.Cluster)}
	for _, in := range cfg.Instances {
		m.status = append(m.status, Status{Address: in.Address, Role: RoleUnknown, Reason: "not checked yet"})
		if in.Role == RoleWriter && m.writer == "" {
			m.writer = in.Address
		}
	}
	if m.writer == "" && len(cfg.Instances) > 0 {
		m.writer = cfg.Instances[0].Address
	}
	return m
}

// Run checks every instance at once, then every Interval, until ctx is done.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		m.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check runs one round: every instance is checked concurrently, then the
// writer is chosen.
func (m *Monitor) Check(ctx context.Context) {
	got := make([]*Status, len(m.cfg.Instances))
	var wg sync.WaitGroup
	for i, in := range m.cfg.Instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = m.checkOne(ctx, in.Address)
		}()
	}
	wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rounds++
	for i, s := range got {
		if s == nil {
			m.skipped++
			continue
		}
		m.status[i] = *s
	}
	if w := chooseWriter(m.writer, m.status); w != m.writer {
		m.log.Info("writer changed", "from", m.writer, "to", w)
		m.writer = w
		m.switches++
	}
}

// checkOne checks one instance; nil means the check could not run (no
// budget slot), which leaves the previous status in place.
func (m *Monitor) checkOne(ctx context.Context, addr string) *Status {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	if m.cfg.Budget != nil {
		release, err := m.cfg.Budget.ReserveOn(ctx, addr)
		if err != nil {
			return nil
		}
		defer release()
	}
	st := &Status{Address: addr, Role: RoleUnknown}
	defer func() { st.Checked = time.Now() }()
	conn, err := m.cfg.Dial(ctx, addr)
	if err != nil {
		st.Reason = "connect: " + err.Error()
		return st
	}
	defer func() { _ = conn.Close() }()
	obs, err := m.cfg.Probe(ctx, conn)
	if err != nil {
		st.Reason = "query: " + err.Error()
		return st
	}
	st.Role, st.Lag, st.LagBytes = obs.Role, obs.Lag, obs.LagBytes
	st.Healthy, st.Reason = obs.Unhealthy == "", obs.Unhealthy
	return st
}

// chooseWriter keeps the current writer while it is a healthy writer, so
// an old primary that comes back writable after a promotion does not take
// the role back; otherwise it picks the first healthy writer in config
// order. With none, the current one stays (dials fail with the database's
// own error until an instance becomes writer).
func chooseWriter(cur string, st []Status) string {
	for _, s := range st {
		if s.Address == cur && s.Healthy && s.Role == RoleWriter {
			return cur
		}
	}
	for _, s := range st {
		if s.Healthy && s.Role == RoleWriter {
			return s.Address
		}
	}
	return cur
}

// MarkDown records that a connection to the reader at addr failed with err
// between checks: it counts as unhealthy (no reads) until the next check
// round finds it serving. The writer is left to the checks, which also
// decide failover.
func (m *Monitor) MarkDown(addr string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if addr == m.writer {
		return
	}
	for i := range m.status {
		if s := &m.status[i]; s.Address == addr && s.Healthy {
			s.Healthy, s.Reason = false, "connect failed since the last check: "+err.Error()
			m.log.Warn("reader marked down until the next check", "instance", addr, "err", err)
		}
	}
}

// Writer returns the address of the current writer.
func (m *Monitor) Writer() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writer
}

// Readers returns the healthy readers, least lag first.
func (m *Monitor) Readers() []Status {
	m.mu.Lock()
	var out []Status
	for _, s := range m.status {
		if s.Healthy && s.Role == RoleReader {
			out = append(out, s)
		}
	}
	m.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Lag < out[j].Lag })
	return out
}

// Instances returns the last status of every instance, in config order.
func (m *Monitor) Instances() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Status(nil), m.status...)
}

// Counters are the Monitor's totals for metrics.
type Counters struct {
	Rounds, Skipped, WriterChanges uint64
}

// Counters returns the check rounds run, the checks skipped for want of
// a budget slot, and the writer changes seen.
func (m *Monitor) Counters() Counters {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Counters{Rounds: m.rounds, Skipped: m.skipped, WriterChanges: m.switches}
}

// Cluster returns the name of the cluster watched.
func (m *Monitor) Cluster() string { return m.cfg.Cluster }

// Package lease shares each cluster's max_connections (each instance's,
// for a cluster with instances) among the sqlgate nodes of one state
// store, so that N nodes together never open more connections to a
// database than its budget (docs/proxy.md, "Several nodes").
//
// Each budget has one record in the state store (Namespace, key = the
// cluster's name, or for a cluster with instances Key(cluster, address)
// per instance, each instance having a budget of its own) holding every
// node's lease: its grant, its demand, a heartbeat counter and its
// configured max_connections. A node renews its
// leases every TTL/6 in one atomic read-modify-write of the record:
//
//  1. Other nodes whose heartbeat has not changed for a TTL, measured on
//     this node's clock from when it first saw that value, are dropped:
//     their grant is free again. No clock is compared across nodes.
//  2. The budget (the smallest max_connections among the nodes) is split
//     by demand (Split: max-min fair, the unasked rest spread equally) —
//     the node's target.
//  3. The node's new share is its target, bounded by what the other
//     grants leave free; it never takes more. Lowering applies locally
//     first (idle connections close at once, busy ones as they come back)
//     and the grant written is the larger of the new share and the
//     connections still open, so the stored grants always cover what the
//     nodes hold. Raising applies locally only after the write committed.
//
// Heartbeats carry the demand; between them a node re-evaluates when the
// record changes (a store watch) and when its open connections fall under
// a grant it is giving back, and writes only when its grant changes. So a
// node joining, leaving or dying is balanced within a few round trips.
//
// Fencing: a lease is valid on its own node until TTL×2/3 after the start
// of the last renewal that committed. A node that cannot renew by then
// sets its limit to 0: idle connections close, busy ones close when they
// come back, and nothing new is opened until a renewal succeeds. The
// other nodes drop its lease no sooner than a full TTL after they saw its
// last heartbeat, which is after it fenced itself.
//
// The pools never call the state store: a lease only changes the local
// limit (pool.Pool.SetLease), and a request that finds the limit reached
// waits in the pool as before.
package lease

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/state"
)

// DefaultTTL is the lease TTL when Config.TTL is zero.
const DefaultTTL = 6 * time.Second

// Budget is one cluster's local connection budget (a *pool.Pool).
type Budget interface {
	// Max is the cluster's configured max_connections.
	Max() int
	// SetLease sets the number of connections this node may hold.
	SetLease(n int)
	// Demand is connections held plus requests waiting for one.
	Demand() int
	// Open is the number of connections held.
	Open() int
}

// Config wires a Manager.
type Config struct {
	// Node is this node's id, unique among the nodes (NodeID).
	Node  string
	Store state.Store
	// TTL is how long a lease lasts without renewal (0 = DefaultTTL).
	TTL time.Duration
	// Now is the clock (nil = time.Now); tests drive it.
	Now func() time.Time
	Log *slog.Logger
}

// Manager holds this node's leases, one per cluster (per instance of a
// cluster with instances).
type Manager struct {
	cfg      Config
	log      *slog.Logger
	clusters []*held
	fences   atomic.Uint64
}

// held is the node's lease on one budget.
type held struct {
	cluster, instance string
	key               string // the record's key (Key)
	budget            Budget

	mu     sync.Mutex      // guards following fields
	limit  int             // the local limit set (SetLease)
	grant  int             // the grant last written
	nodes  int             // nodes sharing the cluster at the last renewal
	valid  time.Time       // the lease holds until then (this node's clock)
	seen   map[string]seen // other nodes' heartbeats
	fenced bool
}

// seen is the heartbeat value of another node and when this node first
// saw it.
type seen struct {
	beat uint64
	at   time.Time
}

// New returns a Manager. Add the clusters before Run.
func New(cfg Config) *Manager {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Manager{cfg: cfg, log: cfg.Log.With("component", "lease", "node", cfg.Node)}
}

// NodeID returns a node id unique to this process: the host name and a
// random suffix (a restarted node is a new node; its old lease expires).
func NodeID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

// Add puts the budget of cluster under lease: the whole cluster's
// (instance "") or, for a cluster with instances, the one of the
// instance at that address. The budget's limit is set to 0 until the
// first renewal grants a share.
func (m *Manager) Add(cluster, instance string, b Budget) {
	b.SetLease(0)
	m.clusters = append(m.clusters, &held{cluster: cluster, instance: instance, key: Key(cluster, instance),
		budget: b, seen: map[string]seen{}})
}

// Key is the record key of the budget of cluster's instance at address
// ("" = of the cluster as a whole): "cluster", or "cluster@address". A
// cluster's budgets were one record before instances had budgets of
// their own; nodes that share a store run one version.
func Key(cluster, instance string) string {
	if instance == "" {
		return cluster
	}
	return cluster + "@" + instance
}

// Stat is one budget's lease as this node holds it, for metrics.
type Stat struct {
	Cluster  string
	Instance string // "" for a cluster without instances
	Limit    int    // connections this node may hold now
	Grant    int    // its grant in the state store
	Open     int    // connections it holds
	Nodes    int    // nodes sharing the cluster
	Fenced   bool
}

// Stats returns the leases of every cluster.
func (m *Manager) Stats() []Stat {
	out := make([]Stat, 0, len(m.clusters))
	for _, h := range m.clusters {
		h.mu.Lock()
		out = append(out, Stat{Cluster: h.cluster, Instance: h.instance, Limit: h.limit, Grant: h.grant, Nodes: h.nodes, Fenced: h.fenced})
		h.mu.Unlock()
		out[len(out)-1].Open = h.budget.Open()
	}
	return out
}

// Fences counts the times a lease expired unrenewed on this node.
func (m *Manager) Fences() uint64 { return m.fences.Load() }

// errUnchanged aborts a renewal that would write nothing new.
var errUnchanged = errors.New("lease unchanged")

// period is the heartbeat interval.
func (m *Manager) period() time.Duration { return m.cfg.TTL / 6 }

// margin is how much earlier than the TTL a node fences itself.
func (m *Manager) margin() time.Duration { return m.cfg.TTL / 3 }

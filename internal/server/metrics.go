package server

import (
	"runtime"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/fairshare"
	"github.com/sqlgate/sqlgate/internal/lease"
	"github.com/sqlgate/sqlgate/internal/metrics"
	"github.com/sqlgate/sqlgate/internal/pool"
	"github.com/sqlgate/sqlgate/internal/topology"
)

// serverMetrics are the Data API and pool metrics (docs/metrics.md).
type serverMetrics struct {
	reg      *metrics.Registry
	requests *metrics.CounterVec
	latency  *metrics.HistogramVec
	// taskPanics counts panics recovered in background tasks, by task.
	taskPanics *metrics.CounterVec
	// bound holds the series of each (cluster, action, outcome) seen, so
	// a request costs a map read and atomic adds (dataAPIKey → *dataAPISeries).
	// Clusters are configured, actions and outcomes fixed sets: it stays small.
	bound sync.Map
}

type dataAPIKey struct{ cluster, action, outcome string }

type dataAPISeries struct {
	requests metrics.Counter
	latency  *metrics.HistogramSeries
}

func newServerMetrics() *serverMetrics {
	reg := metrics.NewRegistry()
	return &serverMetrics{
		reg: reg,
		requests: reg.NewCounterVec("sqlgate_dataapi_requests_total",
			"Data API requests by cluster, action and outcome (OK or the exception name).", "cluster", "action", "outcome"),
		latency: reg.NewHistogramVec("sqlgate_dataapi_request_duration_seconds",
			"Data API request latency.", metrics.DefaultBuckets, "cluster", "action"),
		taskPanics: reg.NewCounterVec("sqlgate_task_panics_total",
			"Panics recovered in background tasks (reapers, watchers), by task; the task is restarted.", "task"),
	}
}

// ObserveDataAPI implements dataapi.Observer.
func (m *serverMetrics) ObserveDataAPI(cluster, action, outcome string, d time.Duration) {
	k := dataAPIKey{cluster, action, outcome}
	v, ok := m.bound.Load(k)
	if !ok {
		v, _ = m.bound.LoadOrStore(k, &dataAPISeries{
			requests: m.requests.With(cluster, action, outcome),
			latency:  m.latency.With(cluster, action),
		})
	}
	s := v.(*dataAPISeries)
	s.requests.Inc()
	s.latency.Observe(d.Seconds())
}

// register adds gauges read from the server at scrape time.
func (m *serverMetrics) register(s *Server) {
	topology.RegisterMetrics(m.reg, s.monitors)
	m.registerShares(s)
	topology.RegisterReaderMetrics(m.reg, s.balancers)
	if s.leases != nil {
		lease.RegisterMetrics(m.reg, s.leases)
	}
	m.reg.NewGaugeFunc("sqlgate_dataapi_open_transactions", "Open Data API transactions.", nil,
		func(emit func(float64, ...string)) { emit(float64(s.txns.Count())) })
	m.reg.NewGaugeFunc("sqlgate_pool_connections", "Backend connections by cluster and state (busy, idle).",
		[]string{"cluster", "state"}, func(emit func(float64, ...string)) {
			for _, c := range s.clusters {
				busy, idle := c.connections()
				emit(float64(busy), c.name, "busy")
				emit(float64(idle), c.name, "idle")
			}
		})
	m.registerInstances(s)
	m.reg.NewGaugeFunc("sqlgate_pool_waiting", "Requests waiting for a backend connection.",
		[]string{"cluster"}, func(emit func(float64, ...string)) {
			for _, c := range s.clusters {
				emit(float64(c.pool.Stats().Waiting), c.name)
			}
		})
	m.reg.NewGaugeFunc("sqlgate_go_processors", "Go processors (GOMAXPROCS) the process runs on now.", nil,
		func(emit func(float64, ...string)) { emit(float64(runtime.GOMAXPROCS(0))) })
	m.reg.NewGaugeFunc("sqlgate_pool_max_connections", "Backend connection budget (max_connections).",
		[]string{"cluster"}, func(emit func(float64, ...string)) {
			for _, c := range s.clusters {
				emit(float64(c.pool.Max()), c.name)
			}
		})
}

// registerShares adds the per-principal limit metrics of the clusters
// that set any (internal/fairshare).
func (m *serverMetrics) registerShares(s *Server) {
	each := func(fn func(c *cluster, st fairshare.Stats)) {
		for _, c := range s.clusters {
			if c.exec.Shares != nil {
				fn(c, c.exec.Shares.Stats())
			}
		}
	}
	m.reg.NewCounterFunc("sqlgate_principal_refusals_total",
		"Calls refused because their principal held its share, by cluster and limit (connections, transactions, waiters).",
		[]string{"cluster", "limit"}, func(emit func(float64, ...string)) {
			each(func(c *cluster, st fairshare.Stats) {
				for _, k := range fairshare.Kinds() {
					emit(float64(st.Refused[k]), c.name, k.String())
				}
			})
		})
	m.reg.NewGaugeFunc("sqlgate_principal_max_held",
		"The most any one principal holds now, by cluster and limit (connections, transactions, waiters).",
		[]string{"cluster", "limit"}, func(emit func(float64, ...string)) {
			each(func(c *cluster, st fairshare.Stats) {
				for _, k := range fairshare.Kinds() {
					emit(float64(st.Top[k]), c.name, k.String())
				}
			})
		})
	m.reg.NewGaugeFunc("sqlgate_principal_active",
		"Principals holding or waiting for a connection or transaction, by cluster.",
		[]string{"cluster"}, func(emit func(float64, ...string)) {
			each(func(c *cluster, st fairshare.Stats) { emit(float64(st.Principals), c.name) })
		})
}

// registerInstances adds the gauges of the instances' budgets of the
// clusters with instances (budgets.go).
func (m *serverMetrics) registerInstances(s *Server) {
	each := func(fn func(c *cluster, addr string, b *pool.Pool)) {
		for _, c := range s.clusters {
			if c.budgets == nil {
				continue
			}
			for _, addr := range c.budgets.Addrs() {
				fn(c, addr, c.budgets.Of(addr))
			}
		}
	}
	m.reg.NewGaugeFunc("sqlgate_pool_instance_connections",
		"Backend connections to each instance of a cluster with instances, from every door (health checks included).",
		[]string{"cluster", "instance"}, func(emit func(float64, ...string)) {
			each(func(c *cluster, addr string, b *pool.Pool) { emit(float64(b.Open()), c.name, addr) })
		})
	m.reg.NewGaugeFunc("sqlgate_pool_instance_limit",
		"Connections this node may hold to each instance now: max_connections, or its leased share of the instance's.",
		[]string{"cluster", "instance"}, func(emit func(float64, ...string)) {
			each(func(c *cluster, addr string, b *pool.Pool) { emit(float64(b.Limit()), c.name, addr) })
		})
	m.reg.NewGaugeFunc("sqlgate_pool_instance_waiting",
		"Requests waiting for a slot of an instance's budget.",
		[]string{"cluster", "instance"}, func(emit func(float64, ...string)) {
			each(func(c *cluster, addr string, b *pool.Pool) { emit(float64(b.Stats().Waiting), c.name, addr) })
		})
}

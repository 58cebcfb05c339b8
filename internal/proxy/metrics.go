package proxy

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/metrics"
)

// Metrics are the sqlgate_proxy_* families (docs/metrics.md), shared by all
// proxies that register on one metrics.Registry and labelled by cluster.
// Names mirror RDS Proxy's CloudWatch metrics where one exists.
type Metrics struct {
	ClientsReceived *metrics.CounterVec   // cluster
	ClientsSetup    *metrics.CounterVec   // cluster, outcome: ok|auth_failed|rejected|error
	BackendDials    *metrics.CounterVec   // cluster, outcome: ok|error
	BorrowWait      *metrics.HistogramVec // cluster
	Pins            *metrics.CounterVec   // cluster, reason
	Queries         *metrics.CounterVec   // cluster
	Transactions    *metrics.CounterVec   // cluster
	Bytes           *metrics.CounterVec   // cluster, direction: in (from clients)|out (to clients)
	Errors          *metrics.CounterVec   // cluster, kind
	Pipelined       *metrics.CounterVec   // cluster, what: writes|queries

	mu      sync.Mutex // guards servers
	servers []*Server
}

var (
	metricsMu    sync.Mutex // guards metricsByReg
	metricsByReg = map[*metrics.Registry]*Metrics{}
)

// metricsFor returns the Metrics of reg, registering the families on first
// use so that several proxies can share one registry.
func metricsFor(reg *metrics.Registry) *Metrics {
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	metricsMu.Lock()
	defer metricsMu.Unlock()
	if m, ok := metricsByReg[reg]; ok {
		return m
	}
	m := &Metrics{
		ClientsReceived: reg.NewCounterVec("sqlgate_proxy_client_connections_received_total", "Client connections accepted (RDS ClientConnectionsReceived).", "cluster"),
		ClientsSetup: reg.NewCounterVec("sqlgate_proxy_client_connections_setup_total",
			"Client connection setups by outcome: ok, auth_failed, rejected (limit or shutdown), error.", "cluster", "outcome"),
		BackendDials: reg.NewCounterVec("sqlgate_proxy_database_connection_requests_total",
			"New database connections opened by the proxy, by outcome (RDS DatabaseConnectionRequests).", "cluster", "outcome"),
		BorrowWait: reg.NewHistogramVec("sqlgate_proxy_borrow_wait_seconds",
			"Time a client waited for a database connection (RDS DatabaseConnectionsBorrowLatency).", metrics.DefaultBuckets, "cluster"),
		Pins:         reg.NewCounterVec("sqlgate_proxy_session_pins_total", "Sessions pinned to one database connection, by reason.", "cluster", "reason"),
		Queries:      reg.NewCounterVec("sqlgate_proxy_queries_total", "Queries relayed (a simple Query or an extended-protocol Sync; RDS QueryRequests).", "cluster"),
		Transactions: reg.NewCounterVec("sqlgate_proxy_transactions_total", "Database connection borrows, one per transaction or pinned session.", "cluster"),
		Bytes:        reg.NewCounterVec("sqlgate_proxy_bytes_total", "Protocol bytes relayed: in = from clients, out = to clients.", "cluster", "direction"),
		Errors:       reg.NewCounterVec("sqlgate_proxy_errors_total", "Proxy-side failures by kind.", "cluster", "kind"),
		Pipelined: reg.NewCounterVec("sqlgate_proxy_pipelined_total",
			"Pipelining of queued statements: writes = database writes that carried several clients' statements, queries = the statements they carried.", "cluster", "what"),
	}
	reg.NewGaugeFunc("sqlgate_proxy_client_connections", "Open client connections (RDS ClientConnections).",
		[]string{"cluster", "tls"}, func(emit func(float64, ...string)) {
			m.perCluster(func(s *Server) []float64 {
				all, tls := s.clientCounts()
				return []float64{float64(all - tls), float64(tls)}
			}, func(cluster string, v []float64) {
				emit(v[0], cluster, "false")
				emit(v[1], cluster, "true")
			})
		})
	reg.NewGaugeFunc("sqlgate_proxy_database_connections", "Database connections of the proxy by state: busy (borrowed) or idle.",
		[]string{"cluster", "state"}, func(emit func(float64, ...string)) {
			m.perCluster(func(s *Server) []float64 {
				st := s.poolStats()
				return []float64{float64(st.Busy), float64(st.Idle)}
			}, func(cluster string, v []float64) {
				emit(v[0], cluster, "busy")
				emit(v[1], cluster, "idle")
			})
		})
	reg.NewGaugeFunc("sqlgate_proxy_borrow_waiting", "Clients waiting for a database connection.",
		[]string{"cluster"}, func(emit func(float64, ...string)) {
			m.perCluster(func(s *Server) []float64 { return []float64{float64(s.poolStats().Waiting)} },
				func(cluster string, v []float64) { emit(v[0], cluster) })
		})
	reg.NewGaugeFunc("sqlgate_proxy_pinned_sessions", "Client sessions currently pinned (RDS DatabaseConnectionsCurrentlySessionPinned).",
		[]string{"cluster"}, func(emit func(float64, ...string)) {
			m.perCluster(func(s *Server) []float64 { return []float64{float64(s.pinned.Load())} },
				func(cluster string, v []float64) { emit(v[0], cluster) })
		})
	metricsByReg[reg] = m
	return m
}

func (m *Metrics) add(s *Server) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.servers = append(m.servers, s)
}

func (m *Metrics) remove(s *Server) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, x := range m.servers {
		if x == s {
			m.servers = append(m.servers[:i:i], m.servers[i+1:]...)
			return
		}
	}
}

// perCluster sums the values of every server per cluster, in cluster
// order, so that several proxies of one cluster (the file's and ones
// created online) make one series per label set.
func (m *Metrics) perCluster(values func(*Server) []float64, emit func(cluster string, v []float64)) {
	sums := map[string][]float64{}
	var order []string
	for _, s := range m.list() {
		v := values(s)
		acc, ok := sums[s.cluster]
		if !ok {
			order = append(order, s.cluster)
			acc = make([]float64, len(v))
		}
		for i := range v {
			acc[i] += v[i]
		}
		sums[s.cluster] = acc
	}
	for _, c := range order {
		emit(c, sums[c])
	}
}

func (m *Metrics) list() []*Server {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Server(nil), m.servers...)
}

// Counters accumulates a session's counts between flushes, so the hot path
// touches no shared state. Flush them with Session.Flush.
type Counters struct {
	Queries, Transactions, BytesIn, BytesOut uint64
}

// ObserveBorrow records one pool Get: wait time and failure kind.
func (s *Server) ObserveBorrow(wait time.Duration, err error) {
	bw := s.borrowWait.Load()
	if bw == nil { // first borrow: bind the series (no label key per borrow)
		bw = s.m.BorrowWait.With(s.cluster)
		s.borrowWait.Store(bw)
	}
	bw.Observe(wait.Seconds())
	switch {
	case err == nil:
	case isErr(err, ErrBorrowTimeout):
		s.m.Errors.Inc(s.cluster, "borrow_timeout")
	case isErr(err, ErrBackendDown):
		s.m.Errors.Inc(s.cluster, "backend_down")
	default:
		s.m.Errors.Inc(s.cluster, "borrow")
	}
}

// ObserveDial records one new backend connection attempt.
func (s *Server) ObserveDial(err error) {
	if err != nil {
		s.m.BackendDials.Inc(s.cluster, "error")
		return
	}
	s.m.BackendDials.Inc(s.cluster, "ok")
}

// CountError counts a proxy-side failure of kind (e.g. "backend_lost",
// "client_lost", "protocol").
func (s *Server) CountError(kind string) { s.m.Errors.Inc(s.cluster, kind) }

// CountPipeline counts one database write that carried the statements of
// units clients.
func (s *Server) CountPipeline(units int) {
	s.series.pipeWrites.add(s.m.Pipelined, 1, s.cluster, "writes")
	s.series.pipeQueries.add(s.m.Pipelined, uint64(units), s.cluster, "queries")
}

// series is one series of a counter, bound to its label values on its
// first update: making the label key on every update would cost more
// than the update.
type series struct {
	c atomic.Pointer[metrics.Counter]
}

// add adds n to the series of v with these label values.
func (s *series) add(v *metrics.CounterVec, n uint64, values ...string) {
	c := s.c.Load()
	if c == nil {
		b := v.With(values...)
		c = &b
		s.c.Store(c)
	}
	c.Add(n)
}

// serverSeries are the series of a Server's cluster that sessions update
// as they run.
type serverSeries struct {
	queries, transactions, bytesIn, bytesOut, pipeWrites, pipeQueries series
}

func isErr(err, target error) bool { return errors.Is(err, target) }

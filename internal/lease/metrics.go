package lease

import "github.com/sqlgate/sqlgate/internal/metrics"

// RegisterMetrics adds the sqlgate_pool_lease_* gauges of m to reg
// (docs/metrics.md), by cluster and instance (empty for a cluster
// without instances, whose series are then those of the cluster).
func RegisterMetrics(reg *metrics.Registry, m *Manager) {
	gauge := func(name, help string, v func(Stat) int) {
		reg.NewGaugeFunc(name, help, []string{"cluster", "instance"}, func(emit func(float64, ...string)) {
			for _, s := range m.Stats() {
				emit(float64(v(s)), s.Cluster, s.Instance)
			}
		})
	}
	gauge("sqlgate_pool_lease_share", "Backend connections this node may hold now: its leased share of max_connections (0 while fenced).",
		func(s Stat) int { return s.Limit })
	gauge("sqlgate_pool_lease_granted", "This node's grant in the state store: its share, or more while connections above a lowered share are still busy.",
		func(s Stat) int { return s.Grant })
	gauge("sqlgate_pool_lease_in_use", "Backend connections this node holds (busy, idle and reserved by the proxies).",
		func(s Stat) int { return s.Open })
	gauge("sqlgate_pool_lease_nodes", "Nodes sharing the max_connections of the cluster (of the instance) at the last renewal.",
		func(s Stat) int { return s.Nodes })
	reg.NewGaugeFunc("sqlgate_pool_lease_fences", "Times a lease expired unrenewed on this node since start (its connections were closed).", nil,
		func(emit func(float64, ...string)) { emit(float64(m.Fences())) })
}

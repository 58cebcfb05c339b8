package topology

import "github.com/sqlgate/sqlgate/internal/metrics"

// RegisterReaderMetrics adds the reader endpoints' gauges to reg; list
// returns the clusters' Balancers at scrape time (docs/metrics.md).
func RegisterReaderMetrics(reg *metrics.Registry, list func() []*Balancer) {
	reg.NewGaugeFunc("sqlgate_topology_reader_serving",
		"1 when the instance takes new connections of the cluster's reader endpoints (a healthy reader within max_replica_lag, or the writer as the fallback).",
		[]string{"cluster", "instance"},
		func(emit func(float64, ...string)) {
			for _, b := range list() {
				for _, s := range b.mon.Instances() {
					emit(b2f(b.Serves(s.Address)), b.mon.Cluster(), s.Address)
				}
			}
		})
	reg.NewGaugeFunc("sqlgate_topology_reader_connections",
		"Database connections open through the cluster's reader endpoints, by instance.",
		[]string{"cluster", "instance"}, byInstance(list, (*Balancer).Connections))
	reg.NewGaugeFunc("sqlgate_topology_reader_outstanding",
		"Transactions of the cluster's reader proxy endpoints under way, and connections of its reader SQL endpoints, by instance: what the least-outstanding choice compares.",
		[]string{"cluster", "instance"}, byInstance(list, (*Balancer).Open))
}

// byInstance emits count's value for every instance of every Balancer.
func byInstance(list func() []*Balancer, count func(*Balancer) map[string]int) func(emit func(float64, ...string)) {
	return func(emit func(float64, ...string)) {
		for _, b := range list() {
			n := count(b)
			for _, s := range b.mon.Instances() {
				emit(float64(n[s.Address]), b.mon.Cluster(), s.Address)
			}
		}
	}
}

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
		[]string{"cluster", "instance"},
		func(emit func(float64, ...string)) {
			for _, b := range list() {
				open := b.Open()
				for _, s := range b.mon.Instances() {
					emit(float64(open[s.Address]), b.mon.Cluster(), s.Address)
				}
			}
		})
}

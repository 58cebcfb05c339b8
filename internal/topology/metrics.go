package topology

import (
	"github.com/sqlgate/sqlgate/internal/metrics"
)

// roles are the label values of sqlgate_topology_instance_role.
var roles = []Role{RoleWriter, RoleReader, RoleUnknown}

// RegisterMetrics adds the topology gauges to reg; list returns the
// monitors at scrape time (docs/metrics.md).
func RegisterMetrics(reg *metrics.Registry, list func() []*Monitor) {
	each := func(fn func(m *Monitor, s Status, writer string)) {
		for _, m := range list() {
			w := m.Writer()
			for _, s := range m.Instances() {
				fn(m, s, w)
			}
		}
	}
	reg.NewGaugeFunc("sqlgate_topology_instance_healthy",
		"1 when the instance's last health check passed, else 0.", []string{"cluster", "instance"},
		func(emit func(float64, ...string)) {
			each(func(m *Monitor, s Status, _ string) { emit(b2f(s.Healthy), m.Cluster(), s.Address) })
		})
	reg.NewGaugeFunc("sqlgate_topology_instance_role",
		"1 for the role the instance reported at its last check (writer, reader, unknown).",
		[]string{"cluster", "instance", "role"},
		func(emit func(float64, ...string)) {
			each(func(m *Monitor, s Status, _ string) {
				for _, r := range roles {
					emit(b2f(s.Role == r), m.Cluster(), s.Address, string(r))
				}
			})
		})
	reg.NewGaugeFunc("sqlgate_topology_replica_lag_seconds",
		"Replication lag of a reader at its last check.", []string{"cluster", "instance"},
		func(emit func(float64, ...string)) {
			each(func(m *Monitor, s Status, _ string) {
				if s.Role == RoleReader {
					emit(s.Lag.Seconds(), m.Cluster(), s.Address)
				}
			})
		})
	reg.NewGaugeFunc("sqlgate_topology_replica_lag_bytes",
		"WAL a PostgreSQL reader received but has not replayed.", []string{"cluster", "instance"},
		func(emit func(float64, ...string)) {
			each(func(m *Monitor, s Status, _ string) {
				if s.Role == RoleReader {
					emit(float64(s.LagBytes), m.Cluster(), s.Address)
				}
			})
		})
	reg.NewGaugeFunc("sqlgate_topology_current_writer",
		"1 for the instance sqlgate sends writer traffic to.", []string{"cluster", "instance"},
		func(emit func(float64, ...string)) {
			each(func(m *Monitor, s Status, w string) { emit(b2f(s.Address == w), m.Cluster(), s.Address) })
		})
	registerCounters(reg, list)
}

func registerCounters(reg *metrics.Registry, list func() []*Monitor) {
	reg.NewGaugeFunc("sqlgate_topology_writer_changes",
		"Times the writer moved to another instance since start.", []string{"cluster"},
		func(emit func(float64, ...string)) {
			for _, m := range list() {
				emit(float64(m.Counters().WriterChanges), m.Cluster())
			}
		})
	reg.NewGaugeFunc("sqlgate_topology_checks_skipped",
		"Health checks not run because the connection budget was full; the previous status stays.",
		[]string{"cluster"},
		func(emit func(float64, ...string)) {
			for _, m := range list() {
				emit(float64(m.Counters().Skipped), m.Cluster())
			}
		})
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

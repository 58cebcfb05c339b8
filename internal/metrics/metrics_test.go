package metrics

import (
	"bytes"
	"strings"
	"testing"
)

// A bound series and Observe with label values update the same series.
func TestHistogramSeries(t *testing.T) {
	r := NewRegistry()
	h := r.NewHistogramVec("wait_seconds", "Wait.", []float64{0.1, 1}, "cluster")
	bound := h.With("pg")
	bound.Observe(0.05)
	h.Observe(0.5, "pg")
	bound.Observe(2)
	var buf bytes.Buffer
	r.Write(&buf)
	for _, want := range []string{
		`wait_seconds_bucket{cluster="pg",le="0.1"} 1`,
		`wait_seconds_bucket{cluster="pg",le="1"} 2`,
		`wait_seconds_bucket{cluster="pg",le="+Inf"} 3`,
		`wait_seconds_sum{cluster="pg"} 2.55`,
		`wait_seconds_count{cluster="pg"} 3`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("missing %q in\n%s", want, buf.String())
		}
	}
}

// A bound counter and Inc with label values update the same series, and
// histogram buckets stay cumulative with observations past the last one.
func TestCounterWithAndBuckets(t *testing.T) {
	r := NewRegistry()
	c := r.NewCounterVec("req_total", "Requests.", "outcome")
	c.With("OK").Inc()
	c.Inc("OK")
	h := r.NewHistogramVec("lat_seconds", "Latency.", []float64{0.1, 1}, "a")
	for _, v := range []float64{0.1, 0.2, 1, 5} {
		h.Observe(v, "x")
	}
	var buf bytes.Buffer
	r.Write(&buf)
	for _, want := range []string{
		`req_total{outcome="OK"} 2`,
		`lat_seconds_bucket{a="x",le="0.1"} 1`,
		`lat_seconds_bucket{a="x",le="1"} 3`,
		`lat_seconds_bucket{a="x",le="+Inf"} 4`,
		`lat_seconds_sum{a="x"} 6.3`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("missing %q in\n%s", want, buf.String())
		}
	}
}

func BenchmarkHistogramSeriesObserve(b *testing.B) {
	h := NewRegistry().NewHistogramVec("lat_seconds", "Latency.", DefaultBuckets, "a")
	s := h.With("x")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Observe(0.003)
		}
	})
}

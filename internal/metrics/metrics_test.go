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

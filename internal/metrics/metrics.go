// Package metrics is a small Prometheus text-format registry: counters and
// histograms with labels, and gauges read at scrape time. It exists so the
// binary needs no metrics dependency; the exposition format is
// https://prometheus.io/docs/instrumenting/exposition_formats/.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry holds metric families in registration order.
type Registry struct {
	mu       sync.Mutex // guards following fields
	families []family
}

type family interface {
	name() string
	write(w io.Writer)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

func (r *Registry) add(f family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.families = append(r.families, f)
}

// Write writes every family in Prometheus text format.
func (r *Registry) Write(w io.Writer) {
	r.mu.Lock()
	fams := append([]family(nil), r.families...)
	r.mu.Unlock()
	for _, f := range fams {
		f.write(w)
	}
}

// CounterVec is a counter with labels. Each series is an atomic counter;
// With binds one for a hot path, which then costs one atomic add.
type CounterVec struct {
	n, help string
	labels  []string
	mu      sync.RWMutex // guards values (the map, not the counters)
	values  map[string]*atomic.Uint64
}

// NewCounterVec registers a counter family.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{n: name, help: help, labels: labels, values: map[string]*atomic.Uint64{}}
	r.add(c)
	return c
}

func (c *CounterVec) name() string { return c.n }

// Inc adds one to the series with these label values.
func (c *CounterVec) Inc(values ...string) { c.Add(1, values...) }

// Add adds n to the series with these label values.
func (c *CounterVec) Add(n uint64, values ...string) { c.series(values).Add(n) }

// Counter is one series of a CounterVec, bound to its label values.
type Counter struct{ v *atomic.Uint64 }

// With returns the series with these label values, creating it.
func (c *CounterVec) With(values ...string) Counter { return Counter{c.series(values)} }

// Inc adds one.
func (c Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c Counter) Add(n uint64) { c.v.Add(n) }

func (c *CounterVec) series(values []string) *atomic.Uint64 {
	k := labelKey(c.labels, values)
	c.mu.RLock()
	v, ok := c.values[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok = c.values[k]; !ok {
		v = new(atomic.Uint64)
		c.values[k] = v
	}
	return v
}

func (c *CounterVec) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.n, c.help, c.n)
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, k := range sortedKeys(c.values) {
		fmt.Fprintf(w, "%s%s %d\n", c.n, k, c.values[k].Load())
	}
}

// HistogramVec is a histogram with labels. Series are lock-free: an
// observation is two atomic adds and a compare-and-swap on the sum.
type HistogramVec struct {
	n, help string
	labels  []string
	buckets []float64
	mu      sync.RWMutex // guards series (the map, not the histograms)
	series  map[string]*histogram
}

// histogram counts per bucket (not cumulative: write sums them up);
// observations above the last bucket show only in count.
type histogram struct {
	counts  []atomic.Uint64
	sumBits atomic.Uint64 // float64 bits
	count   atomic.Uint64
}

func (s *histogram) observe(buckets []float64, v float64) {
	if i := sort.SearchFloat64s(buckets, v); i < len(buckets) {
		s.counts[i].Add(1)
	}
	for {
		old := s.sumBits.Load()
		if s.sumBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			break
		}
	}
	s.count.Add(1)
}

// DefaultBuckets are latency buckets in seconds from 100µs to 60s.
var DefaultBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// NewHistogramVec registers a histogram family. buckets must be sorted.
func (r *Registry) NewHistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	h := &HistogramVec{n: name, help: help, labels: labels, buckets: buckets, series: map[string]*histogram{}}
	r.add(h)
	return h
}

func (h *HistogramVec) name() string { return h.n }

// Observe records v in the series with these label values.
func (h *HistogramVec) Observe(v float64, values ...string) {
	h.get(values).observe(h.buckets, v)
}

func (h *HistogramVec) get(values []string) *histogram {
	k := labelKey(h.labels, values)
	h.mu.RLock()
	s, ok := h.series[k]
	h.mu.RUnlock()
	if ok {
		return s
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok = h.series[k]; !ok {
		s = &histogram{counts: make([]atomic.Uint64, len(h.buckets))}
		h.series[k] = s
	}
	return s
}

// HistogramSeries is one series of a HistogramVec, bound to its label
// values: Observe skips building the label key (a hot path's histogram).
type HistogramSeries struct {
	h *HistogramVec
	s *histogram
}

// With returns the series with these label values, creating it.
func (h *HistogramVec) With(values ...string) *HistogramSeries {
	return &HistogramSeries{h: h, s: h.get(values)}
}

// Observe records v in the series.
func (hs *HistogramSeries) Observe(v float64) { hs.s.observe(hs.h.buckets, v) }

func (h *HistogramVec) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", h.n, h.help, h.n)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, k := range sortedKeys(h.series) {
		s := h.series[k]
		// Read count first and clamp: observations landing during the
		// scrape must not make a bucket exceed +Inf.
		count := s.count.Load()
		var cum uint64
		for i, b := range h.buckets {
			cum = min(cum+s.counts[i].Load(), count)
			fmt.Fprintf(w, "%s_bucket%s %d\n", h.n, withLabel(k, "le", formatFloat(b)), cum)
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", h.n, withLabel(k, "le", "+Inf"), count)
		fmt.Fprintf(w, "%s_sum%s %s\n", h.n, k, formatFloat(math.Float64frombits(s.sumBits.Load())))
		fmt.Fprintf(w, "%s_count%s %d\n", h.n, k, count)
	}
}

// GaugeFunc is a gauge family whose series are read at scrape time.
type GaugeFunc struct {
	n, help string
	labels  []string
	read    func(emit func(v float64, values ...string))
}

// NewGaugeFunc registers a gauge family; read emits the current series.
func (r *Registry) NewGaugeFunc(name, help string, labels []string, read func(emit func(v float64, values ...string))) {
	r.add(&GaugeFunc{n: name, help: help, labels: labels, read: read})
}

func (g *GaugeFunc) name() string { return g.n }

// CounterFunc is a counter family whose series are read at scrape time
// from counters kept elsewhere (atomics of another package).
type CounterFunc struct{ GaugeFunc }

// NewCounterFunc registers a counter family; read emits the current series.
func (r *Registry) NewCounterFunc(name, help string, labels []string, read func(emit func(v float64, values ...string))) {
	r.add(&CounterFunc{GaugeFunc{n: name, help: help, labels: labels, read: read}})
}

func (c *CounterFunc) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.n, c.help, c.n)
	c.read(func(v float64, values ...string) {
		fmt.Fprintf(w, "%s%s %s\n", c.n, labelKey(c.labels, values), formatFloat(v))
	})
}

func (g *GaugeFunc) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", g.n, g.help, g.n)
	g.read(func(v float64, values ...string) {
		fmt.Fprintf(w, "%s%s %s\n", g.n, labelKey(g.labels, values), formatFloat(v))
	})
}

func labelKey(names, values []string) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		v := ""
		if i < len(values) {
			v = values[i]
		}
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(escapeLabel(v))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

func withLabel(key, name, value string) string {
	l := name + `="` + value + `"`
	if key == "" {
		return "{" + l + "}"
	}
	return key[:len(key)-1] + "," + l + "}"
}

func escapeLabel(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

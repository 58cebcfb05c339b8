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

// CounterVec is a counter with labels.
type CounterVec struct {
	n, help string
	labels  []string
	mu      sync.Mutex // guards values
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
func (c *CounterVec) Add(n uint64, values ...string) {
	k := labelKey(c.labels, values)
	c.mu.Lock()
	v, ok := c.values[k]
	if !ok {
		v = new(atomic.Uint64)
		c.values[k] = v
	}
	c.mu.Unlock()
	v.Add(n)
}

func (c *CounterVec) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.n, c.help, c.n)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range sortedKeys(c.values) {
		fmt.Fprintf(w, "%s%s %d\n", c.n, k, c.values[k].Load())
	}
}

// HistogramVec is a histogram with labels.
type HistogramVec struct {
	n, help string
	labels  []string
	buckets []float64
	mu      sync.Mutex // guards series
	series  map[string]*histogram
}

type histogram struct {
	counts []uint64
	sum    float64
	count  uint64
}

// DefaultBuckets are latency buckets in seconds from 100µs to 60s.
var DefaultBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// NewHistogramVec registers a histogram family.
func (r *Registry) NewHistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	h := &HistogramVec{n: name, help: help, labels: labels, buckets: buckets, series: map[string]*histogram{}}
	r.add(h)
	return h
}

func (h *HistogramVec) name() string { return h.n }

// Observe records v in the series with these label values.
func (h *HistogramVec) Observe(v float64, values ...string) {
	k := labelKey(h.labels, values)
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.series[k]
	if !ok {
		s = &histogram{counts: make([]uint64, len(h.buckets))}
		h.series[k] = s
	}
	for i, b := range h.buckets {
		if v <= b {
			s.counts[i]++
		}
	}
	s.sum += v
	s.count++
}

// HistogramSeries is one series of a HistogramVec, bound to its label
// values: Observe skips building the label key (a hot path's histogram).
type HistogramSeries struct {
	h *HistogramVec
	s *histogram
}

// With returns the series with these label values, creating it.
func (h *HistogramVec) With(values ...string) *HistogramSeries {
	k := labelKey(h.labels, values)
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.series[k]
	if !ok {
		s = &histogram{counts: make([]uint64, len(h.buckets))}
		h.series[k] = s
	}
	return &HistogramSeries{h: h, s: s}
}

// Observe records v in the series.
func (hs *HistogramSeries) Observe(v float64) {
	h, s := hs.h, hs.s
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, b := range h.buckets {
		if v <= b {
			s.counts[i]++
		}
	}
	s.sum += v
	s.count++
}

func (h *HistogramVec) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", h.n, h.help, h.n)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range sortedKeys(h.series) {
		s := h.series[k]
		for i, b := range h.buckets {
			fmt.Fprintf(w, "%s_bucket%s %d\n", h.n, withLabel(k, "le", formatFloat(b)), s.counts[i])
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", h.n, withLabel(k, "le", "+Inf"), s.count)
		fmt.Fprintf(w, "%s_sum%s %s\n", h.n, k, formatFloat(s.sum))
		fmt.Fprintf(w, "%s_count%s %d\n", h.n, k, s.count)
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

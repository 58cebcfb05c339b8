package endpoints

import (
	"strconv"
	"time"

	"github.com/sqlgate/sqlgate/internal/metrics"
)

// handlerMetrics are the endpoint metrics (docs/metrics.md).
type handlerMetrics struct {
	requests  *metrics.CounterVec
	latency   *metrics.HistogramVec
	throttles *metrics.CounterVec
}

func newHandlerMetrics(reg *metrics.Registry) *handlerMetrics {
	return &handlerMetrics{
		requests: reg.NewCounterVec("sqlgate_endpoint_requests_total",
			"SQL endpoint requests by endpoint and HTTP status.", "endpoint", "status"),
		latency: reg.NewHistogramVec("sqlgate_endpoint_request_duration_seconds",
			"SQL endpoint request latency.", metrics.DefaultBuckets, "endpoint"),
		throttles: reg.NewCounterVec("sqlgate_endpoint_throttles_total",
			"SQL endpoint requests refused with 429, by endpoint and reason (rate, quota, or share: the API key holds its per-principal share of the cluster).", "endpoint", "reason"),
	}
}

func (m *handlerMetrics) observe(endpoint string, status int, d time.Duration) {
	m.requests.Inc(endpoint, strconv.Itoa(status))
	m.latency.Observe(d.Seconds(), endpoint)
}

func (m *handlerMetrics) throttle(endpoint, reason string) { m.throttles.Inc(endpoint, reason) }

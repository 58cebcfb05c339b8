package server

import (
	"testing"
	"time"
)

func BenchmarkObserveDataAPI(b *testing.B) {
	m := newServerMetrics()
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveDataAPI("pg", "ExecuteStatement", "OK", 3*time.Millisecond)
	}
}

package proxy

import (
	"runtime"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// A wave of parks is reclaimed once, after it quiets down: parks keep
// postponing the collection, and it runs when none came for reclaimQuiet.
func TestReclaim_afterTheWave(t *testing.T) {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for range reclaimMin {
		reclaimAfterParks()
		testdb.Elapse(reclaimQuiet / 50) // a wave spread over more than reclaimQuiet
	}
	var mid runtime.MemStats
	runtime.ReadMemStats(&mid)
	if mid.NumForcedGC != before.NumForcedGC {
		t.Fatalf("collected during the wave (%d forced collections)", mid.NumForcedGC-before.NumForcedGC)
	}
	testdb.Eventually(t, 10*time.Second, 20*time.Millisecond, "the reclaim after the wave", func() bool {
		var now runtime.MemStats
		runtime.ReadMemStats(&now)
		return now.NumForcedGC >= before.NumForcedGC+2
	})
	reclaim.mu.Lock()
	defer reclaim.mu.Unlock()
	if reclaim.parks != 0 {
		t.Fatalf("%d parks left counted after the reclaim", reclaim.parks)
	}
}

package server

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestLogWriterKeepsEveryLine writes from several goroutines, past the
// flush threshold, and checks that Close leaves every line written whole
// and each writer's lines in order.
func TestLogWriterKeepsEveryLine(t *testing.T) {
	var out syncBuffer
	lw := NewLogWriter(&out)
	const writers, lines = 8, 3000 // ~8 × 3000 × 40 B: several full buffers
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(lw, "writer=%d line=%06d padding-padding\n", w, i)
			}
		}()
	}
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(lw, "after close\n")
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != writers*lines+1 || got[len(got)-1] != "after close" {
		t.Fatalf("got %d lines (last %q), want %d", len(got), got[len(got)-1], writers*lines+1)
	}
	next := make([]int, writers)
	for _, l := range got[:len(got)-1] {
		var w, i int
		if _, err := fmt.Sscanf(l, "writer=%d line=%d padding-padding", &w, &i); err != nil {
			t.Fatalf("torn line %q: %v", l, err)
		}
		if i != next[w] {
			t.Fatalf("writer %d: line %d after %d", w, i, next[w]-1)
		}
		next[w]++
	}
}

func BenchmarkLogWriter(b *testing.B) {
	lw := NewLogWriter(discard{})
	line := []byte(`{"time":"2026-12-05T21:00:00Z","level":"INFO","msg":"request","id":"0a1b2c3d-…"}` + "\n")
	b.ReportAllocs()
	for b.Loop() {
		_, _ = lw.Write(line)
	}
	_ = lw.Close()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

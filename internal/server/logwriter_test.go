package server

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
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

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	n       int
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	w.mu.Lock()
	w.n += len(p)
	w.mu.Unlock()
	return len(p), nil
}

// TestLogWriterBoundedWhenStuck: with the underlying writer stuck, the
// buffer does not grow past one flush's worth plus a line, however many
// writers there are; they wait, and every
// line is written once the writer moves again.
func TestLogWriterBoundedWhenStuck(t *testing.T) {
	bw := &blockingWriter{entered: make(chan struct{}), release: make(chan struct{})}
	lw := NewLogWriter(bw)
	line := strings.Repeat("x", 99) + "\n"
	const writers, lines = 200, 80 // 1.6 MB, far past one buffer
	var wg sync.WaitGroup
	var inWrite atomic.Int32 // writers inside lw.Write
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range lines {
				inWrite.Add(1)
				_, _ = lw.Write([]byte(line))
				inWrite.Add(-1)
			}
		}()
	}
	<-bw.entered // the first flush is stuck in Write
	// The writers fill the next buffer and then wait — or, when every one
	// of them saw the first buffer full before its flush took it, they all
	// wait for that flush and the next buffer stays empty.
	testdb.EventuallyState(t, 5*time.Second, 10*time.Millisecond, func() (bool, string) {
		lw.mu.Lock()
		n := len(lw.buf)
		lw.mu.Unlock()
		in := inWrite.Load()
		return n >= logFlushBytes-len(line) || in == writers, fmt.Sprintf("buffered %d, %d of %d writers in Write", n, in, writers)
	})
	testdb.Elapse(50 * time.Millisecond) // writers keep trying meanwhile
	lw.mu.Lock()
	n := len(lw.buf)
	lw.mu.Unlock()
	if n > logFlushBytes+len(line) {
		t.Errorf("buffered %d bytes while the writer was stuck, want at most %d", n, logFlushBytes+len(line))
	}
	close(bw.release)
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	if bw.n != writers*lines*len(line) {
		t.Errorf("wrote %d bytes, want %d", bw.n, writers*lines*len(line))
	}
}

package engine

import "testing"

func TestArena(t *testing.T) {
	a := GetArena(100, 10)
	if len(a.Data) != 0 || len(a.Spans) != 0 || cap(a.Data) < 100 || cap(a.Spans) < 10 {
		t.Fatalf("GetArena(100, 10): len %d/%d cap %d/%d", len(a.Data), len(a.Spans), cap(a.Data), cap(a.Spans))
	}
	if a.Text() != "" {
		t.Fatalf("empty arena text %q", a.Text())
	}
	a.Data = append(a.Data, "hello"...)
	if a.Text() != "hello" {
		t.Fatalf("text %q", a.Text())
	}
	PutArena(a)
	b := GetArena(0, 0)
	if len(b.Data) != 0 || len(b.Spans) != 0 {
		t.Fatalf("a reused arena is not empty: %d/%d", len(b.Data), len(b.Spans))
	}
	PutArena(b)
	big := &Arena{Data: make([]byte, 0, maxPooled+1)}
	PutArena(big) // not kept; must not panic
}

// BenchmarkArena is the arena of a 100-row × 10-column result taken,
// filled and handed back, as a lazy result's read and Release do.
func BenchmarkArena(b *testing.B) {
	v := []byte("some value")
	b.ReportAllocs()
	for b.Loop() {
		a := GetArena(12000, 1000)
		for range 1000 {
			a.Spans = append(a.Spans, Span{Off: int32(len(a.Data)), End: int32(len(a.Data) + len(v))})
			a.Data = append(a.Data, v...)
		}
		_ = a.Text()
		PutArena(a)
	}
}

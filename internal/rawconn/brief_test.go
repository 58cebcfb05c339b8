//go:build linux

package rawconn

import (
	"runtime"
	"testing"
)

// quiet marks one proxy session awake for the test, as a proxy serving
// one client does, so that reads wait briefly.
func quiet(t *testing.T) {
	t.Helper()
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("brief waits need two processors")
	}
	Awake(1)
	t.Cleanup(func() { Awake(-1) })
}

// In a quiet process a request's reply and the peer's next message are
// taken by brief waits, and every byte arrives as sent.
func TestBrief_pingPong(t *testing.T) {
	quiet(t)
	c, srv := pair(t)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := srv.Read(buf)
			if err != nil {
				return
			}
			_, _ = srv.Write(append([]byte("re:"), buf[:n]...))
		}
	}()
	before := briefHits.Load()
	buf := make([]byte, 64)
	for i := range 200 {
		var err error
		if i%2 == 0 {
			_, err = c.Write([]byte("ping"))
		} else {
			_, err = c.WriteAwait([]byte("ping"))
		}
		if err != nil {
			t.Fatalf("round %d: write: %v", i, err)
		}
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "re:ping" {
			t.Fatalf("round %d: read %q, %v", i, buf[:n], err)
		}
	}
	if briefHits.Load() == before {
		t.Fatal("no read was served by a brief wait")
	}
}

// A wait that comes back empty makes the connection skip the next one,
// then three, then seven: an idle peer costs a brief wait rarely.
func TestBrief_missBacksOff(t *testing.T) {
	quiet(t)
	c, _ := pair(t)
	fd, ok := connFD(t, c)
	if !ok {
		t.Skip("no descriptor")
	}
	var b brief
	for i, wantSkip := range []uint16{1, 3, 7} {
		if b.wait(fd) {
			t.Fatalf("wait %d: ready on a silent socket", i)
		}
		if b.skip != wantSkip {
			t.Fatalf("after miss %d: skip %d, want %d", i+1, b.skip, wantSkip)
		}
		for range wantSkip {
			if b.wait(fd) {
				t.Fatal("a skipped wait reported ready")
			}
		}
	}
	if b.skip != 0 || b.misses != 3 {
		t.Fatalf("skip %d misses %d after the skipped reads", b.skip, b.misses)
	}
}

// With no proxy session awake (or as many as processors), a read never
// waits briefly: the state is untouched.
func TestBrief_onlyWhenQuiet(t *testing.T) {
	c, _ := pair(t)
	fd, ok := connFD(t, c)
	if !ok {
		t.Skip("no descriptor")
	}
	var b brief
	if b.wait(fd) || b.misses != 0 || b.skip != 0 {
		t.Fatalf("waited with nothing awake: %+v", b)
	}
	n := int64(runtime.GOMAXPROCS(0))
	Awake(n)
	defer Awake(-n)
	if b.wait(fd) || b.misses != 0 || b.skip != 0 {
		t.Fatalf("waited with %d sessions awake: %+v", n, b)
	}
}

func connFD(t *testing.T, c *Conn) (uintptr, bool) {
	t.Helper()
	var fd uintptr
	ok := c.rc.Control(func(f uintptr) { fd = f }) == nil
	return fd, ok
}

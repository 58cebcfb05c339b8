//go:build linux

package rawconn

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// WriteAwait sends a request and returns once the reply can be read; the
// read that follows finds it at once.
func TestConn_WriteAwait(t *testing.T) {
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
	for i := range 100 {
		if n, err := c.WriteAwait([]byte("ping")); err != nil || n != 4 {
			t.Fatalf("round %d: WriteAwait %d, %v", i, n, err)
		}
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "re:ping" {
			t.Fatalf("round %d: read %q, %v", i, buf[:n], err)
		}
	}
}

// A request larger than the socket buffers goes out whole (the rest as
// Write sends it), and the reply is read as usual.
func TestConn_WriteAwaitLarge(t *testing.T) {
	c, srv := pair(t)
	msg := bytes.Repeat([]byte("0123456789abcdef"), 512<<10) // 8 MiB
	go func() {
		if _, err := io.CopyN(io.Discard, srv, int64(len(msg))); err == nil {
			_, _ = srv.Write([]byte("done"))
		}
	}()
	if n, err := c.WriteAwait(msg); err != nil || n != len(msg) {
		t.Fatalf("WriteAwait: %d, %v", n, err)
	}
	buf := make([]byte, 8)
	if n, err := io.ReadFull(c, buf[:4]); err != nil || string(buf[:n]) != "done" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}

// With no reply, the wait ends at the read deadline (the request went
// out: n is its length), and when the peer closes, at once.
func TestConn_WriteAwaitNoReply(t *testing.T) {
	c, srv := pair(t)
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	n, err := c.WriteAwait([]byte("hello"))
	if n != 5 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("WriteAwait with no reply: %d, %v", n, err)
	}
	_ = c.SetReadDeadline(time.Time{})
	buf := make([]byte, 5)
	if _, err := io.ReadFull(srv, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("the peer read %q, %v", buf, err)
	}
	go func() { _ = srv.Close() }()
	if n, err := c.WriteAwait([]byte("again")); n != 5 || err != nil {
		t.Fatalf("WriteAwait to a closing peer: %d, %v", n, err)
	}
	if _, err := c.Read(buf); err == nil { // EOF, or a reset: "again" went unread
		t.Fatal("read after the peer closed: no error")
	}
}

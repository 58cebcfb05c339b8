package rawconn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// pair returns a wrapped client end and the plain server end of a real
// TCP connection on the loopback.
func pair(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	c, srv := testdb.TCPPair(t)
	w := Wrap(c)
	t.Cleanup(func() { w.Close() })
	rc, ok := w.(*Conn)
	if !ok {
		if runtime.GOOS == "linux" {
			t.Fatalf("Wrap returned %T on Linux", w)
		}
		t.Skip("raw connections are built on Linux only")
	}
	return rc, srv
}

func TestConn_RoundTrip(t *testing.T) {
	c, srv := pair(t)
	go func() { _, _ = io.Copy(srv, srv) }() // echo
	for _, n := range []int{1, 100, 64 << 10} {
		msg := bytes.Repeat([]byte{byte(n)}, n)
		if k, err := c.Write(msg); err != nil || k != n {
			t.Fatalf("write %d: %d, %v", n, k, err)
		}
		got := make([]byte, n)
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("read back %d bytes: %v", n, err)
		}
	}
}

// A write larger than the socket buffers (a few MiB on the loopback)
// waits for the reader in the netpoller and delivers every byte in order.
func TestConn_LargeWriteToSlowReader(t *testing.T) {
	c, srv := pair(t)
	msg := make([]byte, 8<<20)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(srv, int64(len(msg))))
		got <- b
	}()
	if n, err := c.Write(msg); err != nil || n != len(msg) {
		t.Fatalf("write: %d, %v", n, err)
	}
	if b := <-got; !bytes.Equal(b, msg) {
		t.Fatalf("reader got %d bytes, not the %d written", len(b), len(msg))
	}
}

// Writes from several goroutines each go out whole, as with net.Conn.
func TestConn_ConcurrentWrites(t *testing.T) {
	c, srv := pair(t)
	const writers, each, size = 8, 50, 3000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := bytes.Repeat([]byte{byte('a' + w)}, size)
			for range each {
				if _, err := c.Write(msg); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	got := make([]byte, writers*each*size)
	done := make(chan error, 1)
	go func() { _, err := io.ReadFull(srv, got); done <- err }()
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(got); i += size {
		if !bytes.Equal(got[i:i+size], bytes.Repeat(got[i:i+1], size)) {
			t.Fatalf("write at offset %d interleaved with another", i)
		}
	}
}

func TestConn_EOF(t *testing.T) {
	c, srv := pair(t)
	_, _ = srv.Write([]byte("ab"))
	srv.Close()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "ab" {
		t.Fatalf("ReadAll = %q, %v; want \"ab\", nil (io.EOF at the end)", b, err)
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("read after EOF = %d, %v", n, err)
	}
}

func TestConn_Deadlines(t *testing.T) {
	c, _ := pair(t)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("read error %v is not a read *net.OpError", err)
	}
	_ = c.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := c.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past the deadline: %v", err)
	}
}

// Close from another goroutine ends a read that waits for data.
func TestConn_CloseWakesRead(t *testing.T) {
	c, _ := pair(t)
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the waiting read")
	}
}

// A reset connection reports the errno, and writing to it fails without
// ending the process (SIGPIPE is not fatal for sockets).
func TestConn_Reset(t *testing.T) {
	c, srv := pair(t)
	_ = srv.(*net.TCPConn).SetLinger(0)
	srv.Close()
	_, err := c.Read(make([]byte, 1))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read of a reset connection: %v", err)
	}
	for range 3 {
		if _, err = c.Write([]byte("after reset")); err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("write to a reset connection: %v", err)
	}
}

func TestWrap(t *testing.T) {
	c, _ := pair(t)
	if Wrap(c) != net.Conn(c) {
		t.Fatal("wrapping twice made a second layer")
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if Wrap(a) != a {
		t.Fatal("a connection without a descriptor was wrapped")
	}
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	_ = rc.Control(func(f uintptr) { fd = int(f) })
	if fd < 0 {
		t.Fatal("SyscallConn gives no descriptor")
	}
	if _, ok := c.Unwrap().(*net.TCPConn); !ok {
		t.Fatalf("Unwrap = %T", c.Unwrap())
	}
}

func BenchmarkConn_PingPong(b *testing.B) {
	for _, raw := range []bool{false, true} {
		name := map[bool]string{false: "net", true: "raw"}[raw]
		b.Run(name, func(b *testing.B) {
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			defer ln.Close()
			go func() {
				s, _ := ln.Accept()
				_, _ = io.Copy(s, s)
			}()
			c, _ := net.Dial("tcp", ln.Addr().String())
			defer c.Close()
			if raw {
				c = Wrap(c)
			}
			buf := make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = c.Write(buf)
				_, _ = io.ReadFull(c, buf)
			}
		})
	}
}

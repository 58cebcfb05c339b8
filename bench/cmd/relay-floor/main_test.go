package main

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"testing"
)

// TestRelayModes relays messages of several sizes (one above the relay's
// 16 KiB buffer) through each mode to an echo server and back, then checks
// that the client's close reaches the server.
func TestRelayModes(t *testing.T) {
	for _, mode := range []string{"goroutine", "epoll", "coro"} {
		t.Run(mode, func(t *testing.T) {
			if mode != "goroutine" && runtime.GOOS != "linux" {
				t.Skip("epoll modes need Linux")
			}
			serve, err := server(mode)
			if err != nil {
				t.Fatal(err)
			}
			backend, closed := echoServer(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = ln.Close() })
			go func() { _ = acceptLoop(ln, backend, serve) }()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 5, 300, 40 << 10} {
				msg := bytes.Repeat([]byte{byte(n)}, n)
				if _, err := c.Write(msg); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, n)
				if _, err := io.ReadFull(c, got); err != nil {
					t.Fatalf("%d bytes: %v", n, err)
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("%d bytes: echo differs", n)
				}
			}
			_ = c.Close()
			<-closed
		})
	}
}

// echoServer accepts one connection and writes back what it reads; closed
// is closed when the connection has ended.
func echoServer(t *testing.T) (addr string, closed chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	closed = make(chan struct{})
	go func() {
		defer close(closed)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer func() { _ = c.Close() }()
		_, _ = io.Copy(c, c)
	}()
	return ln.Addr().String(), closed
}

package lane

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testServer is a Listener over loopback TCP served by an http.Server,
// with a handler that says which path answered (the lean path's requests
// have no http.ServerContextKey in their context).
type testServer struct {
	l    *Listener
	hs   *http.Server
	addr string
	errc chan error
}

const testMaxBody = 1 << 10

func startServer(t *testing.T, h http.Handler) *testServer {
	t.Helper()
	return startServerOn(t, h, nil, 5*time.Second)
}

// startServerOn is startServer with the TCP listener wrapped by wrap (nil:
// plain) and the given read-header timeout.
func startServerOn(t *testing.T, h http.Handler, wrap func(net.Listener) net.Listener, headerTimeout time.Duration) *testServer {
	t.Helper()
	if h == nil {
		h = http.HandlerFunc(echo)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inner := tcp
	if wrap != nil {
		inner = wrap(tcp)
	}
	cfg := Config{Handler: h, Paths: []string{"/Execute", "/panic", "/wait"},
		ReadHeaderTimeout: headerTimeout, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		IdleTimeout: 30 * time.Second, MaxHeaderBytes: 4 << 10, MaxBodyBytes: testMaxBody,
		ErrorLog: log.New(io.Discard, "", 0)}
	ts := &testServer{l: New(inner, cfg), addr: tcp.Addr().String(), errc: make(chan error, 1)}
	ts.hs = &http.Server{Handler: h, ReadHeaderTimeout: cfg.ReadHeaderTimeout, MaxHeaderBytes: cfg.MaxHeaderBytes,
		ErrorLog: log.New(io.Discard, "", 0)}
	go func() { ts.errc <- ts.hs.Serve(ts.l) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

func (ts *testServer) stop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.hs.Shutdown(ctx); err != nil {
		t.Errorf("http shutdown: %v", err)
	}
	if err := ts.l.Shutdown(ctx); err != nil {
		t.Errorf("lane shutdown: %v", err)
	}
	if err := <-ts.errc; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("serve: %v", err)
	}
	ts.errc <- http.ErrServerClosed // stop is idempotent
}

// echo answers "via path len body" and a request id header.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", "req-1")
	if r.Header.Get("X-Fail") != "" {
		w.Header().Set("X-Amzn-ErrorType", "BadRequestException")
		w.WriteHeader(http.StatusBadRequest)
	}
	fmt.Fprintf(w, "%s %s %s %d %s", via(r), r.Method, r.URL.Path, len(body), body)
}

func via(r *http.Request) string {
	if r.Context().Value(http.ServerContextKey) == nil {
		return "lean"
	}
	return "net/http"
}

func (ts *testServer) dial(t *testing.T) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c, bufio.NewReader(c)
}

// post is a well-formed request the lean path serves.
func post(path, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n", path)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// readResponse reads one response and its body.
func readResponse(t *testing.T, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	for err == nil && resp.StatusCode < 200 { // 100 Continue
		resp, err = http.ReadResponse(br, nil)
	}
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

// expectClosed reads until EOF (the server closed the connection).
func expectClosed(t *testing.T, br *bufio.Reader) {
	t.Helper()
	if b, err := io.ReadAll(br); err != nil || len(b) > 0 {
		t.Fatalf("after the last response: %q, %v; want EOF", b, err)
	}
}

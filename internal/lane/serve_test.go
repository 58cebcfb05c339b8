package lane

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

type wantResp struct {
	status int
	body   string // prefix
}

func TestListener_Serve(t *testing.T) {
	big := strings.Repeat("x", testMaxBody+1)
	tests := []struct {
		name   string
		writes []string // written one after another, as separate segments
		want   []wantResp
		closed bool // the server closes after the responses
		// halfClose closes the client's write side after the writes.
		halfClose bool
		served    uint64
	}{
		{name: "one", writes: []string{post("/Execute", `{"sql":"SELECT 1"}`)},
			want: []wantResp{{200, `lean POST /Execute 18 {"sql":"SELECT 1"}`}}, served: 1},
		{name: "pipelined", writes: []string{post("/Execute", "a") + post("/Execute", "bb") + post("/Execute", "")},
			want: []wantResp{{200, "lean POST /Execute 1 a"}, {200, "lean POST /Execute 2 bb"}, {200, "lean POST /Execute 0 "}}, served: 3},
		{name: "byte by byte", writes: strings.Split(post("/Execute", "abc"), ""),
			want: []wantResp{{200, "lean POST /Execute 3 abc"}}, served: 1},
		{name: "head and body apart", writes: []string{strings.TrimSuffix(post("/Execute", "abc"), "abc"), "a", "bc"},
			want: []wantResp{{200, "lean POST /Execute 3 abc"}}, served: 1},
		{name: "lower-case path", writes: []string{post("/execute", "a")},
			want: []wantResp{{200, "lean POST /execute 1 a"}}, served: 1},
		{name: "error status", writes: []string{post("/Execute", "a", "X-Fail: 1")},
			want: []wantResp{{400, "lean POST /Execute 1 a"}}, served: 1},
		{name: "connection close", writes: []string{post("/Execute", "a", "Connection: close") + post("/Execute", "b")},
			want: []wantResp{{200, "lean POST /Execute 1 a"}}, closed: true, served: 1},
		{name: "oversized body", writes: []string{post("/Execute", big)},
			want: []wantResp{{200, "net/http POST /Execute 1025 "}}},
		{name: "chunked", writes: []string{"POST /Execute HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
			want: []wantResp{{200, "net/http POST /Execute 3 abc"}}},
		{name: "expect", writes: []string{"POST /Execute HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", "hi"},
			want: []wantResp{{200, "net/http POST /Execute 2 hi"}}},
		{name: "other path", writes: []string{post("/healthz", "a")},
			want: []wantResp{{200, "net/http POST /healthz 1 a"}}},
		{name: "get", writes: []string{"GET /Execute HTTP/1.1\r\nHost: x\r\n\r\n"},
			want: []wantResp{{200, "net/http GET /Execute 0 "}}},
		{name: "http/1.0", writes: []string{"POST /Execute HTTP/1.0\r\nHost: x\r\nContent-Length: 1\r\n\r\na"},
			want: []wantResp{{200, "net/http POST /Execute 1 a"}}, closed: true},
		{name: "upgrade", writes: []string{post("/Execute", "a", "Connection: Upgrade", "Upgrade: websocket")},
			want: []wantResp{{200, "net/http POST /Execute 1 a"}}},
		{name: "lean then net/http on one connection", writes: []string{post("/Execute", "a") + "GET /x HTTP/1.1\r\nHost: x\r\n\r\n" + post("/Execute", "b")},
			want: []wantResp{{200, "lean POST /Execute 1 a"}, {200, "net/http GET /x 0 "}, {200, "net/http POST /Execute 1 b"}}, served: 1},
		{name: "no host", writes: []string{"POST /Execute HTTP/1.1\r\nContent-Length: 1\r\n\r\na"},
			want: []wantResp{{400, ""}}, closed: true},
		{name: "two content lengths", writes: []string{"POST /Execute HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
			want: []wantResp{{400, ""}}, closed: true},
		{name: "bad header name", writes: []string{"POST /Execute HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\nContent-Length: 1\r\n\r\na"},
			want: []wantResp{{400, ""}}, closed: true},
		{name: "garbage", writes: []string{"\x00\x01garbage\r\n\r\n"},
			want: []wantResp{{400, ""}}, closed: true},
		{name: "head too large", writes: []string{"POST /Execute HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("y", 8<<10)},
			want: []wantResp{{431, ""}}}, // net/http closes with unread input: the client may see a reset
		{name: "truncated then closed", writes: []string{"POST /Execute HTTP/1.1\r\nHost: x\r\nContent-Le"},
			want: []wantResp{{400, ""}}, closed: true, halfClose: true}, // net/http's answer to the same bytes
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, nil)
			c, br := ts.dial(t)
			for _, w := range tc.writes {
				if _, err := c.Write([]byte(w)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.halfClose {
				_ = c.(interface{ CloseWrite() error }).CloseWrite()
			}
			for i, w := range tc.want {
				if w.status == 431 {
					resp, err := http.ReadResponse(br, nil)
					if err != nil || resp.StatusCode != 431 {
						t.Fatalf("response %d: %v, %v; want 431", i, resp, err)
					}
					continue
				}
				resp, body := readResponse(t, br)
				if resp.StatusCode != w.status || !strings.HasPrefix(body, w.body) {
					t.Fatalf("response %d: %d %q, want %d %q", i, resp.StatusCode, body, w.status, w.body)
				}
			}
			if tc.closed {
				expectClosed(t, br)
			}
			if got := ts.l.Stats().Served; got != tc.served {
				t.Errorf("served by the lean path: %d, want %d", got, tc.served)
			}
		})
	}
}

// The lean path's response carries what net/http's does: status line,
// the handler's headers, Content-Type, Content-Length and Date.
func TestListener_ResponseHeaders(t *testing.T) {
	ts := startServer(t, nil)
	for _, req := range []string{post("/Execute", "a", "X-Fail: 1"), "POST /Execute HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Fail: 1\r\n\r\n1\r\na\r\n0\r\n\r\n"} {
		c, br := ts.dial(t)
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		resp, _ := readResponse(t, br)
		for _, k := range []string{"Content-Type", "X-Amzn-Requestid", "X-Amzn-Errortype", "Content-Length", "Date"} {
			if resp.Header.Get(k) == "" {
				t.Errorf("%s: no %s in %v", resp.Proto, k, resp.Header)
			}
		}
		if resp.Status != "400 Bad Request" {
			t.Errorf("status %q", resp.Status)
		}
	}
}

func TestListener_Panic(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("BUG: test")
		}
		echo(w, r)
	}))
	c, br := ts.dial(t)
	send(t, c, post("/panic", "a"))
	expectClosed(t, br)
	c, br = ts.dial(t)
	send(t, c, post("/Execute", "a"))
	if _, body := readResponse(t, br); body != "lean POST /Execute 1 a" {
		t.Fatalf("after a panic: %q", body)
	}
}

// Shutdown lets a request in flight finish (with Connection: close) and
// closes idle connections.
func TestListener_Shutdown(t *testing.T) {
	ts, entered, release := blockingServer(t)
	idle, idleBR := ts.dial(t)
	send(t, idle, post("/Execute", "a"))
	readResponse(t, idleBR)
	busy, busyBR := ts.dial(t)
	send(t, busy, post("/wait", "b"))
	<-entered
	done := make(chan struct{})
	go func() { ts.stop(t); close(done) }()
	expectClosed(t, idleBR) // closed at once, while the other request runs
	close(release)
	resp, body := readResponse(t, busyBR)
	if body != "lean POST /wait 1 b" || !resp.Close {
		t.Fatalf("in flight: %q, close %v", body, resp.Close)
	}
	expectClosed(t, busyBR)
	<-done
}

// A client that goes away while its request runs cancels the request's
// context.
func TestListener_Disconnect(t *testing.T) {
	var mu sync.Mutex
	var ctxErr error
	finished := make(chan struct{})
	entered := make(chan struct{})
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		mu.Lock()
		ctxErr = r.Context().Err()
		mu.Unlock()
		close(finished)
	}))
	c, _ := ts.dial(t)
	send(t, c, post("/wait", "a"))
	<-entered
	start := time.Now()
	_ = c.Close()
	<-finished
	mu.Lock()
	defer mu.Unlock()
	if ctxErr != context.Canceled {
		t.Fatalf("context: %v, want canceled", ctxErr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("noticed after %v", d)
	}
}

// A pipelined request read by the disconnect watch is served next.
func TestListener_WatchKeepsPipelined(t *testing.T) {
	ts, entered, release := blockingServer(t)
	c, br := ts.dial(t)
	send(t, c, post("/wait", "a"))
	<-entered
	testdb.Elapse(2 * watchDelay) // the watch's read has started
	send(t, c, post("/Execute", "next"))
	testdb.Elapse(watchDelay)
	close(release)
	for _, want := range []string{"lean POST /wait 1 a", "lean POST /Execute 4 next"} {
		if _, body := readResponse(t, br); body != want {
			t.Fatalf("got %q, want %q", body, want)
		}
	}
}

// blockingServer starts a server that echoes, except that a request for
// /wait closes entered and waits for release to be closed first.
func blockingServer(t *testing.T) (ts *testServer, entered, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	ts = startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			close(entered)
			<-release
		}
		echo(w, r)
	}))
	return ts, entered, release
}

// send writes a request on c.
func send(t *testing.T, c net.Conn, req string) {
	t.Helper()
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
}

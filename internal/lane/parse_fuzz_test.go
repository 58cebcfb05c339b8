package lane

import (
	"bufio"
	"bytes"
	"io"
	"maps"
	"net/http"
	"slices"
	"testing"
)

var fuzzPaths = []string{"/Execute", "/BeginTransaction"}

// FuzzParseHead checks the parser against net/http on any input: it never
// panics, and whatever it serves, http.ReadRequest reads the same way
// (method, path, host, length, close, every header).
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		post("/Execute", `{"sql":"SELECT 1"}`, "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/rds-data/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", "X-Amz-Date: 20261206T040000Z", "user-agent: aws-sdk-go-v2/1.0"),
		post("/execute", "x", "Connection: close"),
		post("/Execute", "x", "X-Dup: 1", "x-dup: 2"),
		"POST /Execute HTTP/1.1\r\nHost: x\r\nContent-Length: 01\r\n\r\na",
		"POST /Execute HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST /Execute HTTP/1.1\r\nHost:  x \r\nContent-Length:\t2 \r\nX: \t\r\n\r\nab",
		"POST /Execute HTTP/1.1\r\nHost: x\r\n folded\r\nContent-Length: 0\r\n\r\n",
		"POST /Execute HTTP/1.1\nHost: x\nContent-Length: 0\n\n",
		"GET / HTTP/1.1\r\n\r\n",
		"POST /Execute?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var h head
		hdr := http.Header{}
		if parseHead(b, fuzzPaths, 8<<10, 1<<20, &h, hdr) != serve || len(b) < h.size+h.length {
			return // not served, or the body is still to come
		}
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatalf("served what net/http refuses (%v): %q", err, b)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil || len(body) != h.length || !bytes.Equal(body, b[h.size:h.size+h.length]) {
			t.Fatalf("body: net/http %q (%v), lean %d bytes at %d", body, err, h.length, h.size)
		}
		if r.Method != http.MethodPost || r.URL.Path != h.target || r.RequestURI != h.target || r.Host != h.host ||
			r.ContentLength != int64(h.length) || r.Close != h.close {
			t.Fatalf("net/http %s %q %q %q %d close=%v; lean %q %q %d close=%v", r.Method, r.URL.Path, r.RequestURI, r.Host,
				r.ContentLength, r.Close, h.target, h.host, h.length, h.close)
		}
		if !maps.EqualFunc(r.Header, hdr, slices.Equal) {
			t.Fatalf("headers: net/http %q, lean %q", r.Header, hdr)
		}
	})
}

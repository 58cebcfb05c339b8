package lane

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/tlscert"
)

// startTLSServer is startServer behind a TLS listener with a self-signed
// certificate, its handshake bounded by headerTimeout.
func startTLSServer(t *testing.T, headerTimeout time.Duration) *testServer {
	t.Helper()
	certs, err := tlscert.Open("", "", t.TempDir(), "test", "lane test")
	if err != nil {
		t.Fatal(err)
	}
	return startServerOn(t, nil, func(l net.Listener) net.Listener { return tls.NewListener(l, certs.Config()) }, headerTimeout)
}

// Over TLS the lean path serves the configured POSTs, and the first
// request it does not serve goes with the rest of the connection to
// net/http, still encrypted.
func TestListener_TLS(t *testing.T) {
	ts := startTLSServer(t, 5*time.Second)
	c, err := tls.Dial("tcp", ts.addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	for _, tc := range []struct{ path, want string }{
		{"/Execute", "lean POST /Execute 1 a"},
		{"/Execute", "lean POST /Execute 1 a"},
		{"/other", "net/http POST /other 1 a"},
		{"/Execute", "net/http POST /Execute 1 a"},
	} {
		send(t, c, post(tc.path, "a"))
		if _, body := readResponse(t, br); body != tc.want {
			t.Fatalf("%s: %q, want %q", tc.path, body, tc.want)
		}
	}
	if st := ts.l.Stats(); st.Served != 2 {
		t.Errorf("lean path served %d requests, want 2", st.Served)
	}
}

// A client that opens a connection and never completes the TLS handshake
// is closed after the read-header timeout, as net/http would.
func TestListener_TLSHandshakeTimeout(t *testing.T) {
	ts := startTLSServer(t, 300*time.Millisecond)
	c, br := ts.dial(t)
	start := time.Now()
	if _, err := c.Write([]byte{0x16, 0x03, 0x01}); err != nil { // a handshake record begun, never finished
		t.Fatal(err)
	}
	if _, err := io.ReadAll(br); err != nil {
		t.Logf("read after the handshake timed out: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("connection closed after %v, want about 300ms", d)
	}
}

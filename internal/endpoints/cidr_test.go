package endpoints

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestHandler_AllowCIDRs calls from a second loopback address, 127.0.0.2,
// against an allow list holding only 127.0.0.1.
func TestHandler_AllowCIDRs(t *testing.T) {
	e := newTestEnv(t, strings.Replace(itemsYAML, "api_key_required: true\n    page_size", "api_key_required: true\n    allow_cidrs: [127.0.0.1/32, \"::1/128\"]\n    page_size", 1), itemsTable)
	get := func(src string) (int, string) {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}}}
		defer c.CloseIdleConnections()
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/items", nil)
		req.Header.Set("X-Api-Key", testKey)
		resp, err := c.Do(req)
		testdb.NeedTool(t, err == nil, "a local address "+src+" to dial from")
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := get("127.0.0.1"); st != 200 {
		t.Fatalf("from 127.0.0.1: %d %s", st, b)
	}
	if st, b := get("127.0.0.2"); st != 403 || b != `{"message":"Forbidden"}` {
		t.Fatalf("from 127.0.0.2: %d %s", st, b)
	}
	if !strings.Contains(e.logs.String(), "source 127.0.0.2 not in allow_cidrs") {
		t.Errorf("refusal not logged:\n%s", e.logs.String())
	}
	// Endpoints without an allow list take any source.
	if st, _ := func() (int, string) {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
		c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
		defer c.CloseIdleConnections()
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/items/1", nil)
		req.Header.Set("X-Api-Key", testKey)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, ""
	}(); st != 200 {
		t.Fatalf("unrestricted endpoint from 127.0.0.2: %d", st)
	}
}

func TestCheckSource(t *testing.T) {
	ep := &endpoint{}
	ep.allow = append(ep.allow, mustPrefix("10.0.0.0/8"))
	for _, tt := range []struct {
		remote string
		ok     bool
	}{
		{"10.1.2.3:5000", true},
		{"[::ffff:10.1.2.3]:5000", true},
		{"11.0.0.1:5000", false},
		{"garbage", false},
		{"[::1]:80", false},
	} {
		if err := checkSource(ep, tt.remote); (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.remote, err, tt.ok)
		}
	}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

package proxy

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/config"
)

// FuzzTokenHost: any token text yields a host that is a prefix of it
// without "/" or "?", and TokenHostOK accepts it only when it names the
// proxy's listen address or advertised host with the same port.
func FuzzTokenHost(f *testing.F) {
	for _, s := range []string{"127.0.0.1:6432/?Action=connect&DBUser=u&X-Amz-Signature=x", "https://H:1/?a", "[::1]:6432/?x",
		"db.elsewhere.example:6432/", "", "://", "h:1?x", "127.0.0.1:06432/?x", "localhost:6432/?x"} {
		f.Add(s)
	}
	a := NewAuthenticator(Deps{Cluster: config.Cluster{Name: "c", Proxy: &config.Proxy{Listen: "127.0.0.1:6432", AdvertisedHosts: []string{"h:1"}}},
		Tokens: tokenFunc(func(context.Context, string, string, string) error { return nil })})
	ctx := a.tokenContext(context.Background())
	f.Fuzz(func(t *testing.T, token string) {
		h := TokenHost(token)
		if strings.ContainsAny(h, "/?") || !strings.Contains(token, h) {
			t.Fatalf("TokenHost(%q) = %q", token, h)
		}
		if !TokenHostOK(ctx, h) {
			return
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			t.Fatalf("accepted %q", h)
		}
		ip := net.ParseIP(host)
		okListen := port == "6432" && ip != nil && ip.Equal(net.ParseIP("127.0.0.1"))
		okAdvertised := port == "1" && strings.EqualFold(host, "h")
		if !okListen && !okAdvertised {
			t.Fatalf("accepted %q", h)
		}
	})
}

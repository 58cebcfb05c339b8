package rdsapi

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/sqlgate/sqlgate/internal/config"
)

// fileEndpoints are the additional endpoints a file proxy declares
// (proxy.endpoints), with ids stable across nodes and restarts.
func fileEndpoints(proxyName string, px config.Proxy) []Endpoint {
	var out []Endpoint
	for _, e := range px.Endpoints {
		h := sha256.Sum256([]byte("sqlgate-proxy-endpoint\x00" + proxyName + "\x00" + e.Name))
		out = append(out, Endpoint{Name: e.Name, ID: "prx-endpoint-" + hex.EncodeToString(h[:])[:17], Listen: e.Listen,
			TargetRole: strings.ToUpper(e.TargetRole), Source: SourceFile})
	}
	return out
}

// ReadOnly reports whether the endpoint routes to the cluster's readers.
func (e Endpoint) ReadOnly() bool { return e.TargetRole == "READ_ONLY" }

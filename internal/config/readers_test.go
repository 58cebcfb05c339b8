package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidateReaders(t *testing.T) {
	const inst = "instances: [{address: '127.0.0.1:1', role: writer}, {address: '127.0.0.1:2', role: reader}], health_check: {secret: s}"
	const px = "proxy: {listen: '127.0.0.1:9', auth_secrets: [s], endpoints: [%s]}"
	proxy := func(eps string) string { return strings.Replace(px, "%s", eps, 1) }
	tests := []struct {
		name, cluster, endpoints, want string
	}{
		{"readers without instances", "address: '127.0.0.1:1', readers: {writer_fallback: true}", "", "clusters[0].readers: only used with instances"},
		{"negative lag", inst + ", readers: {max_replica_lag: -1s}", "", "clusters[0].readers.max_replica_lag: must not be negative"},
		{"read_only without instances", "address: '127.0.0.1:1', " + proxy("{name: ro, listen: '127.0.0.1:8', target_role: read_only}"), "",
			"clusters[0].proxy.endpoints[0].target_role: read_only needs a cluster with instances"},
		{"bad role", inst + ", " + proxy("{name: ro, listen: '127.0.0.1:8', target_role: reader}"), "", `clusters[0].proxy.endpoints[0].target_role: unknown role "reader"`},
		{"bad name", inst + ", " + proxy("{name: default, listen: '127.0.0.1:8'}"), "", `clusters[0].proxy.endpoints[0].name: invalid endpoint name "default"`},
		{"twice", inst + ", " + proxy("{name: ro, listen: '127.0.0.1:8'}, {name: ro, listen: '127.0.0.1:7'}"), "", `clusters[0].proxy.endpoints[1].name: proxy endpoint name "ro" is used twice`},
		{"bad listen", inst + ", " + proxy("{name: ro, listen: nope}"), "", `clusters[0].proxy.endpoints[0].listen: invalid address "nope"`},
		{"sql target without instances", "address: '127.0.0.1:1'", "{name: e, method: GET, path: /e, cluster: a, secret: s, sql: 'select 1', target: reader}",
			`endpoints[0].target: reader needs a cluster with instances`},
		{"sql target unknown", inst, "{name: e, method: GET, path: /e, cluster: a, secret: s, sql: 'select 1', target: replica}",
			`endpoints[0].target: unknown target "replica"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := "clusters:\n- {name: a, engine: postgres, " + tt.cluster + "}\n"
			if tt.endpoints != "" {
				y += "endpoints:\n- " + tt.endpoints + "\n"
			}
			c, err := Parse([]byte(y))
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		c, err := Parse([]byte("clusters:\n- {name: a, engine: postgres, " + inst + ", " + proxy("{name: ro, listen: '127.0.0.1:8'}") + "}\n" +
			"endpoints:\n- {name: e, method: GET, path: /e, cluster: a, secret: s, sql: 'select 1', target: reader}\n"))
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			t.Fatal(err)
		}
		cl := c.Clusters[0]
		if cl.Readers.MaxReplicaLag != 30*time.Second || cl.Readers.WriterFallback || cl.Proxy.Endpoints[0].TargetRole != TargetReadWrite {
			t.Fatalf("readers %+v, endpoint %+v; want 30s, no fallback, read_write", cl.Readers, cl.Proxy.Endpoints[0])
		}
		if !c.Endpoints[0].ReaderTarget() {
			t.Fatal("target reader not parsed")
		}
	})
}

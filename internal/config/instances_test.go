package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidateInstances(t *testing.T) {
	const w, r = "{address: '127.0.0.1:1', role: writer}", "{address: '127.0.0.1:2', role: reader}"
	hc := ", health_check: {secret: s}"
	tests := []struct {
		name, yaml, want string
	}{
		{"no writer", "[" + r + "]" + hc, "clusters[0].instances: no instance has role writer"},
		{"two writers", "[" + w + ", {address: '127.0.0.1:3', role: writer}]" + hc, "clusters[0].instances[1].role: a cluster has one writer"},
		{"bad role", "[" + w + ", {address: '127.0.0.1:2', role: primary}]" + hc, `clusters[0].instances[1].role: unknown role "primary"`},
		{"duplicate", "[" + w + ", {address: '127.0.0.1:1', role: reader}]" + hc, `clusters[0].instances[1].address: duplicate instance`},
		{"bad address", "[{address: nope, role: writer}]" + hc, `clusters[0].instances[0].address: invalid address "nope"`},
		{"no secret", "[" + w + "]", "clusters[0].health_check.secret: required with instances"},
		{"other address", "[" + w + "], address: '127.0.0.1:9'" + hc, `clusters[0].address: "127.0.0.1:9" is not the writer instance`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte("clusters:\n- {name: a, engine: postgres, instances: " + tt.yaml + "}\n"))
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
	t.Run("sqlite", func(t *testing.T) {
		c, _ := Parse([]byte("clusters:\n- {name: a, engine: sqlite, instances: [" + w + "]" + hc + "}\n"))
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "has no replicas") {
			t.Fatalf("err = %v, want sqlite refused", err)
		}
	})
	t.Run("health_check without instances", func(t *testing.T) {
		c, _ := Parse([]byte("clusters:\n- {name: a, engine: mysql, address: '127.0.0.1:1', health_check: {interval: 1s}}\n"))
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "only used with instances") {
			t.Fatalf("err = %v, want refused", err)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		c, err := Parse([]byte("clusters:\n- {name: a, engine: mysql, instances: [" + r + ", " + w + "]" + hc + "}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		cl := c.Clusters[0]
		if cl.Address != "127.0.0.1:1" || cl.HealthCheck.Interval != 5*time.Second || cl.HealthCheck.Timeout != 2*time.Second {
			t.Fatalf("got address %q, health_check %+v; want the writer's address and 5s/2s", cl.Address, cl.HealthCheck)
		}
	})
}

package config

import (
	"strings"
	"testing"
	"time"
)

func TestConfig_Default(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Listen.HTTP != "127.0.0.1:8080" || c.DataDir != "./sqlgate-data" || c.Region != "us-east-1" || c.AccountID != "000000000000" {
		t.Fatalf("defaults = %+v", c)
	}
	if len(c.Clusters) != 1 || c.Clusters[0].Name != "default" || c.Clusters[0].Engine != "sqlite" {
		t.Fatalf("clusters = %+v", c.Clusters)
	}
	if got := c.Clusters[0].Limits.StatementTimeout; got != 45*time.Second {
		t.Fatalf("statement timeout = %v", got)
	}
}

func TestConfig_Parse(t *testing.T) {
	t.Setenv("SQLGATE_TEST_HOST", "db.internal")
	c, err := Parse([]byte(`
region: eu-west-1
clusters:
  - name: maria
    engine: mysql
    address: ${SQLGATE_TEST_HOST}:3306
    data_api: false
    max_connections: 5
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	cl := c.Clusters[0]
	if cl.Address != "db.internal:3306" || cl.DataAPIEnabled() || cl.MaxConnections != 5 || c.Region != "eu-west-1" {
		t.Fatalf("cluster = %+v", cl)
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown engine", "clusters:\n- {name: a, engine: sqlite}\n- {name: b, engine: oracle}\n",
			`clusters[1].engine: unknown engine "oracle" (want mysql, postgres or sqlite)`},
		{"bad address", "clusters:\n- {name: a, engine: mysql, address: nope}\n", `clusters[0].address: invalid address "nope" (want host:port)`},
		{"duplicate", "clusters:\n- {name: a, engine: sqlite}\n- {name: a, engine: sqlite}\n", `clusters[1].name: duplicate cluster name "a"`},
		{"bad name", "clusters:\n- {name: 'a b', engine: sqlite}\n", `clusters[0].name: invalid cluster name`},
		{"public http", "listen: {http: 0.0.0.0:8080}\n", "listen.http: plain HTTP on non-loopback address"},
		{"account", "account_id: '12'\n", `account_id: invalid account id "12"`},
		{"tls mode", "clusters:\n- {name: a, engine: sqlite, tls: {mode: maybe}}\n", `clusters[0].tls.mode: unknown mode "maybe"`},
		{"negative", "clusters:\n- {name: a, engine: sqlite, max_connections: -1}\n", `clusters[0].max_connections: must not be negative`},
		{"state driver", "state: {driver: mysql, dsn: x}\n", `state.driver: unknown driver "mysql" (want sqlite or postgres)`},
		{"state dsn missing", "state: {driver: postgres}\n", `state.dsn: required for driver postgres`},
		{"negative share", "clusters:\n- {name: a, engine: sqlite, limits: {max_transactions_per_principal: -2}}\n", `clusters[0].limits: per-principal limits must not be negative`},
		{"waiters alone", "clusters:\n- {name: a, engine: sqlite, limits: {max_waiters_per_principal: 0}}\n", `clusters[0].limits.max_waiters_per_principal: needs max_connections_per_principal`},
		{"share above budget", "clusters:\n- {name: a, engine: sqlite, max_connections: 5, limits: {max_connections_per_principal: 6}}\n", `clusters[0].limits.max_connections_per_principal: 6 is above the cluster's max_connections (5)`},
		{"state dsn unused", "state: {dsn: 'postgres://x'}\n", `state.dsn: only used with driver postgres`},
		{"lease ttl", "state: {driver: postgres, dsn: 'postgres://x', lease_ttl: 100ms}\n", `state.lease_ttl: must be at least 600ms`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
	t.Run("insecure http allowed", func(t *testing.T) {
		c, _ := Parse([]byte("insecure_http: true\nlisten: {http: 0.0.0.0:8080}\n"))
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("postgres state", func(t *testing.T) {
		c, err := Parse([]byte("state: {driver: postgres, dsn: 'postgres://u:p@db:5432/s'}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil || c.State.Driver != "postgres" || c.State.DSN != "postgres://u:p@db:5432/s" {
			t.Fatalf("got %+v, %v", c.State, err)
		}
	})
	t.Run("per-principal limits", func(t *testing.T) {
		c, err := Parse([]byte("clusters:\n- {name: a, engine: sqlite, limits: {max_connections_per_principal: 4, max_transactions_per_principal: 2, max_waiters_per_principal: 0}}\n- {name: b, engine: sqlite}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if conns, txns, waiters := c.Clusters[0].Limits.Shares(); conns != 4 || txns != 2 || waiters != 0 {
			t.Fatalf("a: got %d %d %d, want 4 2 0", conns, txns, waiters)
		}
		if conns, txns, waiters := c.Clusters[1].Limits.Shares(); conns != 0 || txns != 0 || waiters != -1 {
			t.Fatalf("b: got %d %d %d, want 0 0 -1 (no bounds)", conns, txns, waiters)
		}
	})
	t.Run("unknown field", func(t *testing.T) {
		if _, err := Parse([]byte("bogus: 1\n")); err == nil {
			t.Fatal("want error for unknown field")
		}
	})
}

func TestValidateWorkloads(t *testing.T) {
	for _, tc := range []struct {
		w  Workloads
		ok bool
	}{
		{Workloads{}, true},
		{Workloads{Listen: "127.0.0.1:9911", CredentialLifetime: 16 * time.Minute}, true},
		{Workloads{Listen: "169.254.170.2:80"}, true},
		{Workloads{Listen: "0.0.0.0:9911"}, false},
		{Workloads{Listen: "10.0.0.1:9911"}, false},
		{Workloads{CredentialLifetime: 5 * time.Minute}, false},
		{Workloads{IMDS: []IMDS{{Listen: "169.254.169.254:80", Workload: "vm"}}}, true},
		{Workloads{IMDS: []IMDS{{Listen: "127.0.0.1:9912", Workload: ""}}}, false},
		{Workloads{IMDS: []IMDS{{Listen: "192.168.1.1:80", Workload: "vm"}}}, false},
	} {
		c := Default()
		c.Workloads = tc.w
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.w, err)
		}
	}
}

func TestRotationConfig(t *testing.T) {
	c := Default()
	if c.Rotation.GraceWindow != 5*time.Minute || c.Rotation.CheckInterval != 30*time.Second {
		t.Fatalf("defaults %+v", c.Rotation)
	}
	c.Rotation.GraceWindow = -time.Second
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "rotation") {
		t.Fatalf("negative grace window: %v", err)
	}
}

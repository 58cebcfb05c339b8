// Package config is sqlgate's configuration: plain data, defaults, loading
// from YAML with $VAR expansion, and validation with field-named errors.
// Nothing here starts listeners, sets up logging or touches the network.
// Every field is documented in docs/config.md.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole sqlgate configuration.
type Config struct {
	DataDir   string    `yaml:"data_dir"`
	Region    string    `yaml:"region"`
	AccountID string    `yaml:"account_id"`
	Listen    Listen    `yaml:"listen"`
	TLS       TLSFiles  `yaml:"tls"`
	Clusters  []Cluster `yaml:"clusters"`
	// InsecureHTTP allows plain HTTP on a non-loopback address.
	InsecureHTTP bool `yaml:"insecure_http"`
	// Log selects the log format: "text" (default) or "json".
	LogFormat string `yaml:"log_format"`
	// State selects the state store (users, keys, policies, secrets).
	State State `yaml:"state"`
	// Endpoints, APIKeys and UsagePlans declare SQL-backed HTTP endpoints
	// (internal/config/endpoints.go, docs/endpoints.md).
	Endpoints  []Endpoint  `yaml:"endpoints"`
	APIKeys    []APIKey    `yaml:"api_keys"`
	UsagePlans []UsagePlan `yaml:"usage_plans"`
	// Workloads configures the credential endpoints of workloads
	// (internal/config/workloads.go, docs/iam.md).
	Workloads Workloads `yaml:"workloads"`
	// Rotation tunes the built-in rotation of database secrets
	// (docs/secrets.md).
	Rotation Rotation `yaml:"rotation"`
	// RDS configures proxies created through the RDS API (rds.go).
	RDS RDS `yaml:"rds"`
}

// Rotation tunes the built-in rotation of database secrets.
type Rotation struct {
	// GraceWindow is how long after a rotation the proxies still accept
	// the AWSPREVIOUS username and password from clients (default 5m).
	GraceWindow time.Duration `yaml:"grace_window"`
	// CheckInterval is how often rotation schedules are checked (default
	// 30s); RotateSecret starts a rotation at once regardless.
	CheckInterval time.Duration `yaml:"check_interval"`
}

// State selects where the state store lives. The zero value is the
// SQLite file data_dir/state.db.
type State struct {
	// Driver is "sqlite" (also "") or "postgres"; postgres lets several
	// nodes share state (they must share the master key too).
	Driver string `yaml:"driver"`
	// DSN is the PostgreSQL connection string (URL or key=value), required
	// for postgres and unused for sqlite.
	DSN string `yaml:"dsn"`
	// LeaseTTL is how long a node's share of each cluster's
	// max_connections lasts without renewal, with driver postgres (nodes
	// on one store share the budget; default 6s). A node renews every
	// lease_ttl/6 and closes its connections when it could not renew for
	// 2/3 of it; a dead node's share goes to the others after lease_ttl.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// NodeID names this node in the leases (default: host name and a
	// random suffix, new at each start).
	NodeID string `yaml:"node_id"`
}

// Listen holds the HTTP listener addresses. Empty = not listening.
type Listen struct {
	HTTP  string `yaml:"http"`
	HTTPS string `yaml:"https"`
	// LeanHTTP serves the Data API's keep-alive POSTs on listen.http with
	// sqlgate's own HTTP/1.1 reader (internal/lane) instead of net/http's;
	// nil = on. Off: net/http serves every request.
	LeanHTTP *bool `yaml:"lean_http"`
}

// Lean reports whether the lean HTTP/1.1 path is on (the default).
func (l Listen) Lean() bool { return l.LeanHTTP == nil || *l.LeanHTTP }

// TLSFiles names a PEM certificate and key. Both empty = self-signed.
type TLSFiles struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Cluster is one database server sqlgate fronts.
type Cluster struct {
	Name    string `yaml:"name"`
	Engine  string `yaml:"engine"`
	Address string `yaml:"address"`
	// Database is the default database when a request names none.
	Database string `yaml:"database"`
	// DataAPI enables the Data API for this cluster (nil = true).
	DataAPI *bool `yaml:"data_api"`
	// MaxConnections is the backend connection budget (0 = 20).
	MaxConnections int        `yaml:"max_connections"`
	TLS            ClusterTLS `yaml:"tls"`
	Limits         Limits     `yaml:"limits"`
	// Proxy is the cluster's connection-pooling proxy endpoint (RDS Proxy
	// analog); nil = no proxy.
	Proxy *Proxy `yaml:"proxy"`
	// Instances are the servers of a replicated cluster: one writer and
	// any number of readers (mysql and postgres only). Address is the
	// single-instance form: it means one writer, and with instances it
	// is filled with the writer's address.
	Instances   []Instance  `yaml:"instances"`
	HealthCheck HealthCheck `yaml:"health_check"`
	// Readers tunes the choice of a reader for reader endpoints.
	Readers Readers `yaml:"readers"`
}

// Instance is one server of a cluster (docs/config.md).
type Instance struct {
	Address string `yaml:"address"`
	// Role is the role the instance starts in: writer or reader. The
	// health check reads the actual role from the server, so a promoted
	// reader becomes the writer without a config change.
	Role string `yaml:"role"`
}

// Instance roles (Instance.Role).
const (
	RoleWriter = "writer"
	RoleReader = "reader"
)

// HealthCheck tunes the per-instance health checks of a cluster with
// instances.
type HealthCheck struct {
	// Interval between checks of each instance (default 5s).
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds one check, connect included (default 2s).
	Timeout time.Duration `yaml:"timeout"`
	// Secret names the secret whose username and password the checks
	// log in with; it needs to see replication status (MariaDB: REPLICA
	// MONITOR or REPLICATION CLIENT).
	Secret string `yaml:"secret"`
}

// Replicated reports whether the cluster lists instances to health-check.
func (c Cluster) Replicated() bool { return len(c.Instances) > 0 }

// Proxy configures a cluster's proxy endpoint (docs/proxy.md).
type Proxy struct {
	// Name is the proxy's DBProxyName in the RDS API (default: the
	// cluster's name).
	Name string `yaml:"name"`
	// Listen is the address clients connect to, e.g. 127.0.0.1:16432.
	Listen string `yaml:"listen"`
	// AuthSecrets are the secrets whose username/password clients may log
	// in with; the backend login uses the same secret's credentials.
	AuthSecrets []string `yaml:"auth_secrets"`
	// IAMAuth: disabled | optional (default) | required.
	IAMAuth    string   `yaml:"iam_auth"`
	RequireTLS bool     `yaml:"require_tls"`
	TLS        TLSFiles `yaml:"tls"`
	// MaxClientConnections bounds client connections (0 = 10000).
	MaxClientConnections int `yaml:"max_client_connections"`
	// BorrowTimeout is how long a client waits for a backend connection
	// (0 = 120s, RDS ConnectionBorrowTimeout).
	BorrowTimeout time.Duration `yaml:"borrow_timeout"`
	// IdleClientTimeout closes idle client connections (0 = 30m).
	IdleClientTimeout time.Duration `yaml:"idle_client_timeout"`
	// InitQuery runs on every new backend connection.
	InitQuery string `yaml:"init_query"`
	// MaxConnectionsPercent bounds the database connections this proxy
	// holds to a percentage of the cluster's max_connections (0 = 100).
	MaxConnectionsPercent int `yaml:"max_connections_percent"`
	// MaxIdleConnectionsPercent bounds the idle database connections it
	// keeps, as a percentage of max_connections (nil = no bound beyond
	// MaxConnectionsPercent; 0 = keep none idle).
	MaxIdleConnectionsPercent *int `yaml:"max_idle_connections_percent"`
	// DebugLogging logs every client session's end at info level.
	DebugLogging bool `yaml:"debug_logging"`
	// Isolation is how a backend connection is cleaned between clients:
	// "default" ("" too) resets the session state the proxy can see and
	// pins clients on state it cannot; "strict" also resets the backend
	// session on every hand-over to a different client (docs/proxy.md).
	Isolation string `yaml:"isolation"`
	// AdvertisedHosts are the host:port names clients reach the proxy by
	// when that is not its listen address (a load balancer, a DNS name):
	// an IAM auth token is accepted only for the listen address, the
	// address the client connected to, or one of these.
	AdvertisedHosts []string `yaml:"advertised_hosts"`
	// Endpoints are additional listeners with these settings, e.g. a
	// read-only one routed to the cluster's readers.
	Endpoints []ProxyEndpoint `yaml:"endpoints"`
}

// ConnLimit returns the database connections the proxy may hold out of a
// cluster budget of max (at least 1; max itself without a percentage).
func (p Proxy) ConnLimit(max int) int {
	return percentOf(p.MaxConnectionsPercent, max)
}

// IdleLimit returns the idle connections the proxy may keep out of a
// cluster budget of max (-1 = no bound beyond ConnLimit).
func (p Proxy) IdleLimit(max int) int {
	switch pct := p.MaxIdleConnectionsPercent; {
	case pct == nil:
		return -1
	case *pct <= 0:
		return 0
	}
	return percentOf(*p.MaxIdleConnectionsPercent, max)
}

// percentOf is pct% of n rounded up, at least 1 (pct 0 or 100+: n).
func percentOf(pct, n int) int {
	if pct <= 0 || pct >= 100 {
		return n
	}
	return max((pct*n+99)/100, 1)
}

// Proxy isolation modes (Proxy.Isolation).
const (
	IsolationDefault = "default"
	IsolationStrict  = "strict"
)

// StrictIsolation reports whether p resets the backend session on every
// hand-over to a different client.
func (p *Proxy) StrictIsolation() bool { return p.Isolation == IsolationStrict }

// ClusterTLS is how sqlgate connects to the database.
type ClusterTLS struct {
	Mode   string `yaml:"mode"` // disable (default) | require | verify-full
	CAFile string `yaml:"ca_file"`
}

// Limits are the Data API limits of a cluster; zero values take AWS's.
type Limits struct {
	MaxSQLChars      int           `yaml:"max_sql_chars"`      // 0 = 65536
	MaxResponseBytes int           `yaml:"max_response_bytes"` // 0 = 1 MiB
	StatementTimeout time.Duration `yaml:"statement_timeout"`  // 0 = 45s
	// MaxDetachedStatement bounds a statement left running by
	// continueAfterTimeout; at the limit it is cancelled and its
	// connection closed. 0 = 1h.
	MaxDetachedStatement time.Duration `yaml:"max_detached_statement"`
	TxIdleTimeout        time.Duration `yaml:"tx_idle_timeout"` // 0 = 3m
	TxMaxLifetime        time.Duration `yaml:"tx_max_lifetime"` // 0 = 24h
	BorrowTimeout        time.Duration `yaml:"borrow_timeout"`  // 0 = 10s
	// MaxConnectionsPerPrincipal bounds the backend connections one
	// principal (IAM principal, API key, proxy login user) holds at once
	// through any door (0 = no bound).
	MaxConnectionsPerPrincipal int `yaml:"max_connections_per_principal"`
	// MaxTransactionsPerPrincipal bounds the Data API transactions one
	// principal keeps open (0 = no bound).
	MaxTransactionsPerPrincipal int `yaml:"max_transactions_per_principal"`
	// MaxWaitersPerPrincipal bounds the calls of a principal that holds
	// MaxConnectionsPerPrincipal waiting for one of them (nil = no bound;
	// 0 = refuse at once).
	MaxWaitersPerPrincipal *int `yaml:"max_waiters_per_principal"`
}

// Shares returns the per-principal limits (internal/fairshare.Limits
// fields: connections, transactions, waiters; waiters -1 = no bound).
func (l Limits) Shares() (conns, txns, waiters int) {
	waiters = -1
	if l.MaxWaitersPerPrincipal != nil {
		waiters = *l.MaxWaitersPerPrincipal
	}
	return l.MaxConnectionsPerPrincipal, l.MaxTransactionsPerPrincipal, waiters
}

// DataAPIEnabled reports whether the Data API is on for c.
func (c Cluster) DataAPIEnabled() bool { return c.DataAPI == nil || *c.DataAPI }

// Defaults for zero values.
const (
	DefaultHTTP           = "127.0.0.1:8080"
	DefaultDataDir        = "./sqlgate-data"
	DefaultRegion         = "us-east-1"
	DefaultAccountID      = "000000000000"
	DefaultMaxConnections = 20
)

// Default returns the embedded zero-setup configuration: HTTP on
// 127.0.0.1:8080, data dir ./sqlgate-data, one SQLite cluster "default".
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	c.Clusters = []Cluster{{Name: "default", Engine: "sqlite"}}
	c.ApplyClusterDefaults()
	return c
}

// Load reads a YAML config file, expands $VAR and ${VAR} from the
// environment, and fills defaults. It does not validate; call Validate.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(b)
}

// Parse is Load on bytes.
func Parse(b []byte) (*Config, error) {
	expanded := os.ExpandEnv(string(b))
	c := &Config{}
	dec := yaml.NewDecoder(stringsReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && err.Error() != "EOF" {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	c.applyDefaults()
	if len(c.Clusters) == 0 {
		c.Clusters = []Cluster{{Name: "default", Engine: "sqlite"}}
	}
	c.ApplyClusterDefaults()
	return c, nil
}

func (c *Config) applyDefaults() {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.AccountID == "" {
		c.AccountID = DefaultAccountID
	}
	if c.Listen.HTTP == "" && c.Listen.HTTPS == "" {
		c.Listen.HTTP = DefaultHTTP
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
	c.RDS.applyDefaults()
	setDur(&c.Rotation.GraceWindow, 5*time.Minute)
	setDur(&c.Rotation.CheckInterval, 30*time.Second)
}

// ApplyClusterDefaults fills per-cluster zero values; call again after the
// data dir changes (flags) so SQLite paths follow it.
func (c *Config) ApplyClusterDefaults() {
	for i := range c.Clusters {
		cl := &c.Clusters[i]
		if cl.MaxConnections == 0 {
			cl.MaxConnections = DefaultMaxConnections
		}
		l := &cl.Limits
		setDefault(&l.MaxSQLChars, 65536)
		setDefault(&l.MaxResponseBytes, 1<<20)
		setDur(&l.StatementTimeout, 45*time.Second)
		setDur(&l.MaxDetachedStatement, time.Hour)
		setDur(&l.TxIdleTimeout, 3*time.Minute)
		setDur(&l.TxMaxLifetime, 24*time.Hour)
		setDur(&l.BorrowTimeout, 10*time.Second)
		if cl.TLS.Mode == "" {
			cl.TLS.Mode = "disable"
		}
		applyInstanceDefaults(cl)
		applyReaderDefaults(cl)
		if px := cl.Proxy; px != nil {
			if px.IAMAuth == "" {
				px.IAMAuth = "optional"
			}
			setDefault(&px.MaxClientConnections, 10000)
			setDur(&px.BorrowTimeout, 120*time.Second)
			setDur(&px.IdleClientTimeout, 30*time.Minute)
		}
	}
}

// HasDefaultSQLite reports whether the config has the embedded SQLite
// cluster "default", which gets a generated secret "default".
func (c *Config) HasDefaultSQLite() bool {
	for _, cl := range c.Clusters {
		if cl.Name == "default" && cl.Engine == "sqlite" {
			return true
		}
	}
	return false
}

// SQLitePath returns the database file of a SQLite cluster: its address, or
// <data_dir>/<name>.db when the address is empty; relative addresses are
// relative to the data dir.
func (c *Config) SQLitePath(cl Cluster) string {
	p := cl.Address
	if p == "" {
		p = cl.Name + ".db"
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.DataDir, p)
	}
	return p
}

func setDefault(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func setDur(p *time.Duration, v time.Duration) {
	if *p == 0 {
		*p = v
	}
}

// applyInstanceDefaults fills the health-check defaults and, when only
// instances are given, the cluster address with the writer's.
func applyInstanceDefaults(cl *Cluster) {
	if !cl.Replicated() {
		return
	}
	setDur(&cl.HealthCheck.Interval, 5*time.Second)
	setDur(&cl.HealthCheck.Timeout, 2*time.Second)
	if cl.Address != "" {
		return
	}
	for _, in := range cl.Instances {
		if in.Role == RoleWriter {
			cl.Address = in.Address
			return
		}
	}
}

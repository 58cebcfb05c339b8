package config

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
)

// FieldError names the config field that is wrong.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

var (
	clusterName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,62}$`)
	accountID   = regexp.MustCompile(`^[0-9]{12}$`)
	regionName  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Validate checks c and returns the first problem as a *FieldError.
func (c *Config) Validate() error {
	if !regionName.MatchString(c.Region) {
		return &FieldError{"region", fmt.Sprintf("invalid region %q (want e.g. us-east-1)", c.Region)}
	}
	if !accountID.MatchString(c.AccountID) {
		return &FieldError{"account_id", fmt.Sprintf("invalid account id %q (want 12 digits)", c.AccountID)}
	}
	if err := c.validateListen(); err != nil {
		return err
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return &FieldError{"tls", "cert_file and key_file must be set together"}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return &FieldError{"log_format", fmt.Sprintf("unknown format %q (want text or json)", c.LogFormat)}
	}
	if err := c.validateState(); err != nil {
		return err
	}
	if err := c.validateWorkloads(); err != nil {
		return err
	}
	if err := c.validateRDS(); err != nil {
		return err
	}
	if c.Rotation.GraceWindow < 0 || c.Rotation.CheckInterval < 0 {
		return &FieldError{"rotation", "grace_window and check_interval must not be negative"}
	}
	seen, proxyEndpoints := map[string]bool{}, map[string]bool{}
	for i, cl := range c.Clusters {
		if err := validateCluster(fmt.Sprintf("clusters[%d]", i), cl); err != nil {
			return err
		}
		if err := validateReaders(fmt.Sprintf("clusters[%d]", i), cl, proxyEndpoints); err != nil {
			return err
		}
		if seen[cl.Name] {
			return &FieldError{fmt.Sprintf("clusters[%d].name", i), fmt.Sprintf("duplicate cluster name %q", cl.Name)}
		}
		seen[cl.Name] = true
	}
	return c.ValidateEndpoints()
}

func (c *Config) validateState() error {
	switch c.State.Driver {
	case "", "sqlite":
		if c.State.DSN != "" {
			return &FieldError{"state.dsn", "only used with driver postgres"}
		}
	case "postgres":
		if c.State.DSN == "" {
			return &FieldError{"state.dsn", "required for driver postgres"}
		}
	default:
		return &FieldError{"state.driver", fmt.Sprintf("unknown driver %q (want sqlite or postgres)", c.State.Driver)}
	}
	if t := c.State.LeaseTTL; t != 0 && t < 600*time.Millisecond {
		return &FieldError{"state.lease_ttl", "must be at least 600ms"}
	}
	return nil
}

func (c *Config) validateListen() error {
	if c.Listen.HTTP != "" {
		host, err := checkAddr(c.Listen.HTTP)
		if err != nil {
			return &FieldError{"listen.http", err.Error()}
		}
		if !c.InsecureHTTP && !isLoopback(host) {
			return &FieldError{"listen.http", fmt.Sprintf("plain HTTP on non-loopback address %q sends secrets in clear; use listen.https or set insecure_http: true", c.Listen.HTTP)}
		}
	}
	if c.Listen.HTTPS != "" {
		if _, err := checkAddr(c.Listen.HTTPS); err != nil {
			return &FieldError{"listen.https", err.Error()}
		}
	}
	return nil
}

func validateCluster(f string, cl Cluster) error {
	if !clusterName.MatchString(cl.Name) {
		return &FieldError{f + ".name", fmt.Sprintf("invalid cluster name %q (letters, digits and hyphens, starting with a letter, at most 63)", cl.Name)}
	}
	switch cl.Engine {
	case "mysql", "postgres":
		if cl.Replicated() {
			break // validateInstances checks the addresses
		}
		if _, err := checkAddr(cl.Address); err != nil {
			return &FieldError{f + ".address", err.Error()}
		}
	case "sqlite":
	default:
		return &FieldError{f + ".engine", fmt.Sprintf("unknown engine %q (want mysql, postgres or sqlite)", cl.Engine)}
	}
	if cl.MaxConnections < 0 {
		return &FieldError{f + ".max_connections", "must not be negative"}
	}
	switch cl.TLS.Mode {
	case "disable", "require", "verify-full":
	default:
		return &FieldError{f + ".tls.mode", fmt.Sprintf("unknown mode %q (want disable, require or verify-full)", cl.TLS.Mode)}
	}
	if err := validateProxy(f+".proxy", cl); err != nil {
		return err
	}
	if err := validateInstances(f, cl); err != nil {
		return err
	}
	if cl.Limits.MaxSQLChars < 0 || cl.Limits.MaxResponseBytes < 0 || cl.Limits.StatementTimeout < 0 || cl.Limits.BorrowTimeout < 0 ||
		cl.Limits.MaxDetachedStatement < 0 {
		return &FieldError{f + ".limits", "limits must not be negative"}
	}
	return validateShares(f+".limits", cl)
}

// validateShares checks the per-principal limits.
func validateShares(f string, cl Cluster) error {
	l := cl.Limits
	w := l.MaxWaitersPerPrincipal
	if l.MaxConnectionsPerPrincipal < 0 || l.MaxTransactionsPerPrincipal < 0 || w != nil && *w < 0 {
		return &FieldError{f, "per-principal limits must not be negative"}
	}
	if w != nil && l.MaxConnectionsPerPrincipal == 0 {
		return &FieldError{f + ".max_waiters_per_principal", "needs max_connections_per_principal: it bounds the calls waiting for a principal's own connections"}
	}
	if n := cl.MaxConnections; n > 0 && l.MaxConnectionsPerPrincipal > n {
		return &FieldError{f + ".max_connections_per_principal", fmt.Sprintf("%d is above the cluster's max_connections (%d)", l.MaxConnectionsPerPrincipal, n)}
	}
	return nil
}

func validateProxy(f string, cl Cluster) error {
	px := cl.Proxy
	if px == nil {
		return nil
	}
	if cl.Engine == "sqlite" {
		return &FieldError{f, "a proxy needs a mysql or postgres cluster"}
	}
	if _, err := checkAddr(px.Listen); err != nil {
		return &FieldError{f + ".listen", err.Error()}
	}
	switch px.IAMAuth {
	case "disabled", "optional", "required":
	default:
		return &FieldError{f + ".iam_auth", fmt.Sprintf("unknown value %q (want disabled, optional or required)", px.IAMAuth)}
	}
	switch px.Isolation {
	case "", IsolationDefault, IsolationStrict:
	default:
		return &FieldError{f + ".isolation", fmt.Sprintf("unknown value %q (want default or strict)", px.Isolation)}
	}
	for i, h := range px.AdvertisedHosts {
		if host, err := checkAddr(h); err != nil || host == "" {
			return &FieldError{fmt.Sprintf("%s.advertised_hosts[%d]", f, i), fmt.Sprintf("invalid address %q (want host:port, as in the clients' IAM auth tokens)", h)}
		}
	}
	if len(px.AuthSecrets) == 0 {
		return &FieldError{f + ".auth_secrets", "name at least one secret: clients log in with its username and password (or an IAM token for its username), and the proxy logs into the database with it"}
	}
	if (px.TLS.CertFile == "") != (px.TLS.KeyFile == "") {
		return &FieldError{f + ".tls", "cert_file and key_file must be set together"}
	}
	if px.Name != "" && !proxyName.MatchString(px.Name) {
		return &FieldError{f + ".name", fmt.Sprintf("invalid proxy name %q (want a letter, then letters, digits and single hyphens, at most 63)", px.Name)}
	}
	if idle := px.MaxIdleConnectionsPercent; px.MaxConnectionsPercent < 0 || px.MaxConnectionsPercent > 100 || idle != nil && (*idle < 0 || *idle > 100) {
		return &FieldError{f, "max_connections_percent and max_idle_connections_percent must be 0..100"}
	}
	if px.MaxClientConnections < 0 || px.BorrowTimeout < 0 || px.IdleClientTimeout < 0 {
		return &FieldError{f, "limits must not be negative"}
	}
	return nil
}

// proxyName is an RDS DBProxyName: a letter, then letters, digits and
// single hyphens, not ending in a hyphen, at most 63 characters.
var proxyName = regexp.MustCompile(`^[A-Za-z](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,62}$`)

func checkAddr(a string) (string, error) {
	host, port, err := net.SplitHostPort(a)
	if err != nil || port == "" {
		return "", fmt.Errorf("invalid address %q (want host:port)", a)
	}
	return host, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

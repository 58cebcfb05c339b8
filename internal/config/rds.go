package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// RDS configures the RDS API (docs/proxy.md "Managing proxies with the aws
// CLI"): where proxies created online listen.
type RDS struct {
	// ProxyHost is the address proxies created online listen on and report
	// in their Endpoint (default 127.0.0.1). Use a name clients can reach.
	ProxyHost string `yaml:"proxy_host"`
	// ProxyPorts is the range, "FIRST-LAST", their ports are taken from
	// (default 16400-16499): each new proxy or proxy endpoint gets the
	// lowest port no other one holds.
	ProxyPorts string `yaml:"proxy_ports"`
}

// Defaults of the rds section.
const (
	DefaultProxyHost  = "127.0.0.1"
	DefaultProxyPorts = "16400-16499"
)

func (r *RDS) applyDefaults() {
	if r.ProxyHost == "" {
		r.ProxyHost = DefaultProxyHost
	}
	if r.ProxyPorts == "" {
		r.ProxyPorts = DefaultProxyPorts
	}
}

// PortRange returns the first and last port of ProxyPorts.
func (r RDS) PortRange() (first, last int, err error) {
	a, b, ok := strings.Cut(r.ProxyPorts, "-")
	if !ok {
		b = a
	}
	first, err1 := strconv.Atoi(strings.TrimSpace(a))
	last, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || first < 1 || last > 65535 || first > last {
		return 0, 0, fmt.Errorf("invalid port range %q (want FIRST-LAST, e.g. %s)", r.ProxyPorts, DefaultProxyPorts)
	}
	return first, last, nil
}

func (c *Config) validateRDS() error {
	if _, _, err := c.RDS.PortRange(); err != nil {
		return &FieldError{"rds.proxy_ports", err.Error()}
	}
	if strings.ContainsAny(c.RDS.ProxyHost, " /") || net.ParseIP(c.RDS.ProxyHost) == nil && strings.Contains(c.RDS.ProxyHost, ":") {
		return &FieldError{"rds.proxy_host", fmt.Sprintf("invalid host %q (want a name or an IP address, no port)", c.RDS.ProxyHost)}
	}
	seen := map[string]bool{}
	for i, cl := range c.Clusters {
		if cl.Proxy == nil {
			continue
		}
		name := cl.Proxy.Name
		if name == "" {
			name = cl.Name
		}
		if seen[name] {
			return &FieldError{fmt.Sprintf("clusters[%d].proxy.name", i), fmt.Sprintf("proxy name %q is used twice (a proxy is named after its cluster unless it names itself)", name)}
		}
		seen[name] = true
	}
	return nil
}

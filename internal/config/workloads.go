package config

import (
	"fmt"
	"net"
	"regexp"
	"time"
)

// Workloads configures how workloads (functions, instances, tasks, pods
// bound to an IAM role) get short-lived credentials.
type Workloads struct {
	// CredentialLifetime is the default lifetime of issued credentials
	// (0 = 1h; 15m at least; capped at the role's MaxSessionDuration).
	CredentialLifetime time.Duration `yaml:"credential_lifetime"`
	// Listen is a node-local plain-HTTP listener serving only the
	// container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI).
	// The SDKs accept plain HTTP only on loopback or the link-local
	// addresses 169.254.170.2 and 169.254.170.23, so only those are allowed.
	Listen string `yaml:"listen"`
	// IMDS are IMDSv2-compatible listeners, each serving the credentials
	// of exactly one workload (the requests carry no identity).
	IMDS []IMDS `yaml:"imds"`
	// OIDCJWKSFiles maps an OIDC issuer URL to a local JWKS file, for
	// AssumeRoleWithWebIdentity on sites that cannot reach the issuer.
	OIDCJWKSFiles map[string]string `yaml:"oidc_jwks_files"`
}

// IMDS is one IMDSv2-compatible credentials listener.
type IMDS struct {
	Listen   string `yaml:"listen"`
	Workload string `yaml:"workload"`
}

var workloadName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func (c *Config) validateWorkloads() error {
	w := c.Workloads
	if w.CredentialLifetime != 0 && (w.CredentialLifetime < 15*time.Minute || w.CredentialLifetime > 12*time.Hour) {
		return &FieldError{"workloads.credential_lifetime", "must be between 15m and 12h"}
	}
	if w.Listen != "" {
		if err := nodeLocal(w.Listen); err != nil {
			return &FieldError{"workloads.listen", err.Error()}
		}
	}
	for i, m := range w.IMDS {
		f := fmt.Sprintf("workloads.imds[%d]", i)
		if err := nodeLocal(m.Listen); err != nil {
			return &FieldError{f + ".listen", err.Error()}
		}
		if !workloadName.MatchString(m.Workload) {
			return &FieldError{f + ".workload", fmt.Sprintf("invalid workload name %q", m.Workload)}
		}
	}
	return nil
}

// nodeLocal accepts host:port on loopback or 169.254.170.2/.23 (also
// 169.254.169.254 for IMDS).
func nodeLocal(addr string) error {
	host, err := checkAddr(addr)
	if err != nil {
		return err
	}
	if isLoopback(host) {
		return nil
	}
	switch ip := net.ParseIP(host); {
	case ip == nil:
	case ip.Equal(net.IPv4(169, 254, 170, 2)), ip.Equal(net.IPv4(169, 254, 170, 23)), ip.Equal(net.IPv4(169, 254, 169, 254)):
		return nil
	}
	return fmt.Errorf("address %q is not node-local (want loopback, 169.254.170.2, 169.254.170.23 or 169.254.169.254)", addr)
}

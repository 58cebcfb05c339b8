package config

import (
	"fmt"
	"time"
)

// Readers tunes how reader endpoints of a cluster with instances choose a
// reader: proxy endpoints with target_role read_only and SQL endpoints
// with target reader (docs/proxy.md, "Reader endpoints").
type Readers struct {
	// MaxReplicaLag is the replication lag beyond which a reader gets no
	// new connections (default 30s; the health check measures it).
	MaxReplicaLag time.Duration `yaml:"max_replica_lag"`
	// WriterFallback sends reads to the writer while no reader is
	// eligible; false (default) refuses them with the protocol's error.
	WriterFallback bool `yaml:"writer_fallback"`
}

// DefaultMaxReplicaLag is readers.max_replica_lag when unset.
const DefaultMaxReplicaLag = 30 * time.Second

// ProxyEndpoint is an additional listener of a proxy declared in the file,
// like one created with CreateDBProxyEndpoint.
type ProxyEndpoint struct {
	// Name is its DBProxyEndpointName (unique across proxies).
	Name string `yaml:"name"`
	// Listen is the address clients connect to.
	Listen string `yaml:"listen"`
	// TargetRole is read_write (default: the writer, as the proxy's own
	// listener) or read_only (the cluster's readers).
	TargetRole string `yaml:"target_role"`
}

// Target roles of proxy endpoints (ProxyEndpoint.TargetRole).
const (
	TargetReadWrite = "read_write"
	TargetReadOnly  = "read_only"
)

// Targets of SQL endpoints (Endpoint.Target).
const (
	TargetWriter = "writer"
	TargetReader = "reader"
)

// ReadOnly reports whether the endpoint routes to the readers.
func (e ProxyEndpoint) ReadOnly() bool { return e.TargetRole == TargetReadOnly }

// ReaderTarget reports whether the SQL endpoint runs on a reader.
func (e Endpoint) ReaderTarget() bool { return e.Target == TargetReader }

func applyReaderDefaults(cl *Cluster) {
	if cl.Replicated() {
		setDur(&cl.Readers.MaxReplicaLag, DefaultMaxReplicaLag)
	}
	if px := cl.Proxy; px != nil {
		for i := range px.Endpoints {
			if px.Endpoints[i].TargetRole == "" {
				px.Endpoints[i].TargetRole = TargetReadWrite
			}
		}
	}
}

// validateReaders checks the readers section and the proxy's endpoints
// of cluster cl; names holds the endpoint names seen so far (across
// proxies).
func validateReaders(f string, cl Cluster, names map[string]bool) error {
	if cl.Readers != (Readers{}) && !cl.Replicated() {
		return &FieldError{f + ".readers", "only used with instances"}
	}
	if cl.Readers.MaxReplicaLag < 0 {
		return &FieldError{f + ".readers.max_replica_lag", "must not be negative"}
	}
	if cl.Proxy == nil {
		return nil
	}
	for i, e := range cl.Proxy.Endpoints {
		fe := fmt.Sprintf("%s.proxy.endpoints[%d]", f, i)
		if !proxyName.MatchString(e.Name) || e.Name == "default" {
			return &FieldError{fe + ".name", fmt.Sprintf("invalid endpoint name %q (a letter, then letters, digits and single hyphens; not \"default\")", e.Name)}
		}
		if names[e.Name] {
			return &FieldError{fe + ".name", fmt.Sprintf("proxy endpoint name %q is used twice", e.Name)}
		}
		names[e.Name] = true
		if _, err := checkAddr(e.Listen); err != nil {
			return &FieldError{fe + ".listen", err.Error()}
		}
		switch e.TargetRole {
		case TargetReadWrite:
		case TargetReadOnly:
			if !cl.Replicated() {
				return &FieldError{fe + ".target_role", "read_only needs a cluster with instances (a writer and readers)"}
			}
		default:
			return &FieldError{fe + ".target_role", fmt.Sprintf("unknown role %q (want read_write or read_only)", e.TargetRole)}
		}
	}
	return nil
}

// validateEndpointTarget checks an SQL endpoint's target against its
// cluster.
func validateEndpointTarget(f string, ep Endpoint, replicated bool) error {
	switch ep.Target {
	case "", TargetWriter:
	case TargetReader:
		if !replicated {
			return &FieldError{f + ".target", fmt.Sprintf("reader needs a cluster with instances; %q has none", ep.Cluster)}
		}
	default:
		return &FieldError{f + ".target", fmt.Sprintf("unknown target %q (want writer or reader)", ep.Target)}
	}
	return nil
}

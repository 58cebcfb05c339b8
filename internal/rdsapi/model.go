package rdsapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
)

// Sources of a proxy: declared in the configuration file, or created with
// CreateDBProxy.
const (
	SourceFile = "file"
	SourceAPI  = "api"
)

// Record is what the state store holds for one proxy. For a proxy created
// online it is the whole proxy; for one declared in the file it holds only
// the runtime settings changed online (the overrides) and its endpoints.
type Record struct {
	Name   string `json:"name"`
	ID     string `json:"id"` // prx-…
	Source string `json:"source"`
	// Engine is "postgres" or "mysql" (EngineFamily POSTGRESQL / MYSQL).
	Engine string `json:"engine,omitempty"`
	// Cluster is the registered target ("" = none yet).
	Cluster string `json:"cluster,omitempty"`
	// Port is the proxy's port from rds.proxy_ports: every node listens on
	// its own rds.proxy_host and this port. Listen, when set (the tag
	// sqlgate:listen at creation), is an explicit host:port instead.
	Port   int    `json:"port,omitempty"`
	Listen string `json:"listen,omitempty"`

	Settings Settings `json:"settings"`

	RoleARN        string     `json:"role_arn,omitempty"`
	Subnets        []string   `json:"subnets,omitempty"`
	SecurityGroups []string   `json:"security_groups,omitempty"`
	Endpoints      []Endpoint `json:"endpoints,omitempty"`
	Created        time.Time  `json:"created"`
	Updated        time.Time  `json:"updated"`
}

// Settings are a proxy's runtime settings. A nil field is unset: for a
// file proxy the file's value applies, for an online proxy the default.
type Settings struct {
	Auth              []Auth `json:"auth,omitempty"`
	RequireTLS        *bool  `json:"require_tls,omitempty"`
	IdleClientTimeout *int   `json:"idle_client_timeout,omitempty"` // seconds
	DebugLogging      *bool  `json:"debug_logging,omitempty"`
	// Pool is the default target group's ConnectionPoolConfig.
	MaxConnectionsPercent     *int     `json:"max_connections_percent,omitempty"`
	MaxIdleConnectionsPercent *int     `json:"max_idle_connections_percent,omitempty"`
	BorrowTimeout             *int     `json:"borrow_timeout,omitempty"` // seconds
	InitQuery                 *string  `json:"init_query,omitempty"`
	SessionPinningFilters     []string `json:"session_pinning_filters,omitempty"`
}

// Empty reports whether no setting is set.
func (s Settings) Empty() bool {
	return s.Auth == nil && s.RequireTLS == nil && s.IdleClientTimeout == nil && s.DebugLogging == nil &&
		s.MaxConnectionsPercent == nil && s.MaxIdleConnectionsPercent == nil && s.BorrowTimeout == nil &&
		s.InitQuery == nil && s.SessionPinningFilters == nil
}

// Auth is one UserAuthConfig entry.
type Auth struct {
	Description            string `json:"description,omitempty"`
	UserName               string `json:"user_name,omitempty"`
	SecretARN              string `json:"secret_arn"`
	IAMAuth                string `json:"iam_auth"` // DISABLED | REQUIRED | ENABLED
	ClientPasswordAuthType string `json:"client_password_auth_type,omitempty"`
}

// Endpoint is an additional listener of a proxy (CreateDBProxyEndpoint).
type Endpoint struct {
	Name           string    `json:"name"`
	ID             string    `json:"id"`
	Port           int       `json:"port,omitempty"`
	Listen         string    `json:"listen,omitempty"`
	TargetRole     string    `json:"target_role"`
	Subnets        []string  `json:"subnets,omitempty"`
	SecurityGroups []string  `json:"security_groups,omitempty"`
	Created        time.Time `json:"created"`
	// Source is SourceFile for an endpoint declared in the file (not
	// stored; it cannot be deleted online).
	Source string `json:"-"`
}

// FileProxy is a proxy declared in the configuration file.
type FileProxy struct {
	Name    string
	Cluster config.Cluster // its cluster; Cluster.Proxy is the proxy section
}

// Proxy is a proxy as it runs and as the describe calls show it: the file
// declaration (if any) with the stored record merged in.
type Proxy struct {
	Record
	// Config is the effective proxy configuration (settings merged, listen
	// address set).
	Config config.Proxy
}

// newID returns prefix plus 17 random lower-case hex digits (RDS's form).
func newID(prefix string) string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])[:17]
}

// fileID is the stable id of a file proxy: the same on every node.
func fileID(name string) string {
	h := sha256.Sum256([]byte("sqlgate-proxy\x00" + name))
	return "prx-" + hex.EncodeToString(h[:])[:17]
}

// Merge returns the proxies that exist: every file proxy with its stored
// overrides and endpoints, then every proxy created online. Stored
// records of file proxies no longer in the file are ignored.
// host is this node's rds.proxy_host, where proxies with a port listen.
func Merge(files []FileProxy, recs map[string]Record, host string) []Proxy {
	var out []Proxy
	seen := map[string]bool{}
	for _, f := range files {
		rec := recs[f.Name]
		if rec.Source != SourceFile {
			rec = Record{}
		}
		px := *f.Cluster.Proxy
		px.Name = f.Name
		p := Proxy{Record: Record{Name: f.Name, ID: fileID(f.Name), Source: SourceFile, Engine: f.Cluster.Engine,
			Cluster: f.Cluster.Name, Listen: px.Listen, Settings: rec.Settings, RoleARN: rec.RoleARN,
			Subnets: rec.Subnets, SecurityGroups: rec.SecurityGroups, Endpoints: append(fileEndpoints(f.Name, px), listenAt(rec.Endpoints, host)...),
			Created: rec.Created, Updated: rec.Updated}}
		p.Config = apply(px, rec.Settings)
		out = append(out, p)
		seen[f.Name] = true
	}
	names := make([]string, 0, len(recs))
	for n := range recs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		rec := recs[n]
		if seen[n] || rec.Source != SourceAPI {
			continue
		}
		rec.Listen = ListenAddr(rec.Listen, host, rec.Port)
		rec.Endpoints = listenAt(rec.Endpoints, host)
		base := config.Proxy{Name: rec.Name, Listen: rec.Listen, IAMAuth: "optional", MaxClientConnections: 10000,
			BorrowTimeout: 120 * time.Second, IdleClientTimeout: 30 * time.Minute}
		out = append(out, Proxy{Record: rec, Config: apply(base, rec.Settings)})
	}
	return out
}

// ListenAddr is an explicit listen address, else host:port.
func ListenAddr(explicit, host string, port int) string {
	if explicit != "" {
		return explicit
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// listenAt returns eps with their listen addresses on host.
func listenAt(eps []Endpoint, host string) []Endpoint {
	out := slices.Clone(eps)
	for i := range out {
		out[i].Listen = ListenAddr(out[i].Listen, host, out[i].Port)
	}
	return out
}

// apply overlays the set settings on px.
func apply(px config.Proxy, s Settings) config.Proxy {
	if s.Auth != nil {
		px.AuthSecrets = nil
		for _, a := range s.Auth {
			px.AuthSecrets = append(px.AuthSecrets, a.SecretARN)
		}
		px.IAMAuth = iamMode(s.Auth)
	}
	if s.RequireTLS != nil {
		px.RequireTLS = *s.RequireTLS
	}
	if s.IdleClientTimeout != nil {
		px.IdleClientTimeout = time.Duration(*s.IdleClientTimeout) * time.Second
	}
	if s.DebugLogging != nil {
		px.DebugLogging = *s.DebugLogging
	}
	if s.MaxConnectionsPercent != nil {
		px.MaxConnectionsPercent = *s.MaxConnectionsPercent
	}
	if s.MaxIdleConnectionsPercent != nil {
		v := *s.MaxIdleConnectionsPercent
		px.MaxIdleConnectionsPercent = &v
	}
	if s.BorrowTimeout != nil {
		px.BorrowTimeout = time.Duration(*s.BorrowTimeout) * time.Second
	}
	if s.InitQuery != nil {
		px.InitQuery = *s.InitQuery
	}
	return px
}

// iamMode maps the Auth entries' IAMAuth (one value for all, checked on
// input) to sqlgate's iam_auth.
func iamMode(auth []Auth) string {
	if len(auth) == 0 {
		return "optional"
	}
	switch auth[0].IAMAuth {
	case "REQUIRED":
		return "required"
	case "ENABLED":
		return "optional"
	}
	return "disabled"
}

// rdsIAMAuth is the IAMAuth value of sqlgate's iam_auth.
func rdsIAMAuth(mode string) string {
	switch mode {
	case "required":
		return "REQUIRED"
	case "disabled":
		return "DISABLED"
	}
	return "ENABLED"
}

// dropSame clears the overrides equal to the file's value, so that an
// override set back to the file's value is no override.
func dropSame(s *Settings, file config.Proxy) {
	if s.RequireTLS != nil && *s.RequireTLS == file.RequireTLS {
		s.RequireTLS = nil
	}
	if s.IdleClientTimeout != nil && time.Duration(*s.IdleClientTimeout)*time.Second == file.IdleClientTimeout {
		s.IdleClientTimeout = nil
	}
	if s.DebugLogging != nil && *s.DebugLogging == file.DebugLogging {
		s.DebugLogging = nil
	}
	if s.MaxConnectionsPercent != nil && *s.MaxConnectionsPercent == pctOrAll(file.MaxConnectionsPercent) {
		s.MaxConnectionsPercent = nil
	}
	if s.BorrowTimeout != nil && time.Duration(*s.BorrowTimeout)*time.Second == file.BorrowTimeout {
		s.BorrowTimeout = nil
	}
	if s.InitQuery != nil && *s.InitQuery == file.InitQuery {
		s.InitQuery = nil
	}
}

// pctOrAll is a percentage setting where 0 means 100.
func pctOrAll(p int) int {
	if p <= 0 {
		return 100
	}
	return p
}

package rdsapi

import (
	"context"
	"net"
	"slices"
	"strconv"
	"time"
)

// Engine families and their sqlgate engines.
var families = map[string]string{"POSTGRESQL": "postgres", "MYSQL": "mysql"}

func family(engine string) string {
	for f, e := range families {
		if e == engine {
			return f
		}
	}
	return ""
}

// listenTag is the tag that gives a new proxy or endpoint an explicit
// listen address instead of a port from rds.proxy_ports.
const listenTag = "sqlgate:listen"

// proxies returns every proxy (file and online) and the stored records.
func (a *API) proxies(ctx context.Context) ([]Proxy, error) {
	recs, err := a.store.Proxies(ctx)
	if err != nil {
		return nil, err
	}
	return Merge(a.cat.FileProxies(), recs, a.cfg.ProxyHost), nil
}

func (a *API) proxyByName(ctx context.Context, name string) (Proxy, error) {
	ps, err := a.proxies(ctx)
	if err != nil {
		return Proxy{}, err
	}
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
	}
	return Proxy{}, errProxyNotFound(name)
}

func (a *API) proxyByID(ctx context.Context, id string) (Proxy, error) {
	ps, err := a.proxies(ctx)
	if err != nil {
		return Proxy{}, err
	}
	for _, p := range ps {
		if p.ID == id {
			return p, nil
		}
	}
	return Proxy{}, errProxyNotFound(id)
}

func (a *API) proxyARN(p Proxy) string { return a.arn("db-proxy:" + p.ID) }

// advertised returns the host:port clients connect to for a listen
// address: an unspecified host (0.0.0.0, ::) becomes rds.proxy_host.
func (a *API) advertised(listen string, hosts []string) string {
	if len(hosts) > 0 {
		return hosts[0]
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = a.cfg.ProxyHost
	}
	return net.JoinHostPort(host, port)
}

func (a *API) toProxy(p Proxy, status string) proxyXML {
	c := p.Config
	x := proxyXML{DBProxyName: p.Name, DBProxyArn: a.proxyARN(p), Status: status, EngineFamily: family(p.Engine),
		VpcSecurityGroupIDs: list(p.SecurityGroups), VpcSubnetIDs: list(p.Subnets), DefaultAuthScheme: "NONE",
		RoleArn: p.RoleARN, Endpoint: a.advertised(c.Listen, c.AdvertisedHosts), RequireTLS: c.RequireTLS,
		IdleClientTimeout: int(c.IdleClientTimeout / time.Second), DebugLogging: c.DebugLogging,
		CreatedDate: optTime(p.Created), UpdatedDate: optTime(p.Updated), EndpointNetworkType: "IPV4", TargetNetworkType: "IPV4"}
	var auth []authXML
	if p.Settings.Auth != nil {
		for _, e := range p.Settings.Auth {
			auth = append(auth, authXML{Description: e.Description, UserName: e.UserName, AuthScheme: "SECRETS",
				SecretArn: e.SecretARN, IAMAuth: e.IAMAuth, ClientPasswordAuthType: e.ClientPasswordAuthType})
		}
	} else {
		for _, s := range c.AuthSecrets {
			auth = append(auth, authXML{AuthScheme: "SECRETS", SecretArn: s, IAMAuth: rdsIAMAuth(c.IAMAuth)})
		}
	}
	x.Auth = list(auth)
	return x
}

type proxyResult struct {
	DBProxy proxyXML `xml:"DBProxy"`
}

type describeProxiesResult struct {
	DBProxies *members[proxyXML] `xml:"DBProxies"`
	Marker    string             `xml:"Marker,omitempty"`
}

func (a *API) describeDBProxies(ctx context.Context, f *form) (any, error) {
	name := f.str("DBProxyName")
	pg := readPage(f)
	readFilters(f)
	if f.err != nil {
		return nil, f.err
	}
	ps, err := a.proxies(ctx)
	if err != nil {
		return nil, err
	}
	var match []Proxy
	for _, p := range ps {
		if name == "" || p.Name == name {
			match = append(match, p)
		}
	}
	if name != "" && len(match) == 0 {
		return nil, errProxyNotFound(name)
	}
	res := a.arn("db-proxy:*")
	if name != "" {
		res = a.proxyARN(match[0])
	}
	if err := a.authorize(ctx, "DescribeDBProxies", res, nil); err != nil {
		return nil, err
	}
	page, marker := pageOf(pg, match, func(p Proxy) string { return p.ID })
	out := []proxyXML{}
	for _, p := range page {
		out = append(out, a.toProxy(p, a.cat.ListenerStatus(p, "")))
	}
	return &describeProxiesResult{DBProxies: list(out), Marker: marker}, nil
}

// readAuth decodes Auth.member.N into entries; every entry needs a
// SecretArn (sqlgate logs into the database with the secret) and all must
// name the same IAMAuth (sqlgate applies one mode per proxy).
func readAuth(f *form) []Auth {
	var out []Auth
	for _, s := range f.structs("Auth.member") {
		e := Auth{Description: s.str("Description"), UserName: s.str("UserName"), SecretARN: s.str("SecretArn"),
			IAMAuth: s.enum("IAMAuth", "DISABLED", "REQUIRED", "ENABLED"),
			ClientPasswordAuthType: s.enum("ClientPasswordAuthType", "MYSQL_NATIVE_PASSWORD", "MYSQL_CACHING_SHA2_PASSWORD",
				"POSTGRES_SCRAM_SHA_256", "POSTGRES_MD5", "SQL_SERVER_AUTHENTICATION")}
		s.enum("AuthScheme", "SECRETS")
		f.sub(s)
		if e.IAMAuth == "" {
			e.IAMAuth = "DISABLED"
		}
		if e.SecretARN == "" {
			f.fail(errInvalid("Each Auth entry needs a SecretArn: the proxy logs into the database with the secret's username and password."))
		}
		if len(out) > 0 && out[0].IAMAuth != e.IAMAuth {
			f.fail(errCombination("All Auth entries of a proxy must have the same IAMAuth: sqlgate applies one IAM authentication mode per proxy."))
		}
		out = append(out, e)
	}
	return out
}

// usedPorts returns the ports held by file proxies and stored records.
func (a *API) usedPorts(recs map[string]Record) map[int]bool {
	used := map[int]bool{}
	add := func(listen string, port int) {
		if port > 0 {
			used[port] = true
		}
		if _, p, err := net.SplitHostPort(listen); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				used[n] = true
			}
		}
	}
	for _, fp := range a.cat.FileProxies() {
		add(fp.Cluster.Proxy.Listen, 0)
		for _, e := range fp.Cluster.Proxy.Endpoints {
			add(e.Listen, 0)
		}
	}
	for _, r := range recs {
		add(r.Listen, r.Port)
		for _, e := range r.Endpoints {
			add(e.Listen, e.Port)
		}
	}
	return used
}

// freePort returns the lowest port of rds.proxy_ports nothing holds.
func (a *API) freePort(recs map[string]Record, quota string) (int, error) {
	used := a.usedPorts(recs)
	for p := a.cfg.PortFirst; p <= a.cfg.PortLast; p++ {
		if !used[p] {
			return p, nil
		}
	}
	return 0, errQuota(quota, "No free port is left in rds.proxy_ports ("+strconv.Itoa(a.cfg.PortFirst)+"-"+strconv.Itoa(a.cfg.PortLast)+").")
}

// explicitListen returns the sqlgate:listen tag's value, checked.
func explicitListen(f *form, tags []Tag) string {
	for _, t := range tags {
		if t.Key == listenTag {
			if _, _, err := net.SplitHostPort(t.Value); err != nil {
				f.fail(errInvalid("The tag " + listenTag + " must be a host:port address: " + short(t.Value)))
			}
			return t.Value
		}
	}
	return ""
}

func (a *API) createDBProxy(ctx context.Context, f *form) (any, error) {
	name := f.required("DBProxyName")
	f.match("DBProxyName", reProxyName, "proxy name")
	fam := f.required("EngineFamily")
	f.enum("EngineFamily", "MYSQL", "POSTGRESQL", "SQLSERVER")
	role := f.required("RoleArn")
	subnets := f.list("VpcSubnetIds.member")
	if len(subnets) == 0 {
		f.fail(errMissing("VpcSubnetIds"))
	}
	if f.enum("DefaultAuthScheme", "IAM_AUTH", "NONE") == "IAM_AUTH" {
		f.fail(errInvalid("DefaultAuthScheme IAM_AUTH is not supported: give Auth entries with a SecretArn."))
	}
	set := Settings{Auth: readAuth(f), RequireTLS: f.optBool("RequireTLS"),
		IdleClientTimeout: f.optInt("IdleClientTimeout", 1, 28800), DebugLogging: f.optBool("DebugLogging")}
	if len(set.Auth) == 0 {
		f.fail(errInvalid("Give at least one Auth entry with a SecretArn."))
	}
	tags := f.tags()
	listen := explicitListen(f, tags)
	if f.err != nil {
		return nil, f.err
	}
	engine, ok := families[fam]
	if !ok {
		return nil, errInvalid("EngineFamily " + fam + " is not supported: sqlgate proxies MYSQL and POSTGRESQL.")
	}
	now := a.now()
	rec := Record{Name: name, ID: newID("prx-"), Source: SourceAPI, Engine: engine, Listen: listen, Settings: set,
		RoleARN: role, Subnets: subnets, SecurityGroups: f.list("VpcSecurityGroupIds.member"), Created: now, Updated: now}
	res := a.arn("db-proxy:" + rec.ID)
	if err := a.authorize(ctx, "CreateDBProxy", res, requestTagKeys(nil, tags)); err != nil {
		return nil, err
	}
	err := a.store.UpdateProxies(ctx, func(m map[string]Record) error {
		if _, ok := m[name]; ok || a.isFileProxy(name) {
			return errProxyExists(name)
		}
		if len(m) >= 100 {
			return errQuota("DBProxyQuotaExceededFault", "At most 100 proxies can be created online.")
		}
		if listen == "" {
			port, err := a.freePort(m, "DBProxyQuotaExceededFault")
			if err != nil {
				return err
			}
			rec.Port = port
		}
		m[name] = rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := a.setTags(ctx, res, tags); err != nil {
		_ = a.store.UpdateProxies(context.WithoutCancel(ctx), func(m map[string]Record) error {
			delete(m, name)
			return nil
		})
		return nil, err
	}
	p := Merge(nil, map[string]Record{name: rec}, a.cfg.ProxyHost)[0]
	return &proxyResult{DBProxy: a.toProxy(p, "creating")}, nil
}

func (a *API) isFileProxy(name string) bool {
	return slices.ContainsFunc(a.cat.FileProxies(), func(fp FileProxy) bool { return fp.Name == name })
}

// setTags adds tags to res (none: nothing to do).
func (a *API) setTags(ctx context.Context, res string, tags []Tag) error {
	if len(tags) == 0 {
		return nil
	}
	return a.store.UpdateTags(ctx, func(m map[string][]Tag) error {
		m[res] = mergeTags(m[res], tags)
		return nil
	})
}

// editProxy changes the stored record of proxy p in one atomic update
// (editRecord).
func (a *API) editProxy(ctx context.Context, p Proxy, fn func(*Record) error) error {
	return a.store.UpdateProxies(ctx, func(m map[string]Record) error { return a.editRecord(m, p, fn) })
}

// editRecord changes the record of proxy p in m: for a file proxy the
// record of its overrides (created on first use, dropped when nothing is
// left in it), for an online proxy the proxy itself (fn may rename it).
func (a *API) editRecord(m map[string]Record, p Proxy, fn func(*Record) error) error {
	rec, ok := m[p.Name]
	switch {
	case p.Source == SourceFile && (!ok || rec.Source != SourceFile):
		rec = Record{Name: p.Name, ID: p.ID, Source: SourceFile, Created: a.now()}
	case p.Source == SourceAPI && (!ok || rec.ID != p.ID):
		return errProxyNotFound(p.Name)
	}
	if err := fn(&rec); err != nil {
		return err
	}
	rec.Updated = a.now()
	delete(m, p.Name)
	if rec.Source == SourceFile && rec.Settings.Empty() && len(rec.Endpoints) == 0 && rec.RoleARN == "" &&
		rec.Subnets == nil && rec.SecurityGroups == nil {
		return nil
	}
	if _, clash := m[rec.Name]; clash || (rec.Name != p.Name && a.isFileProxy(rec.Name)) {
		return errProxyExists(rec.Name)
	}
	m[rec.Name] = rec
	return nil
}

func (a *API) modifyDBProxy(ctx context.Context, f *form) (any, error) {
	name := f.required("DBProxyName")
	newName := f.match("NewDBProxyName", reProxyName, "proxy name")
	auth := readAuth(f)
	if f.has("Auth") || len(auth) > 0 {
		if len(auth) == 0 {
			f.fail(errInvalid("Give at least one Auth entry with a SecretArn."))
		}
	}
	f.enum("DefaultAuthScheme", "IAM_AUTH", "NONE")
	if f.str("DefaultAuthScheme") == "IAM_AUTH" {
		f.fail(errInvalid("DefaultAuthScheme IAM_AUTH is not supported: give Auth entries with a SecretArn."))
	}
	tls, idle, debug := f.optBool("RequireTLS"), f.optInt("IdleClientTimeout", 1, 28800), f.optBool("DebugLogging")
	sgs := f.list("SecurityGroups.member")
	if f.err != nil {
		return nil, f.err
	}
	p, err := a.proxyByName(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := a.authorize(ctx, "ModifyDBProxy", a.proxyARN(p), a.tagKeys(ctx, a.proxyARN(p))); err != nil {
		return nil, err
	}
	if newName != "" && newName != name && p.Source == SourceFile {
		return nil, errProxyState("DBProxy " + name + " is declared in the configuration file; rename it there.")
	}
	err = a.editProxy(ctx, p, func(r *Record) error {
		if newName != "" {
			r.Name = newName
		}
		if len(auth) > 0 {
			r.Settings.Auth = auth
		}
		setOpt(&r.Settings.RequireTLS, tls)
		setOpt(&r.Settings.IdleClientTimeout, idle)
		setOpt(&r.Settings.DebugLogging, debug)
		if f.has("RoleArn") {
			r.RoleARN = f.str("RoleArn")
		}
		if sgs != nil {
			r.SecurityGroups = sgs
		}
		if p.Source == SourceFile {
			dropSame(&r.Settings, a.fileConfig(p.Name))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if newName == "" {
		newName = name
	}
	p, err = a.proxyByName(ctx, newName)
	if err != nil {
		return nil, err
	}
	return &proxyResult{DBProxy: a.toProxy(p, "modifying")}, nil
}

func setOpt[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

// tagKeys returns the aws:ResourceTag/* keys of res (none on failure:
// conditions on them then fail closed).
func (a *API) tagKeys(ctx context.Context, res string) map[string][]string {
	tags, err := a.store.Tags(ctx)
	if err != nil {
		return nil
	}
	return resourceTagKeys(tags[res])
}

func (a *API) deleteDBProxy(ctx context.Context, f *form) (any, error) {
	name := f.required("DBProxyName")
	if f.err != nil {
		return nil, f.err
	}
	p, err := a.proxyByName(ctx, name)
	if err != nil {
		return nil, err
	}
	res := a.proxyARN(p)
	if err := a.authorize(ctx, "DeleteDBProxy", res, a.tagKeys(ctx, res)); err != nil {
		return nil, err
	}
	// A file proxy stays (the file owns it): deleting clears what was
	// stored online for it, its overrides and endpoints.
	err = a.store.UpdateProxies(ctx, func(m map[string]Record) error {
		if r, ok := m[name]; ok && r.ID == p.ID {
			delete(m, name)
			return nil
		}
		if p.Source == SourceAPI {
			return errProxyNotFound(name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	gone := []string{res}
	for _, e := range p.Endpoints {
		gone = append(gone, a.arn("db-proxy-endpoint:"+e.ID))
	}
	if err := a.store.UpdateTags(ctx, func(m map[string][]Tag) error {
		for _, g := range gone {
			if p.Source == SourceAPI || g != res {
				delete(m, g)
			}
		}
		return nil
	}); err != nil {
		a.log.Warn("delete proxy tags", "proxy", name, "err", err)
	}
	status := "deleting"
	if p.Source == SourceFile {
		status = "modifying"
		p.Settings, p.Endpoints = Settings{}, nil
		p.Config = a.fileConfig(name)
	}
	return &proxyResult{DBProxy: a.toProxy(p, status)}, nil
}

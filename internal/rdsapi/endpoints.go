package rdsapi

import (
	"context"
	"slices"
)

// maxEndpoints bounds the additional endpoints of one proxy (RDS: 20).
const maxEndpoints = 20

func (a *API) endpointARN(id string) string { return a.arn("db-proxy-endpoint:" + id) }

// endpointByID finds an additional endpoint by id.
func (a *API) endpointByID(ctx context.Context, id string) (Proxy, Endpoint, error) {
	ps, err := a.proxies(ctx)
	if err != nil {
		return Proxy{}, Endpoint{}, err
	}
	for _, p := range ps {
		for _, e := range p.Endpoints {
			if e.ID == id {
				return p, e, nil
			}
		}
	}
	return Proxy{}, Endpoint{}, errEndpointNotFound(id)
}

// endpointByName finds an additional endpoint by name (names are unique
// across proxies, as on RDS).
func endpointByName(ps []Proxy, name string) (Proxy, Endpoint, bool) {
	for _, p := range ps {
		for _, e := range p.Endpoints {
			if e.Name == name {
				return p, e, true
			}
		}
	}
	return Proxy{}, Endpoint{}, false
}

func (a *API) toEndpoint(p Proxy, e Endpoint, status string) endpointXML {
	return endpointXML{DBProxyEndpointName: e.Name, DBProxyEndpointArn: a.endpointARN(e.ID), DBProxyName: p.Name,
		Status: status, VpcSecurityGroupIDs: list(e.SecurityGroups), VpcSubnetIDs: list(e.Subnets),
		Endpoint: a.advertised(e.Listen, nil), CreatedDate: optTime(e.Created), TargetRole: e.TargetRole,
		EndpointNetworkType: "IPV4"}
}

// defaultEndpoint is the proxy's own listener as an endpoint.
func (a *API) defaultEndpoint(p Proxy) endpointXML {
	return endpointXML{DBProxyEndpointName: "default", DBProxyEndpointArn: a.proxyARN(p), DBProxyName: p.Name,
		Status: a.cat.ListenerStatus(p, ""), VpcSecurityGroupIDs: list(p.SecurityGroups), VpcSubnetIDs: list(p.Subnets),
		Endpoint: a.advertised(p.Config.Listen, p.Config.AdvertisedHosts), CreatedDate: optTime(p.Created),
		TargetRole: "READ_WRITE", IsDefault: true, EndpointNetworkType: "IPV4"}
}

type endpointResult struct {
	DBProxyEndpoint endpointXML `xml:"DBProxyEndpoint"`
}

type describeEndpointsResult struct {
	DBProxyEndpoints *members[endpointXML] `xml:"DBProxyEndpoints"`
	Marker           string                `xml:"Marker,omitempty"`
}

func (a *API) createEndpoint(ctx context.Context, f *form) (any, error) {
	name := f.required("DBProxyName")
	epName := f.required("DBProxyEndpointName")
	f.match("DBProxyEndpointName", reProxyName, "endpoint name")
	subnets := f.list("VpcSubnetIds.member")
	if f.err == nil && len(subnets) == 0 {
		f.fail(errMissing("VpcSubnetIds"))
	}
	role := f.enum("TargetRole", "READ_WRITE", "READ_ONLY")
	if role == "" {
		role = "READ_WRITE"
	}
	tags := f.tags()
	listen := explicitListen(f, tags)
	if f.err != nil {
		return nil, f.err
	}
	if epName == "default" {
		return nil, errEndpointExists(epName)
	}
	p, err := a.proxyByName(ctx, name)
	if err != nil {
		return nil, err
	}
	if ps, err := a.proxies(ctx); err != nil {
		return nil, err
	} else if _, _, taken := endpointByName(ps, epName); taken {
		return nil, errEndpointExists(epName) // a file endpoint has it
	}
	e := Endpoint{Name: epName, ID: newID("prx-endpoint-"), Listen: listen, TargetRole: role, Subnets: subnets,
		SecurityGroups: f.list("VpcSecurityGroupIds.member"), Created: a.now()}
	res := a.endpointARN(e.ID)
	if err := a.authorize(ctx, "CreateDBProxyEndpoint", a.proxyARN(p), requestTagKeys(a.tagKeys(ctx, a.proxyARN(p)), tags)); err != nil {
		return nil, err
	}
	err = a.store.UpdateProxies(ctx, func(m map[string]Record) error {
		for _, r := range m {
			if slices.ContainsFunc(r.Endpoints, func(x Endpoint) bool { return x.Name == epName }) {
				return errEndpointExists(epName)
			}
		}
		if listen == "" {
			port, err := a.freePort(m, "DBProxyEndpointQuotaExceededFault")
			if err != nil {
				return err
			}
			e.Port = port
		}
		return a.editRecord(m, p, func(r *Record) error {
			if len(r.Endpoints) >= maxEndpoints {
				return errQuota("DBProxyEndpointQuotaExceededFault", "A proxy can have at most 20 additional endpoints.")
			}
			r.Endpoints = append(r.Endpoints, e)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if err := a.setTags(ctx, res, tags); err != nil {
		a.log.Warn("tag proxy endpoint", "endpoint", epName, "err", err)
	}
	e.Listen = ListenAddr(e.Listen, a.cfg.ProxyHost, e.Port)
	return &endpointResult{DBProxyEndpoint: a.toEndpoint(p, e, "creating")}, nil
}

func (a *API) describeEndpoints(ctx context.Context, f *form) (any, error) {
	name, epName := f.str("DBProxyName"), f.str("DBProxyEndpointName")
	pg := readPage(f)
	readFilters(f)
	if f.err != nil {
		return nil, f.err
	}
	ps, err := a.proxies(ctx)
	if err != nil {
		return nil, err
	}
	if name != "" && !slices.ContainsFunc(ps, func(p Proxy) bool { return p.Name == name }) {
		return nil, errProxyNotFound(name)
	}
	out := []endpointXML{}
	for _, p := range ps {
		if name != "" && p.Name != name {
			continue
		}
		if epName == "" || epName == "default" {
			out = append(out, a.defaultEndpoint(p))
		}
		for _, e := range p.Endpoints {
			if epName == "" || e.Name == epName {
				out = append(out, a.toEndpoint(p, e, a.cat.ListenerStatus(p, e.Name)))
			}
		}
	}
	if epName != "" && len(out) == 0 {
		return nil, errEndpointNotFound(epName)
	}
	if err := a.authorize(ctx, "DescribeDBProxyEndpoints", a.arn("db-proxy-endpoint:*"), nil); err != nil {
		return nil, err
	}
	page, marker := pageOf(pg, out, func(e endpointXML) string { return e.DBProxyEndpointArn })
	return &describeEndpointsResult{DBProxyEndpoints: list(page), Marker: marker}, nil
}

func (a *API) deleteEndpoint(ctx context.Context, f *form) (any, error) {
	epName := f.required("DBProxyEndpointName")
	if f.err != nil {
		return nil, f.err
	}
	if epName == "default" {
		return nil, newErr("InvalidDBProxyEndpointStateFault", 400, "The default endpoint of a proxy cannot be deleted; delete the proxy.")
	}
	ps, err := a.proxies(ctx)
	if err != nil {
		return nil, err
	}
	p, e, ok := endpointByName(ps, epName)
	if !ok {
		return nil, errEndpointNotFound(epName)
	}
	if e.Source == SourceFile {
		return nil, newErr("InvalidDBProxyEndpointStateFault", 400, "The endpoint is declared in the configuration file; remove it there.")
	}
	res := a.endpointARN(e.ID)
	if err := a.authorize(ctx, "DeleteDBProxyEndpoint", res, a.tagKeys(ctx, res)); err != nil {
		return nil, err
	}
	err = a.editProxy(ctx, p, func(r *Record) error {
		i := slices.IndexFunc(r.Endpoints, func(x Endpoint) bool { return x.ID == e.ID })
		if i < 0 {
			return errEndpointNotFound(epName)
		}
		r.Endpoints = slices.Delete(r.Endpoints, i, i+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	_ = a.store.UpdateTags(ctx, func(m map[string][]Tag) error {
		delete(m, res)
		return nil
	})
	return &endpointResult{DBProxyEndpoint: a.toEndpoint(p, e, "deleting")}, nil
}

package rdsapi

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
)

// defaultGroup is the one target group of every proxy.
const defaultGroup = "default"

// fileConfig returns the file's section of file proxy name (defaults
// applied).
func (a *API) fileConfig(name string) config.Proxy {
	for _, fp := range a.cat.FileProxies() {
		if fp.Name == name {
			px := *fp.Cluster.Proxy
			px.Name = name
			return px
		}
	}
	return config.Proxy{}
}

// proxyForTargets resolves DBProxyName and TargetGroupName (default only)
// and authorizes action on the proxy.
func (a *API) proxyForTargets(ctx context.Context, f *form, action string) (Proxy, error) {
	name := f.required("DBProxyName")
	group := f.str("TargetGroupName")
	if f.err != nil {
		return Proxy{}, f.err
	}
	p, err := a.proxyByName(ctx, name)
	if err != nil {
		return Proxy{}, err
	}
	if group != "" && group != defaultGroup {
		return Proxy{}, errTargetGroupNotFound(group)
	}
	res := a.proxyARN(p)
	return p, a.authorize(ctx, action, res, a.tagKeys(ctx, res))
}

func (a *API) groupARN(p Proxy) string { return a.arn("target-group:prx-tg-" + p.ID[len("prx-"):]) }

type targetsResult struct {
	Targets *members[targetXML] `xml:"Targets"`
	Marker  string              `xml:"Marker,omitempty"`
}

type registerResult struct {
	DBProxyTargets *members[targetXML] `xml:"DBProxyTargets"`
}

// targets returns the proxy's targets: its cluster (TRACKED_CLUSTER) and
// the cluster's database server (RDS_INSTANCE) with its health.
func (a *API) targets(p Proxy, h *Health) []targetXML {
	if p.Cluster == "" {
		return []targetXML{}
	}
	c, _ := a.findCluster(p.Cluster)
	host, port := c.Address, 0
	if hh, pp, err := net.SplitHostPort(c.Address); err == nil {
		host = hh
		port, _ = strconv.Atoi(pp)
	}
	inst := targetXML{Endpoint: host, TrackedClusterID: p.Cluster, RdsResourceID: p.Cluster, Port: port,
		Type: "RDS_INSTANCE", Role: "READ_WRITE", TargetArn: a.clusterARN(p.Cluster)}
	if h != nil {
		inst.TargetHealth = &healthXML{State: h.State, Reason: h.Reason, Description: h.Description}
	}
	return []targetXML{
		{TargetArn: a.clusterARN(p.Cluster), TrackedClusterID: p.Cluster, RdsResourceID: p.Cluster, Port: port, Type: "TRACKED_CLUSTER"},
		inst,
	}
}

func (a *API) describeTargets(ctx context.Context, f *form) (any, error) {
	pg := readPage(f)
	readFilters(f)
	p, err := a.proxyForTargets(ctx, f, "DescribeDBProxyTargets")
	if err != nil {
		return nil, err
	}
	var h *Health
	if p.Cluster != "" {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		v := a.cat.CheckTarget(cctx, p)
		cancel()
		h = &v
	}
	page, marker := pageOf(pg, a.targets(p, h), func(t targetXML) string { return t.Type + "/" + t.TargetArn })
	return &targetsResult{Targets: list(page), Marker: marker}, nil
}

// clusterList reads DBClusterIdentifiers (exactly one) and refuses
// DBInstanceIdentifiers: sqlgate's targets are clusters.
func clusterList(f *form) string {
	if len(f.list("DBInstanceIdentifiers.member")) > 0 {
		f.fail(errInvalid("sqlgate proxies target clusters: give DBClusterIdentifiers, not DBInstanceIdentifiers."))
	}
	ids := f.list("DBClusterIdentifiers.member")
	if f.err == nil && len(ids) != 1 {
		f.fail(errInvalid("Give exactly one DBClusterIdentifiers entry: a proxy targets one cluster."))
	}
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

func (a *API) registerTargets(ctx context.Context, f *form) (any, error) {
	cl := clusterList(f)
	if f.err != nil {
		return nil, f.err
	}
	p, err := a.proxyForTargets(ctx, f, "RegisterDBProxyTargets")
	if err != nil {
		return nil, err
	}
	c, ok := a.findCluster(cl)
	if !ok {
		return nil, errClusterNotFound(cl)
	}
	switch {
	case p.Cluster == cl:
		return nil, errTargetRegistered("DBCluster " + cl + " is already registered with DBProxy " + p.Name + ".")
	case p.Cluster != "":
		return nil, errTargetRegistered("DBProxy " + p.Name + " already has the target " + p.Cluster + "; a target group holds one cluster.")
	case c.Engine != p.Engine:
		return nil, newErr("InvalidDBClusterStateFault", 400, "DBCluster "+cl+" runs "+c.Engine+"; DBProxy "+p.Name+" is for "+family(p.Engine)+".")
	}
	err = a.editProxy(ctx, p, func(r *Record) error {
		if r.Cluster != "" {
			return errTargetRegistered("DBProxy " + p.Name + " already has the target " + r.Cluster + ".")
		}
		r.Cluster = cl
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.Cluster = cl
	return &registerResult{DBProxyTargets: list(a.targets(p, &Health{State: "REGISTERING"}))}, nil
}

func (a *API) deregisterTargets(ctx context.Context, f *form) (any, error) {
	cl := clusterList(f)
	if f.err != nil {
		return nil, f.err
	}
	p, err := a.proxyForTargets(ctx, f, "DeregisterDBProxyTargets")
	if err != nil {
		return nil, err
	}
	if p.Cluster != cl {
		return nil, errTargetNotFound("DBCluster " + short(cl) + " is not a target of DBProxy " + p.Name + ".")
	}
	if p.Source == SourceFile {
		return nil, errProxyState("The target of DBProxy " + p.Name + " is declared in the configuration file.")
	}
	err = a.editProxy(ctx, p, func(r *Record) error {
		r.Cluster = ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return noResult{}, nil
}

type targetGroupsResult struct {
	TargetGroups *members[targetGroupXML] `xml:"TargetGroups"`
	Marker       string                   `xml:"Marker,omitempty"`
}

type targetGroupResult struct {
	DBProxyTargetGroup targetGroupXML `xml:"DBProxyTargetGroup"`
}

// groupStatus is the default target group's status: the proxy's while
// it is created or changed, otherwise available.
func (a *API) groupStatus(p Proxy) string {
	if st := a.cat.ListenerStatus(p, ""); st == "creating" || st == "modifying" {
		return st
	}
	return "available"
}

func (a *API) toGroup(p Proxy, status string) targetGroupXML {
	c := p.Config
	maxPct := pctOrAll(c.MaxConnectionsPercent)
	idle := maxPct
	if c.MaxIdleConnectionsPercent != nil {
		idle = *c.MaxIdleConnectionsPercent
	}
	return targetGroupXML{DBProxyName: p.Name, TargetGroupName: defaultGroup, TargetGroupArn: a.groupARN(p), IsDefault: true,
		Status: status, CreatedDate: optTime(p.Created), UpdatedDate: optTime(p.Updated),
		ConnectionPoolConfig: poolXML{MaxConnectionsPercent: maxPct, MaxIdleConnectionsPercent: idle,
			ConnectionBorrowTimeout: int(c.BorrowTimeout / time.Second), SessionPinningFilters: list(p.Settings.SessionPinningFilters),
			InitQuery: c.InitQuery}}
}

func (a *API) describeTargetGroups(ctx context.Context, f *form) (any, error) {
	pg := readPage(f)
	readFilters(f)
	p, err := a.proxyForTargets(ctx, f, "DescribeDBProxyTargetGroups")
	if err != nil {
		return nil, err
	}
	page, marker := pageOf(pg, []targetGroupXML{a.toGroup(p, a.groupStatus(p))},
		func(g targetGroupXML) string { return g.TargetGroupName })
	return &targetGroupsResult{TargetGroups: list(page), Marker: marker}, nil
}

func (a *API) modifyTargetGroup(ctx context.Context, f *form) (any, error) {
	f.required("TargetGroupName")
	if f.has("NewName") && f.str("NewName") != defaultGroup {
		f.fail(errInvalid("The default target group cannot be renamed."))
	}
	const pc = "ConnectionPoolConfig."
	maxPct := f.optInt(pc+"MaxConnectionsPercent", 1, 100)
	idlePct := f.optInt(pc+"MaxIdleConnectionsPercent", 0, 100)
	borrow := f.optInt(pc+"ConnectionBorrowTimeout", 0, 3600)
	var initQuery *string
	if f.has(pc + "InitQuery") {
		q := f.str(pc + "InitQuery")
		initQuery = &q
	}
	filters := f.list(pc + "SessionPinningFilters.member")
	for _, x := range filters {
		if x != "EXCLUDE_VARIABLE_SETS" {
			f.fail(errInvalid("Invalid SessionPinningFilters value " + short(x) + ": the only filter is EXCLUDE_VARIABLE_SETS."))
		}
	}
	p, err := a.proxyForTargets(ctx, f, "ModifyDBProxyTargetGroup")
	if err != nil {
		return nil, err
	}
	effMax := pctOrAll(p.Config.MaxConnectionsPercent)
	if maxPct != nil {
		effMax = *maxPct
	}
	if idlePct != nil && *idlePct > effMax {
		return nil, errInvalid("MaxIdleConnectionsPercent must not exceed MaxConnectionsPercent.")
	}
	if borrow != nil && *borrow == 0 {
		return nil, errInvalid("ConnectionBorrowTimeout 0 is not supported: a client waits at least a second.")
	}
	err = a.editProxy(ctx, p, func(r *Record) error {
		s := &r.Settings
		setOpt(&s.MaxConnectionsPercent, maxPct)
		setOpt(&s.MaxIdleConnectionsPercent, idlePct)
		setOpt(&s.BorrowTimeout, borrow)
		setOpt(&s.InitQuery, initQuery)
		if filters != nil {
			s.SessionPinningFilters = filters
		}
		if p.Source == SourceFile {
			dropSame(s, a.fileConfig(p.Name))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if p, err = a.proxyByName(ctx, p.Name); err != nil {
		return nil, err
	}
	return &targetGroupResult{DBProxyTargetGroup: a.toGroup(p, "modifying")}, nil
}

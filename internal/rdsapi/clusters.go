package rdsapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strconv"
	"strings"

	"github.com/sqlgate/sqlgate/internal/arn"
)

// clusterARN returns the ARN of cluster name.
func (a *API) clusterARN(name string) string {
	return arn.Cluster(a.cfg.Region, a.cfg.Account, name)
}

// findCluster returns the configured cluster called name.
func (a *API) findCluster(name string) (ClusterInfo, bool) {
	for _, c := range a.cat.Clusters() {
		if c.Name == name {
			return c, true
		}
	}
	return ClusterInfo{}, false
}

// HTTPEndpointEnabled returns the effective Data API switch of c under
// the stored overrides.
func HTTPEndpointEnabled(c ClusterInfo, ov map[string]ClusterOverride) bool {
	if o, ok := ov[c.Name]; ok && o.HTTPEndpoint != nil {
		return *o.HTTPEndpoint
	}
	return c.DataAPI
}

type describeClustersResult struct {
	DBClusters struct {
		DBCluster []clusterXML `xml:"DBCluster"`
	} `xml:"DBClusters"`
	Marker string `xml:"Marker,omitempty"`
}

// clusterFilters are the Filters names DescribeDBClusters accepts (as on
// RDS). clone-group-id and domain match no sqlgate cluster.
var clusterFilters = []string{"clone-group-id", "db-cluster-id", "db-cluster-resource-id", "domain", "engine"}

// clusterName returns the cluster name of an identifier or cluster ARN.
func clusterName(id string) string {
	if _, name, err := arn.ClusterName(id); err == nil {
		return name
	}
	return id
}

func (a *API) describeDBClusters(ctx context.Context, f *form) (any, error) {
	id := clusterName(f.str("DBClusterIdentifier"))
	pg := readPage(f)
	filters := readFilters(f, clusterFilters...)
	if f.err != nil {
		return nil, f.err
	}
	res := a.clusterARN("*")
	if id != "" {
		res = a.clusterARN(id)
	}
	tags, err := a.store.Tags(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.authorize(ctx, "DescribeDBClusters", res, resourceTagKeys(tags[res])); err != nil {
		return nil, err
	}
	ov, err := a.store.Clusters(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := a.findCluster(id); id != "" && !ok {
		return nil, errClusterNotFound(id)
	}
	var match []ClusterInfo
	for _, c := range a.cat.Clusters() {
		if id != "" && c.Name != id {
			continue
		}
		if matchAll(filters, func(name string) []string { return a.clusterValues(c, name) }) {
			match = append(match, c)
		}
	}
	page, marker := pageOf(pg, match, func(c ClusterInfo) string { return c.Name })
	out := &describeClustersResult{Marker: marker}
	out.DBClusters.DBCluster = []clusterXML{}
	for _, c := range page {
		x := a.toCluster(c, ov, tags[a.clusterARN(c.Name)])
		x.Status = a.cat.ClusterStatus(ctx, c)
		out.DBClusters.DBCluster = append(out.DBClusters.DBCluster, x)
	}
	return out, nil
}

// clusterValues returns cluster c's values for a DescribeDBClusters
// filter.
func (a *API) clusterValues(c ClusterInfo, filter string) []string {
	switch filter {
	case "db-cluster-id":
		return []string{c.Name, a.clusterARN(c.Name)}
	case "db-cluster-resource-id":
		return []string{a.clusterResourceID(c.Name)}
	case "engine":
		return []string{c.Engine}
	}
	return nil
}

// clusterResourceID is the stable DbClusterResourceId of cluster name.
func (a *API) clusterResourceID(name string) string {
	h := sha256.Sum256([]byte(a.clusterARN(name)))
	return "cluster-" + strings.ToUpper(hex.EncodeToString(h[:13]))
}

func (a *API) toCluster(c ClusterInfo, ov map[string]ClusterOverride, tags []Tag) clusterXML {
	x := clusterXML{DBClusterIdentifier: c.Name, DBClusterArn: a.clusterARN(c.Name),
		DbClusterResourceID: a.clusterResourceID(c.Name),
		Status:              "available", Engine: c.Engine, EngineMode: "provisioned", DatabaseName: c.Database,
		Endpoint: c.Address, ReaderEndpoint: c.Address, HTTPEndpointEnabled: HTTPEndpointEnabled(c, ov),
		TagList: toTagList(tags)}
	if host, port, err := net.SplitHostPort(c.Address); err == nil {
		x.Endpoint, x.ReaderEndpoint = host, host
		if n, err := strconv.Atoi(port); err == nil {
			x.Port = &n
		}
	}
	if len(c.Members) > 0 {
		x.DBClusterMembers = &struct {
			Member []clusterMemberXML `xml:"DBClusterMember"`
		}{}
		for i, m := range c.Members {
			x.DBClusterMembers.Member = append(x.DBClusterMembers.Member, clusterMemberXML{
				DBInstanceIdentifier: c.Name + "-instance-" + strconv.Itoa(i+1), IsClusterWriter: m.Writer,
				DBClusterParameterGroupStatus: "in-sync", PromotionTier: 1})
		}
	}
	return x
}

type httpEndpointResult struct {
	ResourceArn         string `xml:"ResourceArn"`
	HTTPEndpointEnabled bool   `xml:"HttpEndpointEnabled"`
}

func (a *API) enableHTTPEndpoint(ctx context.Context, f *form) (any, error) {
	return a.setHTTPEndpoint(ctx, f, "EnableHttpEndpoint", true)
}

func (a *API) disableHTTPEndpoint(ctx context.Context, f *form) (any, error) {
	return a.setHTTPEndpoint(ctx, f, "DisableHttpEndpoint", false)
}

// setHTTPEndpoint switches the Data API of a cluster. The switch is an
// override of the file's data_api; setting it back to the file's value
// clears the override.
func (a *API) setHTTPEndpoint(ctx context.Context, f *form, action string, on bool) (any, error) {
	res := f.required("ResourceArn")
	if f.err != nil {
		return nil, f.err
	}
	_, name, err := arn.ClusterName(res)
	if err != nil {
		return nil, errInvalid("The parameter ResourceArn is not a valid DB cluster ARN: " + short(res))
	}
	c, ok := a.findCluster(name)
	if !ok || a.clusterARN(name) != res {
		return nil, errResourceNotFound("The resource " + short(res) + " could not be found.")
	}
	tags, err := a.store.Tags(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.authorize(ctx, action, res, resourceTagKeys(tags[res])); err != nil {
		return nil, err
	}
	err = a.store.UpdateClusters(ctx, func(m map[string]ClusterOverride) error {
		o := m[name]
		o.HTTPEndpoint = &on
		if on == c.DataAPI {
			o.HTTPEndpoint = nil
		}
		if o == (ClusterOverride{}) {
			delete(m, name)
		} else {
			m[name] = o
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &httpEndpointResult{ResourceArn: res, HTTPEndpointEnabled: on}, nil
}

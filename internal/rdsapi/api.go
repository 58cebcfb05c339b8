// Package rdsapi serves the subset of the Amazon RDS API that manages
// sqlgate's clusters and proxies while it runs: DescribeDBClusters and the
// Data API switch (Enable/DisableHttpEndpoint), the DB proxy calls
// (proxies, targets, target groups, endpoints) and resource tags. The wire
// format is the AWS Query protocol — a form-encoded POST naming Action and
// Version=2014-10-31, answered in XML — as the aws CLI and the SDKs send it.
//
// Clusters and proxies declared in the configuration file keep their
// structure there; their runtime settings changed here are stored as
// overrides. Proxies created here live wholly in the state store (Store).
// The server watches the store and starts, changes and stops proxies on
// every node; this package only reads and writes the records.
//
// Authentication happens before this package (SigV4, principal in the
// context); every action is authorized as "rds:<Action>" on the RDS ARN it
// acts on.
package rdsapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/sqlgate/sqlgate/internal/awsquery"
	"github.com/sqlgate/sqlgate/internal/iam"
)

// ClusterInfo is a configured cluster as DescribeDBClusters shows it.
type ClusterInfo struct {
	Name, Engine, Address, Database string
	// DataAPI is the file's data_api setting (before overrides).
	DataAPI bool
	// Members are the instances of a cluster with a topology, in
	// configuration order (none for a single address); Address is then
	// the current writer's.
	Members []Member
}

// Member is one instance of a cluster and whether it is the writer now.
type Member struct {
	Address string
	Writer  bool
}

// Health is a target's health from a real check.
type Health struct {
	State       string // AVAILABLE | UNAVAILABLE
	Reason      string // UNREACHABLE | CONNECTION_FAILED | AUTH_FAILURE
	Description string
}

// Catalog is what the API needs from the running server.
type Catalog interface {
	// Clusters lists the configured clusters.
	Clusters() []ClusterInfo
	// FileProxies lists the proxies declared in the configuration file.
	FileProxies() []FileProxy
	// CheckTarget checks the proxy's cluster: reachable, and a login with
	// the proxy's first auth secret works.
	CheckTarget(ctx context.Context, p Proxy) Health
	// ClusterStatus returns the cluster's Status as DescribeDBClusters
	// reports it: available when its database answers (see docs/proxy.md).
	ClusterStatus(ctx context.Context, c ClusterInfo) string
	// ListenerStatus returns the Status of proxy p's listener for endpoint
	// ("" = the proxy's own) on this node: creating, available, modifying
	// or incompatible-network.
	ListenerStatus(p Proxy, endpoint string) string
}

// Config is the API's fixed setup.
type Config struct {
	Region, Account string
	// ProxyHost is this node's rds.proxy_host; ports come from
	// [PortFirst, PortLast].
	ProxyHost           string
	PortFirst, PortLast int
	Log                 *slog.Logger
}

// API is the RDS Query API.
type API struct {
	cfg   Config
	store *Store
	cat   Catalog
	authz iam.Authorizer
	log   *slog.Logger
	now   func() time.Time
	ops   map[string]opFunc
}

// opFunc runs one action on its parameters and returns the result struct
// (rendered as <ActionResult>) or nil for actions without output.
type opFunc func(ctx context.Context, f *form) (any, error)

// New returns the API over store and cat.
func New(cfg Config, store *Store, cat Catalog, authz iam.Authorizer) *API {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	a := &API{cfg: cfg, store: store, cat: cat, authz: authz, log: log.With("component", "rdsapi"), now: time.Now}
	a.ops = map[string]opFunc{
		"DescribeDBClusters": a.describeDBClusters, "EnableHttpEndpoint": a.enableHTTPEndpoint,
		"DisableHttpEndpoint": a.disableHTTPEndpoint,
		"CreateDBProxy":       a.createDBProxy, "DescribeDBProxies": a.describeDBProxies,
		"ModifyDBProxy": a.modifyDBProxy, "DeleteDBProxy": a.deleteDBProxy,
		"RegisterDBProxyTargets": a.registerTargets, "DeregisterDBProxyTargets": a.deregisterTargets,
		"DescribeDBProxyTargets": a.describeTargets, "DescribeDBProxyTargetGroups": a.describeTargetGroups,
		"ModifyDBProxyTargetGroup": a.modifyTargetGroup,
		"CreateDBProxyEndpoint":    a.createEndpoint, "DescribeDBProxyEndpoints": a.describeEndpoints,
		"DeleteDBProxyEndpoint": a.deleteEndpoint,
		"AddTagsToResource":     a.addTags, "ListTagsForResource": a.listTags, "RemoveTagsFromResource": a.removeTags,
	}
	return a
}

// Actions returns the implemented action names.
func (a *API) Actions() []string {
	out := make([]string, 0, len(a.ops))
	for k := range a.ops {
		out = append(out, k)
	}
	return out
}

// Handle serves one request whose principal is already in r's context and
// returns the outcome for the access log ("ok" or the error code).
func (a *API) Handle(w http.ResponseWriter, r *http.Request, body []byte, requestID string) string {
	action, result, err := a.dispatch(r.Context(), string(body))
	if err != nil {
		e := WriteError(w, requestID, err)
		if e.Status >= 500 {
			a.log.Error("rds request failed", "action", action, "request_id", requestID, "err", e)
		}
		return e.Code
	}
	out, err := awsquery.EncodeResult(Namespace2014, action, requestID, result)
	if err != nil {
		return WriteError(w, requestID, errInternal(err)).Code
	}
	awsquery.Write(w, http.StatusOK, requestID, out)
	return "ok"
}

func (a *API) dispatch(ctx context.Context, body string) (action string, result any, err error) {
	f, err := parseForm(body)
	if err != nil {
		return "", nil, err
	}
	action = f.str("Action")
	op, ok := a.ops[action]
	if !ok {
		return "", nil, newErr("InvalidAction", http.StatusBadRequest, "The action "+short(action)+" is not valid for this web service.")
	}
	if v := f.str("Version"); v != Version2014 {
		return action, nil, newErr("InvalidAction", http.StatusBadRequest, "Could not find operation "+action+" for version "+short(v)+".")
	}
	result, err = op(ctx, f)
	if err == nil && f.err != nil {
		err = f.err
	}
	return action, result, err
}

// authorize checks rds:<action> on resource with service condition keys.
func (a *API) authorize(ctx context.Context, action, resource string, k map[string][]string) error {
	if len(k) > 0 {
		ctx = iam.WithConditionKeys(ctx, k)
	}
	return a.authz.Authorize(ctx, "rds:"+action, resource)
}

// arn returns an RDS ARN of this endpoint: arn:aws:rds:REGION:ACCOUNT:res.
func (a *API) arn(res string) string {
	return "arn:aws:rds:" + a.cfg.Region + ":" + a.cfg.Account + ":" + res
}

package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sqlgate/sqlgate/internal/console"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/exec"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/rdsapi"
	"github.com/sqlgate/sqlgate/internal/topology"
)

// openRDS wires the RDS API (internal/rdsapi) over the state store and
// applies the stored Data API switches before the first request.
func (s *Server) openRDS(ctx context.Context, authz identity.Authorizer) error {
	first, last, err := s.cfg.RDS.PortRange()
	if err != nil {
		return err
	}
	s.rdsStore = rdsapi.NewStore(s.store)
	s.rdsAPI = rdsapi.New(rdsapi.Config{Region: s.cfg.Region, Account: s.cfg.AccountID, ProxyHost: s.cfg.RDS.ProxyHost,
		PortFirst: first, PortLast: last, Log: s.log}, s.rdsStore, rdsCatalog{s}, authz)
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	return s.applyClusterOverrides(ctx)
}

// applyClusterOverrides sets every cluster's Data API switch from the
// file and the stored overrides (EnableHttpEndpoint/DisableHttpEndpoint).
func (s *Server) applyClusterOverrides(ctx context.Context) error {
	ov, err := s.rdsStore.Clusters(ctx)
	if err != nil {
		return err
	}
	for _, ci := range (rdsCatalog{s}).Clusters() {
		if c := s.cluster(ci.Name); c != nil {
			c.api.Enabled.Store(rdsapi.HTTPEndpointEnabled(ci, ov))
		}
	}
	return nil
}

// fileProxies returns the proxies declared in the file, named by their
// name or their cluster's.
func (s *Server) fileProxies() []rdsapi.FileProxy {
	var out []rdsapi.FileProxy
	for _, cc := range s.cfg.Clusters {
		if cc.Proxy == nil {
			continue
		}
		name := cc.Proxy.Name
		if name == "" {
			name = cc.Name
		}
		out = append(out, rdsapi.FileProxy{Name: name, Cluster: cc})
	}
	return out
}

// rdsCatalog implements rdsapi.Catalog over the server.
type rdsCatalog struct{ s *Server }

var _ rdsapi.Catalog = rdsCatalog{}

func (c rdsCatalog) Clusters() []rdsapi.ClusterInfo {
	out := make([]rdsapi.ClusterInfo, 0, len(c.s.clusters))
	for _, cl := range c.s.clusters {
		cc := c.s.clusterConfig(cl.name)
		ci := rdsapi.ClusterInfo{Name: cl.name, Engine: cl.engine, Address: cl.address,
			Database: cc.Database, DataAPI: cc.DataAPIEnabled()}
		if cl.topo != nil {
			var writer string
			if writer, ci.Members = clusterMembers(cl.topo.mon); writer != "" {
				ci.Address = writer
			}
		}
		out = append(out, ci)
	}
	return out
}

// clusterMembers returns the current writer's address and the instances
// as the topology monitor last saw them.
func clusterMembers(m *topology.Monitor) (string, []rdsapi.Member) {
	writer := m.Writer()
	var out []rdsapi.Member
	for _, st := range m.Instances() {
		out = append(out, rdsapi.Member{Address: st.Address, Writer: st.Address == writer})
	}
	return writer, out
}

func (c rdsCatalog) FileProxies() []rdsapi.FileProxy { return c.s.fileProxies() }

// CheckTarget is the target health check: a TCP connect to the database,
// then a login with the proxy's first auth secret.
func (c rdsCatalog) CheckTarget(ctx context.Context, p rdsapi.Proxy) rdsapi.Health {
	cl := c.s.cluster(p.Cluster)
	if cl == nil {
		return rdsapi.Health{State: "UNAVAILABLE", Reason: "UNREACHABLE", Description: "The cluster is not configured on this node."}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cl.address)
	if err != nil {
		return rdsapi.Health{State: "UNAVAILABLE", Reason: "UNREACHABLE", Description: "Cannot reach " + cl.address + "."}
	}
	_ = conn.Close()
	if len(p.Config.AuthSecrets) == 0 {
		return rdsapi.Health{State: "AVAILABLE"}
	}
	id := p.Config.AuthSecrets[0]
	_, value, err := c.s.secrets.SecretString(ctx, id)
	if err != nil {
		return rdsapi.Health{State: "UNAVAILABLE", Reason: "AUTH_FAILURE", Description: "Cannot read the secret " + id + "."}
	}
	sec, err := exec.ParseSecret(value)
	if err != nil {
		return rdsapi.Health{State: "UNAVAILABLE", Reason: "AUTH_FAILURE", Description: "The secret " + id + " has no username and password."}
	}
	db := sec.DBName
	if db == "" {
		db = c.s.clusterConfig(cl.name).Database
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	bc, err := cl.eng.Connect(lctx, engine.Credentials{User: sec.Username, Password: sec.Password, Database: db})
	if err != nil {
		return rdsapi.Health{State: "UNAVAILABLE", Reason: "CONNECTION_FAILED",
			Description: fmt.Sprintf("Logging in to the database with the secret %s failed.", id)}
	}
	_ = bc.Close()
	return rdsapi.Health{State: "AVAILABLE"}
}

// ClusterStatus is a cluster's DescribeDBClusters Status from its
// database: available when it answers (a TCP connect, or for a cluster
// with instances a known writer), failing-over while a cluster with
// instances has no writer, failed when the database does not answer.
func (c rdsCatalog) ClusterStatus(ctx context.Context, ci rdsapi.ClusterInfo) string {
	cl := c.s.cluster(ci.Name)
	switch {
	case cl == nil:
		return "failed"
	case cl.engine == "sqlite":
		return "available"
	case cl.topo != nil:
		if cl.topo.mon.Writer() == "" {
			return "failing-over"
		}
		return "available"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ci.Address)
	if err != nil {
		return "failed"
	}
	_ = conn.Close()
	return "available"
}

// ListenerStatus is the proxy runtime's view of a listener on this node.
func (c rdsCatalog) ListenerStatus(p rdsapi.Proxy, endpoint string) string {
	if c.s.proxyRT == nil {
		return "creating"
	}
	return c.s.proxyRT.Status(p, endpoint)
}

// RDS implements console.RDSService: the Proxies page's RDS calls.
func (b consoleBackend) RDS(w http.ResponseWriter, r *http.Request, body []byte, requestID string) {
	b.s.rdsAPI.Handle(w, r, body, requestID)
}

var _ console.RDSService = consoleBackend{}

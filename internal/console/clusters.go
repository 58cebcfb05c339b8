package console

import (
	"errors"
	"net/http"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/iam"
)

// DescribeAction is the IAM action that lets a principal see a cluster on
// the Clusters page and in the Query Editor's picker.
const DescribeAction = "rds:DescribeDBClusters"

// ClusterInfo describes one cluster and its live connection budget.
type ClusterInfo struct {
	Name     string     `json:"name"`
	ARN      string     `json:"arn"`
	Engine   string     `json:"engine"`
	Address  string     `json:"address"`
	Database string     `json:"database"`
	DataAPI  bool       `json:"dataApi"`
	Proxy    *ProxyInfo `json:"proxy,omitempty"`
	// MaxConnections is the backend connection budget; Busy, Idle and
	// Waiting are the pool's state now.
	MaxConnections int `json:"maxConnections"`
	Busy           int `json:"busy"`
	Idle           int `json:"idle"`
	Waiting        int `json:"waiting"`
}

// ProxyInfo is a cluster's proxy endpoint (config clusters[].proxy).
type ProxyInfo struct {
	Listen      string   `json:"listen"`
	IAMAuth     string   `json:"iamAuth"`
	RequireTLS  bool     `json:"requireTls"`
	AuthSecrets []string `json:"authSecrets"`
}

// clusters lists the clusters the principal may describe. When there are
// clusters but none is allowed, it answers AccessDeniedException, as
// DescribeDBClusters does.
func (c *Console) clusters(w http.ResponseWriter, r *http.Request, _ *session) {
	all := c.cfg.Services.Clusters()
	out := make([]ClusterInfo, 0, len(all))
	var denied error
	for _, cl := range all {
		err := c.cfg.Authorizer.Authorize(r.Context(), DescribeAction, cl.ARN)
		var ad *iam.AccessDeniedError
		switch {
		case err == nil:
			out = append(out, cl)
		case errors.As(err, &ad):
			denied = err
		default:
			writeError(w, awserr.ErrInternal(err))
			return
		}
	}
	if len(out) == 0 && denied != nil {
		writeError(w, awserr.Wrap("AccessDeniedException", http.StatusForbidden, denied.Error(), denied))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"clusters": out})
}

package console

import "net/http"

// RDSService is implemented by Services that serve the RDS API; the
// Proxies page calls it (DescribeDBProxies, CreateDBProxy, …) as the
// signed-in principal, so rds:<Action> policies decide as for the aws CLI.
type RDSService interface {
	// RDS serves an RDS Query-protocol call (a form body, XML answer).
	RDS(w http.ResponseWriter, r *http.Request, body []byte, requestID string)
}

// rdsQuery passes an RDS Query-protocol call; the XML response goes back
// unchanged.
func (c *Console) rdsQuery(w http.ResponseWriter, r *http.Request, _ *session) {
	svc, ok := c.cfg.Services.(RDSService)
	if !ok {
		writeError(w, errNotFound("The RDS API is not available here."))
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	svc.RDS(w, r, body, newRequestID())
}

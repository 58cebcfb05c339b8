package console

import (
	"net/http"
	"strings"
)

// apiGateway passes an API Gateway call (API keys, usage plans, usage)
// for the API keys page: /console/api/apigateway/PATH goes to /PATH with
// the same method, query and JSON body, as the session's principal.
func (c *Console) apiGateway(w http.ResponseWriter, r *http.Request, _ *session) {
	path := "/" + r.PathValue("path")
	if first, _, _ := strings.Cut(path[1:], "/"); first != "apikeys" && first != "usageplans" {
		writeError(w, errNotFound("Unknown API Gateway path: "+path))
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = path, ""
	c.cfg.Services.APIGateway(w, r2, body, newRequestID())
}

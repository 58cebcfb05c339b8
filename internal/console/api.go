package console

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"

	"github.com/sqlgate/sqlgate/internal/admin"
	"github.com/sqlgate/sqlgate/internal/arn"
	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/iam"
)

// MaxBodyBytes bounds a console API request (the Data API's 4 MiB).
const MaxBodyBytes = 4 << 20

// readBody reads the request body up to MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, awserr.New("RequestEntityTooLargeException", http.StatusRequestEntityTooLarge,
				"Request size exceeds the maximum allowed size of 4194304 bytes.")
		}
		return nil, awserr.Wrap("BadRequestException", http.StatusBadRequest, "Could not read the request body.", err)
	}
	return b, nil
}

var opName = regexp.MustCompile(`^[A-Za-z]{1,64}$`)

// dataAPI passes a Data API call (JSON body as the SDKs send it) to the
// Data API as the session's principal. The request context is the
// browser's: closing the connection (AbortController) cancels the
// statement.
func (c *Console) dataAPI(w http.ResponseWriter, r *http.Request, _ *session) {
	action := r.PathValue("action")
	body, err := readBody(w, r)
	if err != nil || !opName.MatchString(action) {
		writeError(w, errors.Join(err, errNotFound("Unknown Data API operation.")))
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = "/"+action, ""
	c.cfg.Services.DataAPI(w, r2, body, newRequestID())
}

// script passes the Query Editor's "Run all" (see Services.DataAPIScript).
// Closing the request cancels the statement running.
func (c *Console) script(w http.ResponseWriter, r *http.Request, _ *session) {
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	c.cfg.Services.DataAPIScript(w, r, body, newRequestID())
}

// secretsManager passes a Secrets Manager operation.
func (c *Console) secretsManager(w http.ResponseWriter, r *http.Request, _ *session) {
	op := r.PathValue("op")
	body, err := readBody(w, r)
	if err != nil || !opName.MatchString(op) {
		writeError(w, errors.Join(err, errNotFound("Unknown Secrets Manager operation.")))
		return
	}
	c.cfg.Services.SecretsManager(w, r, op, body, newRequestID())
}

// iamQuery passes an IAM or STS Query-protocol call (a form body); the
// XML response goes back unchanged.
func (c *Console) iamQuery(w http.ResponseWriter, r *http.Request, _ *session) {
	service := r.PathValue("service")
	if service != "iam" && service != "sts" {
		writeError(w, errNotFound("Unknown console API: "+r.URL.Path))
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	c.cfg.Services.IAM(w, r, service, body, newRequestID())
}

// validatePolicy parses a policy document with the same parser that
// PutUserPolicy and the authorizer use, so the editor can show errors
// before saving. It reveals nothing and needs no permission.
func (c *Console) validatePolicy(w http.ResponseWriter, r *http.Request, _ *session) {
	var req struct {
		PolicyDocument string `json:"policyDocument"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	out := map[string]any{"valid": true}
	if _, err := iam.Parse([]byte(req.PolicyDocument)); err != nil {
		out = map[string]any{"valid": false, "error": err.Error()}
	}
	writeJSON(w, http.StatusOK, out)
}

// connectPlan returns what `sqlgate connect` would create for a function
// and cluster (admin.PlanConnect, the same builder as the CLI): by default
// a role trusted by the workload type's service principal with the
// least-privilege policy and a workload bound to it, plus the workload's
// container credentials URI; with accessKey, the weaker user-with-a-key
// plan. The browser then makes the IAM and workload calls itself, as the
// signed-in principal.
func (c *Console) connectPlan(w http.ResponseWriter, r *http.Request, _ *session) {
	var req struct {
		Function   string `json:"function"`
		ClusterARN string `json:"clusterArn"`
		SecretARN  string `json:"secretArn"`
		ReadOnly   bool   `json:"readOnly"`
		AccessKey  bool   `json:"accessKey"`
		Type       string `json:"type"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	_, cluster, err := arn.ClusterName(req.ClusterARN)
	if err != nil || req.Function == "" || req.SecretARN == "" {
		writeError(w, badRequest("Give a function name, a cluster ARN and a secret ARN."))
		return
	}
	plan, err := admin.PlanConnect(req.Function, cluster, req.ClusterARN, req.SecretARN, req.ReadOnly, req.AccessKey, req.Type)
	if err != nil {
		writeError(w, badRequest(err.Error()))
		return
	}
	out := struct {
		*admin.ConnectPlan
		CredentialsURI string `json:"credentialsUri,omitempty"`
	}{ConnectPlan: plan}
	if plan.Mode == "workload" && c.cfg.CredentialsURI != nil {
		out.CredentialsURI = c.cfg.CredentialsURI(plan.WorkloadName)
	}
	writeJSON(w, http.StatusOK, out)
}

// workloads passes a workload API call (JSON, sqlgate's own
// SqlgateWorkloads.* operations) for the signed-in principal.
func (c *Console) workloads(w http.ResponseWriter, r *http.Request, _ *session) {
	op := r.PathValue("op")
	body, err := readBody(w, r)
	if err != nil || !opName.MatchString(op) {
		writeError(w, errors.Join(err, errNotFound("Unknown workload operation.")))
		return
	}
	c.cfg.Services.Workloads(w, r, op, body, newRequestID())
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest("Could not parse the request body as JSON.")
	}
	return nil
}

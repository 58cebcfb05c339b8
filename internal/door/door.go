// Package door is the contract between the listener and each AWS API
// behind it: one authenticated request in (Request), its outcome out
// (Outcome) for the access log. The Data API, Secrets Manager, IAM/STS,
// RDS, API Gateway and workload APIs each implement Handler; the server
// routes to them and the console forwards to them the same way, and no
// caller reads an outcome back from the response headers.
package door

import "net/http"

// Request is one request to an API, authenticated and read.
type Request struct {
	// HTTP is the request. Its context carries the principal and the
	// request context (iam.PrincipalFrom, iam.RequestInfoFrom); its body
	// has been read into Body.
	HTTP *http.Request
	// Op is the operation as the router saw it, for APIs that do not read
	// it from the path or the body: the X-Amz-Target operation (Secrets
	// Manager, workloads), the service the request was signed for (IAM
	// and STS share one door: "iam" or "sts"), or the Data API's
	// ScriptAction for the console's "Run all". Empty otherwise.
	Op string
	// Body is the request body (size-limited by the listener).
	Body []byte
	// ID is the request id, sent back as x-amzn-RequestId.
	ID string
}

// Outcome is what a Handler reports of the response it wrote.
type Outcome struct {
	// Code is "OK" or the AWS error code of the response.
	Code string
	// Cluster is the cluster a Data API call named ("" elsewhere).
	Cluster string
}

// OK is the outcome of a successful call.
var OK = Outcome{Code: "OK"}

// Handler serves one request of an API: it writes the whole response to
// w and reports its outcome.
type Handler interface {
	Serve(w http.ResponseWriter, req Request) Outcome
}

package sigv4

// Query-string (presigned) signatures, including RDS IAM auth tokens:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-authentication-methods.html
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Connecting.html

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	defaultExpires = 900 * time.Second // generate-db-auth-token's X-Amz-Expires
	maxExpires     = 7 * 24 * time.Hour
	// MaxTokenLifetime bounds an IAM database auth token: RDS accepts one
	// for 15 minutes after its X-Amz-Date, whatever X-Amz-Expires says.
	MaxTokenLifetime = 15 * time.Minute
	maxTokenLen      = 16 << 10 // a token with a long session token is ~2 KiB
)

// VerifyPresigned checks a query-string presigned URL (X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
// X-Amz-Signature) as produced by `aws rds generate-db-auth-token`:
// "host:port/?Action=connect&DBUser=U&X-Amz-...", without scheme (a scheme
// is accepted too). method is the signed method, "" meaning GET. It returns
// the identity and all query parameters; the caller checks Service ("rds-db"),
// Region, Action and DBUser. A token is valid from MaxSkew before its
// X-Amz-Date until X-Amz-Expires (default 900 s) after it; an X-Amz-Expires
// over MaxTokenLifetime is refused, so no token lives longer.
func (v *Verifier) VerifyPresigned(ctx context.Context, method, token string) (*Identity, url.Values, error) {
	if len(token) > maxTokenLen {
		return nil, nil, errIncomplete("The presigned URL is too long.")
	}
	if i := strings.Index(token, "://"); i < 0 || strings.ContainsAny(token[:i], "/?") {
		token = "https://" + token
	}
	u, err := url.Parse(token)
	if err != nil || u.Host == "" {
		return nil, nil, errIncomplete("The presigned URL is malformed.")
	}
	if method == "" {
		method = http.MethodGet
	}
	in := signingInput{method: method, path: u.EscapedPath(), rawQuery: u.RawQuery, host: u.Host, length: -1}
	id, q, err := v.verifyQuery(ctx, in, nil, emptySHA256, false, MaxTokenLifetime)
	if err != nil {
		return nil, nil, err
	}
	return id, q, nil
}

// verifyPresignedRequest checks an HTTP request authenticated by its query.
func (v *Verifier) verifyPresignedRequest(ctx context.Context, r *http.Request, body []byte, jsonTarget bool) (*Identity, error) {
	payload, ok := payloadHash(r.Header.Get("X-Amz-Content-Sha256"), body)
	if !ok {
		return nil, newError(CodeInvalidSignature, msgSignatureWrong, "", jsonTarget)
	}
	in := requestInput(r, nil, "", "", "")
	id, _, err := v.verifyQuery(ctx, in, r.Header, payload, jsonTarget, maxExpires)
	return id, err
}

// verifyQuery parses the X-Amz-* parameters of in.rawQuery and verifies them.
// X-Amz-Expires over limit is refused.
func (v *Verifier) verifyQuery(ctx context.Context, in signingInput, h http.Header, payload string, jsonTarget bool, limit time.Duration) (*Identity, url.Values, error) {
	q, err := url.ParseQuery(in.rawQuery)
	if err != nil {
		return nil, nil, restatus(errIncomplete("The query string is malformed."), "", jsonTarget)
	}
	c, expires, err := parseQueryAuth(q)
	if err == nil && expires > limit {
		err = errIncomplete(fmt.Sprintf("X-Amz-Expires must be a number of seconds between 1 and %d.", int(limit/time.Second)))
	}
	if err != nil {
		return nil, nil, restatus(err, c.in.service, jsonTarget)
	}
	c.jsonTarget = jsonTarget
	c.in.method, c.in.path, c.in.rawQuery, c.in.skip = in.method, in.path, in.rawQuery, "X-Amz-Signature"
	c.in.host, c.in.header, c.in.length, c.in.payload = in.host, h, in.length, payload
	if err := c.setDate(c.signedAt); err != nil {
		return nil, nil, err
	}
	if err := v.checkWindow(c, expires); err != nil {
		return nil, nil, err
	}
	id, err := v.verify(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	return id, q, nil
}

// checkWindow accepts a presigned URL from MaxSkew before its signing time
// until expires after it.
func (v *Verifier) checkWindow(c *claim, expires time.Duration) error {
	now, skew := v.now(), v.maxSkew()
	if c.signedAt.After(now.Add(skew)) {
		return c.fail(CodeInvalidSignature, skewMessage(c.signedAt, now, skew))
	}
	if now.After(c.signedAt.Add(expires)) {
		return c.fail(CodeInvalidSignature, skewMessage(c.signedAt, now, expires))
	}
	return nil
}

// queryAuthParams are the parameters every presigned URL must carry once.
var queryAuthParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"}

// parseQueryAuth reads the X-Amz-* query parameters into a claim. The
// returned claim is never nil, so callers can read its service on error.
func parseQueryAuth(q url.Values) (*claim, time.Duration, error) {
	c := &claim{}
	var missing []string
	for _, name := range queryAuthParams {
		if vs := q[name]; len(vs) != 1 || vs[0] == "" {
			missing = append(missing, "AWS query-string parameters must include '"+name+"'.")
		}
	}
	if len(missing) > 0 {
		return c, 0, errIncomplete(strings.Join(missing, " ") + " Re-examine the query-string parameters.")
	}
	if q.Get("X-Amz-Algorithm") != Algorithm {
		return c, 0, errIncomplete("X-Amz-Algorithm only supports \"" + Algorithm + "\"")
	}
	a := &Authorization{Signature: q.Get("X-Amz-Signature")}
	if err := a.parseCredential(q.Get("X-Amz-Credential")); err != nil {
		return c, 0, err
	}
	c.akid, c.sig, c.token = a.AccessKeyID, a.Signature, q.Get("X-Amz-Security-Token")
	c.in.date, c.in.region, c.in.service = a.Date, a.Region, a.Service
	signed, err := parseSignedHeaders(q.Get("X-Amz-SignedHeaders"))
	if err != nil {
		return c, 0, err
	}
	c.in.signed = signed
	if !isHexSignature(a.Signature) {
		return c, 0, errIncomplete("Signature must be 64 lowercase hexadecimal characters.")
	}
	t, err := time.Parse(timeFormat, q.Get("X-Amz-Date"))
	if err != nil {
		return c, 0, errIncomplete("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	c.signedAt = t
	expires, err := parseExpires(q["X-Amz-Expires"])
	return c, expires, err
}

func parseExpires(vs []string) (time.Duration, error) {
	if len(vs) == 0 {
		return defaultExpires, nil
	}
	n, err := strconv.Atoi(vs[0])
	if len(vs) != 1 || err != nil || n <= 0 || n > int(maxExpires/time.Second) {
		return 0, errIncomplete("X-Amz-Expires must be a number of seconds between 1 and 604800.")
	}
	return time.Duration(n) * time.Second, nil
}

package sigv4

// Header-based signatures: Authorization: AWS4-HMAC-SHA256 Credential=...
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Verify checks r's header-based SigV4 signature (Authorization:
// AWS4-HMAC-SHA256 ...), or its presigned query (X-Amz-Signature=...) when
// r has no Authorization header. body is the full request body, already
// read; r.Body is not touched. Errors are *Error, except KeyStore failures
// other than ErrUnknownKey, which are returned wrapped.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (*Identity, error) {
	jsonTarget := r.Header.Get("X-Amz-Target") != ""
	h := r.Header.Get("Authorization")
	if h == "" {
		if isPresignedQuery(r.URL.RawQuery) {
			return v.verifyPresignedRequest(ctx, r, body, jsonTarget)
		}
		return nil, newError(CodeMissingAuthenticationToken, msgMissingToken, "", jsonTarget)
	}
	a, err := ParseAuthorization(h)
	if err != nil {
		return nil, restatus(err, "", jsonTarget)
	}
	c := &claim{
		akid:       a.AccessKeyID,
		sig:        a.Signature,
		token:      r.Header.Get("X-Amz-Security-Token"),
		jsonTarget: jsonTarget,
		in:         requestInput(r, a.SignedHeaders, a.Date, a.Region, a.Service),
	}
	if err := c.setHeaderDate(r.Header); err != nil {
		return nil, err
	}
	if err := v.checkSkew(c); err != nil {
		return nil, err
	}
	payload, ok := payloadHash(r.Header.Get("X-Amz-Content-Sha256"), body)
	if !ok {
		return nil, c.fail(CodeInvalidSignature, msgSignatureWrong)
	}
	c.in.payload = payload
	return v.verify(ctx, c)
}

// requestInput collects the parts of r that a signature covers.
func requestInput(r *http.Request, signed []string, date, region, service string) signingInput {
	return signingInput{
		method:   r.Method,
		path:     r.URL.EscapedPath(),
		rawQuery: r.URL.RawQuery,
		host:     r.Host,
		header:   r.Header,
		length:   r.ContentLength,
		signed:   signed,
		date:     date,
		region:   region,
		service:  service,
	}
}

// setHeaderDate takes the signing time from X-Amz-Date, else Date, and
// checks that the credential scope names the same day.
func (c *claim) setHeaderDate(h http.Header) error {
	var t time.Time
	var err error
	if s := h.Get("X-Amz-Date"); s != "" {
		if ft, ok := parseAmzDate(s); ok {
			c.signedAt = ft
			c.in.amzDate = s // already in the canonical form
			return c.checkScopeDay()
		}
		t, err = time.Parse(timeFormat, s)
	} else if s := h.Get("Date"); s != "" {
		t, err = http.ParseTime(s)
	} else {
		return c.fail(CodeIncompleteSignature,
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if err != nil {
		return c.fail(CodeIncompleteSignature,
			"X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	return c.setDate(t)
}

func (c *claim) setDate(t time.Time) error {
	c.signedAt = t.UTC()
	c.in.amzDate = stamp(t)
	return c.checkScopeDay()
}

func (c *claim) checkScopeDay() error {
	if day := c.in.amzDate[:8]; day != c.in.date {
		return c.fail(CodeInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
			c.in.date+"' != '"+day+"', from '"+c.in.amzDate+"'.")
	}
	return nil
}

// restatus gives a parse error the status of the request's protocol.
func restatus(err error, service string, jsonTarget bool) error {
	if e, ok := err.(*Error); ok {
		e.Status = statusFor(service, jsonTarget)
	}
	return err
}

// isPresignedQuery reports whether a raw query carries SigV4 query auth.
func isPresignedQuery(raw string) bool {
	return strings.Contains(raw, "X-Amz-Signature=") || strings.Contains(raw, "X-Amz-Algorithm=")
}

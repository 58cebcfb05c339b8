package sigv4

// Client-side signing, for sqlgate's own CLI calling a running server:
// the same canonical request the verifier checks.

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Credentials are the keys a request is signed with.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Sign adds a header-based SigV4 signature to r for service in region:
// X-Amz-Date, X-Amz-Security-Token (with a session token) and
// Authorization. The signed headers are host, x-amz-date, content-type
// when set, and x-amz-security-token; body is r's whole body.
func Sign(r *http.Request, body []byte, c Credentials, region, service string, now time.Time) {
	amzDate := stamp(now)
	r.Header.Set("X-Amz-Date", amzDate)
	if c.SessionToken != "" {
		r.Header.Set("X-Amz-Security-Token", c.SessionToken)
	}
	signed := []string{"host", "x-amz-date"}
	if r.Header.Get("Content-Type") != "" {
		signed = append(signed, "content-type")
	}
	if c.SessionToken != "" {
		signed = append(signed, "x-amz-security-token")
	}
	slices.Sort(signed)
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	sum := sha256.Sum256(body)
	in := signingInput{method: r.Method, path: r.URL.EscapedPath(), rawQuery: r.URL.RawQuery, host: host,
		header: r.Header, length: int64(len(body)), signed: signed, payload: hex.EncodeToString(sum[:]),
		amzDate: amzDate, date: amzDate[:8], region: region, service: service}
	key := deriveKey(c.SecretAccessKey, in.date, region, service)
	sig, err := in.signature(key[:])
	if err != nil {
		// Only an undecodable query fails; the request then fails
		// verification on the server, which names the problem.
		return
	}
	var b strings.Builder
	b.WriteString(Algorithm + " Credential=" + c.AccessKeyID + "/")
	b.Write(appendScope(nil, in.date, region, service))
	b.WriteString(", SignedHeaders=" + strings.Join(signed, ";") + ", Signature=" + hex.EncodeToString(sig[:]))
	r.Header.Set("Authorization", b.String())
}

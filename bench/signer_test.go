package bench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// signer is a minimal AWS Signature Version 4 signer for POST requests with
// a JSON body and no query string — all the Data API needs. It caches the
// derived signing key per day, as a production client would.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
type signer struct {
	akid, secret, region, service string

	mu  sync.Mutex // guards following fields
	day string
	key []byte
}

// sign adds X-Amz-Date and Authorization to req, which has no query string.
func (s *signer) sign(req *http.Request, body []byte, now time.Time) {
	now = now.UTC()
	amzDate := now.Format("20060102T150405Z")
	day := amzDate[:8]
	scope := day + "/" + s.region + "/" + s.service + "/aws4_request"
	payload := sha256.Sum256(body)
	const signed = "content-type;host;x-amz-date"
	canonical := req.Method + "\n" + req.URL.EscapedPath() + "\n\n" +
		"content-type:" + req.Header.Get("Content-Type") + "\n" +
		"host:" + req.URL.Host + "\n" +
		"x-amz-date:" + amzDate + "\n\n" +
		signed + "\n" + hex.EncodeToString(payload[:])
	ch := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(ch[:])
	sig := hmacSum(s.signingKey(day), toSign)
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+s.akid+"/"+scope+
		", SignedHeaders="+signed+", Signature="+hex.EncodeToString(sig))
}

func (s *signer) signingKey(day string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.day != day {
		k := hmacSum([]byte("AWS4"+s.secret), day)
		k = hmacSum(k, s.region)
		k = hmacSum(k, s.service)
		s.key, s.day = hmacSum(k, "aws4_request"), day
	}
	return s.key
}

func hmacSum(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// rawClient posts one fixed, pre-encoded ExecuteStatement body per call over
// a keep-alive connection, signing each request: the cheapest client a user
// could write, so the server's share of the cost is visible.
type rawClient struct {
	hc   *http.Client
	url  string // http://host:port/Execute
	body []byte
	sig  *signer
}

// do runs one request and returns the response body on HTTP 200.
func (c *rawClient) do(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(c.body))
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	c.sig.sign(req, c.body, time.Now())
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return b, nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/sigv4"
)

// gwClient calls a running sqlgate's API Gateway API, signing each
// request with the caller's AWS credentials from the environment.
type gwClient struct {
	base   *url.URL
	http   *http.Client
	creds  sigv4.Credentials
	region string
}

// onlineEndpoint returns the server URL the key commands talk to: the
// --endpoint-url flag, else $SQLGATE_ENDPOINT_URL, else
// $AWS_ENDPOINT_URL_API_GATEWAY, else $AWS_ENDPOINT_URL; "" = offline.
func onlineEndpoint(flagValue string) string {
	for _, v := range []string{flagValue, os.Getenv("SQLGATE_ENDPOINT_URL"), os.Getenv("AWS_ENDPOINT_URL_API_GATEWAY"), os.Getenv("AWS_ENDPOINT_URL")} {
		if v != "" {
			return v
		}
	}
	return ""
}

// newGWClient reads the credentials and region the aws CLI would use
// from the environment.
func newGWClient(endpoint, caFile string) (*gwClient, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: endpoint %q: want http(s)://HOST:PORT", errUsage, endpoint)
	}
	c := sigv4.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return nil, errors.New("a running server needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		region = "us-east-1"
	}
	hc, err := agentClient(caFile)
	if err != nil {
		return nil, err
	}
	return &gwClient{base: u, http: hc, creds: c, region: region}, nil
}

// call sends one signed request; out (may be nil) receives the JSON
// answer. An API error reads "Code: message".
func (g *gwClient) call(ctx context.Context, method, path string, q url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	u := *g.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sigv4.Sign(req, body, g.creds, g.region, "apigateway", time.Now())
	resp, err := g.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("%s (HTTP %d): %s", resp.Header.Get("X-Amzn-ErrorType"), resp.StatusCode, e.Message)
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Wire shapes of the answers the CLI reads.
type (
	gwKey struct {
		ID, Name, Value string
		Enabled         bool
		CreatedDate     float64
	}
	gwPlan struct {
		ID, Name  string
		APIStages []struct{ Stage string } `json:"apiStages"`
		Throttle  *struct {
			RateLimit  float64 `json:"rateLimit"`
			BurstLimit int     `json:"burstLimit"`
		}
		Quota *struct {
			Limit  int64
			Period string
		}
	}
)

// list reads every page of a list operation.
func list[T any](ctx context.Context, g *gwClient, path string, q url.Values) ([]T, error) {
	var all []T
	if q == nil {
		q = url.Values{}
	}
	q.Set("limit", "500")
	for {
		var p struct {
			Item     []T    `json:"item"`
			Position string `json:"position"`
		}
		if err := g.call(ctx, http.MethodGet, path, q, nil, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Item...)
		if p.Position == "" {
			return all, nil
		}
		q.Set("position", p.Position)
	}
}

// onlineKeys runs the key and plan commands against a running server.
type onlineKeys struct {
	ctx context.Context
	g   *gwClient
	out io.Writer
}

// findKey resolves a key name or ID.
func (o *onlineKeys) findKey(nameOrID string) (*gwKey, error) {
	keys, err := list[gwKey](o.ctx, o.g, "/apikeys", nil)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.ID == nameOrID || k.Name == nameOrID {
			return &k, nil
		}
	}
	return nil, fmt.Errorf("api key %q not found", nameOrID)
}

// findPlan resolves a plan name or ID.
func (o *onlineKeys) findPlan(nameOrID string) (*gwPlan, error) {
	plans, err := list[gwPlan](o.ctx, o.g, "/usageplans", nil)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		if p.ID == nameOrID || p.Name == nameOrID {
			return &p, nil
		}
	}
	return nil, fmt.Errorf("usage plan %q not found", nameOrID)
}

func (o *onlineKeys) deletePlan(name string) error {
	p, err := o.findPlan(name)
	if err != nil {
		return err
	}
	return o.g.call(o.ctx, http.MethodDelete, "/usageplans/"+url.PathEscape(p.ID), nil, nil, nil)
}

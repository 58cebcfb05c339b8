package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/state"
)

const lambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func newStores(t *testing.T) (*Store, *identity.Store) {
	t.Helper()
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	b, err := barrier.New(map[uint32][]byte{1: bytes.Repeat([]byte{0x42}, barrier.KeySize)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.New(st, b, "123456789012")
	t.Cleanup(ids.Wait) // runs before st.Close
	if _, err := ids.CreateRole(context.Background(), "fn", "/", lambdaTrust, "", 0); err != nil {
		t.Fatal(err)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:*","Resource":"*"}]}`
	if err := ids.PutRolePolicy(context.Background(), "fn", "data", allow); err != nil {
		t.Fatal(err)
	}
	return New(st, ids), ids
}

var loopback = netip.MustParseAddr("127.0.0.1")

func TestCreateRequiresMatchingServicePrincipal(t *testing.T) {
	ws, _ := newStores(t)
	ctx := context.Background()
	for _, typ := range []string{"ec2", "ecs", "eks"} {
		if _, _, err := ws.Create(ctx, CreateInput{Name: "w-" + typ, Type: typ, Role: "fn"}); !errors.Is(err, ErrUntrusted) {
			t.Errorf("type %s on a lambda-only role: err = %v, want ErrUntrusted", typ, err)
		}
	}
	if _, _, err := ws.Create(ctx, CreateInput{Name: "wx", Type: "k8s", Role: "fn"}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("unknown type: %v", err)
	}
	if _, _, err := ws.Create(ctx, CreateInput{Name: "wx", Role: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown role: %v", err)
	}
	w, tok, err := ws.Create(ctx, CreateInput{Name: "orders", Role: "arn:aws:iam::123456789012:role/fn"})
	if err != nil {
		t.Fatal(err)
	}
	if w.Type != "lambda" || len(tok) < 40 || strings.Contains(mustJSON(t, w), tok) {
		t.Fatalf("workload %+v token %q: token must be long and not stored", w, tok)
	}
	if _, _, err := ws.Create(ctx, CreateInput{Name: "orders", Role: "fn"}); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate: %v", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIssueChecksTokenNetworkAndTrust(t *testing.T) {
	ws, ids := newStores(t)
	ctx := context.Background()
	_, tok, err := ws.Create(ctx, CreateInput{Name: "orders", Role: "fn", AllowCIDRs: []string{"10.1.0.0/16", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Issue(ctx, "orders", tok+"x", loopback); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong token: %v", err)
	}
	if _, _, err := ws.Issue(ctx, "other", tok, loopback); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("unknown workload: %v", err)
	}
	if _, _, err := ws.Issue(ctx, "orders", tok, netip.MustParseAddr("10.2.0.1")); !errors.Is(err, ErrForbiddenNetwork) {
		t.Errorf("outside network: %v", err)
	}
	_, c, err := ws.Issue(ctx, "orders", tok, netip.MustParseAddr("10.1.3.4"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.AccessKeyID, "ASIA") || time.Until(c.Expiration) < 59*time.Minute {
		t.Fatalf("credentials %s expiring %v", c.AccessKeyID, c.Expiration)
	}
	p, err := ids.Principal(ctx, c.AccessKeyID)
	if err != nil || p.ARN != "arn:aws:sts::123456789012:assumed-role/fn/orders" {
		t.Fatalf("principal %+v, %v", p, err)
	}
	tok2, err := ws.RotateToken(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Issue(ctx, "orders", tok, loopback); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("rotated-out token: %v", err)
	}
	if _, _, err := ws.Issue(ctx, "orders", tok2, loopback); err != nil {
		t.Errorf("new token: %v", err)
	}
	if err := ws.Delete(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Issue(ctx, "orders", tok2, loopback); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("deleted workload: %v", err)
	}
}

func TestRevokeSessions(t *testing.T) {
	ws, ids := newStores(t)
	var skew atomic.Int64
	ids.SetClock(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) })
	ctx := context.Background()
	_, tok, err := ws.Create(ctx, CreateInput{Name: "orders", Role: "fn"})
	if err != nil {
		t.Fatal(err)
	}
	_, c, err := ws.Issue(ctx, "orders", tok, loopback)
	if err != nil {
		t.Fatal(err)
	}
	authz := identity.Authorizer{Store: ids}
	can := func(akid string) error {
		p, err := ids.Principal(ctx, akid)
		if err != nil {
			return err
		}
		return authz.Authorize(iam.WithPrincipal(ctx, p, iam.RequestInfo{}), "rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:123456789012:cluster:default")
	}
	if err := can(c.AccessKeyID); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	cut, err := RevokeSessions(ctx, ids, "fn", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := can(c.AccessKeyID); err == nil {
		t.Fatal("revoked session still allowed")
	}
	skew.Store(int64(time.Until(cut.Add(100 * time.Millisecond))))
	_, c2, err := ws.Issue(ctx, "orders", tok, loopback)
	if err != nil {
		t.Fatal(err)
	}
	if err := can(c2.AccessKeyID); err != nil {
		t.Fatalf("session issued after the cut-off: %v", err)
	}
}

func TestHandler(t *testing.T) {
	ws, _ := newStores(t)
	ctx := context.Background()
	_, tok, err := ws.Create(ctx, CreateInput{Name: "orders", Role: "fn"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	hs := httptest.NewServer(&Handler{Store: ws, Log: slog.New(slog.NewTextHandler(logs, nil))})
	defer hs.Close()
	get := func(path, token string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := get(CredentialsPath+"orders", tok)
	var cc ContainerCredentials
	if code != 200 || json.Unmarshal(body, &cc) != nil || cc.Token == "" || cc.SecretAccessKey == "" {
		t.Fatalf("%d %s", code, body)
	}
	if _, err := time.Parse(time.RFC3339, cc.Expiration); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, token string
		want        int
	}{{CredentialsPath + "orders", "", 401}, {CredentialsPath + "orders", "sgwt_wrong", 401},
		{CredentialsPath + "nobody", tok, 401}, {"/v1/other", tok, 404}} {
		if code, body := get(tc.path, tc.token); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.path, code, body, tc.want)
		}
	}
	if strings.Contains(logs.String(), tok) || strings.Contains(logs.String(), cc.SecretAccessKey) {
		t.Fatal("the log contains the bootstrap token or a secret")
	}
}

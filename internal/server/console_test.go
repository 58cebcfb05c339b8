package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/console"
)

// consoleClient is a browser-like client of the console: cookie and CSRF
// token from sign-in.
type consoleClient struct {
	base, cookie, csrf string
}

func (e *testEnv) consoleLogin(t *testing.T, akid, secret string) (*consoleClient, int) {
	t.Helper()
	body := `{"accessKeyId":"` + akid + `","secretAccessKey":"` + secret + `"}`
	req, _ := http.NewRequest("POST", e.http.URL+"/console/api/login", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct{ CSRFToken string }
	_ = json.NewDecoder(resp.Body).Decode(&info)
	c := &consoleClient{base: e.http.URL, csrf: info.CSRFToken}
	for _, ck := range resp.Cookies() {
		if ck.Name == console.CookieName {
			c.cookie = ck.Value
		}
	}
	return c, resp.StatusCode
}

func (c *consoleClient) post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", c.base+"/console/api/"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(console.CSRFHeader, c.csrf)
	req.AddCookie(&http.Cookie{Name: console.CookieName, Value: c.cookie})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestConsole_ActsAsPrincipal checks that console calls are authorized by
// the signed-in principal's IAM policies, exactly like SigV4 calls.
func TestConsole_ActsAsPrincipal(t *testing.T) {
	h := newHostileEnv(t)
	exec := func(cluster, secret string) string {
		return `{"resourceArn":"` + h.clusterARN(cluster) + `","secretArn":"` + secret + `","sql":"select 1 as one"}`
	}
	root, code := h.consoleLogin(t, h.akid, h.secretKey)
	if code != http.StatusOK {
		t.Fatalf("root sign-in: %d", code)
	}
	fn, code := h.consoleLogin(t, h.fn.akid, h.fn.secret)
	if code != http.StatusOK {
		t.Fatalf("fn sign-in: %d", code)
	}
	tests := []struct {
		name       string
		c          *consoleClient
		path, body string
		want       int
		wantBody   string
	}{
		{"root runs SQL", root, "rds-data/Execute", exec("other", h.otherARN), http.StatusOK, `"longValue":1`},
		{"seed policy allows default", fn, "rds-data/Execute", exec("default", h.defaultARN), http.StatusOK, `"longValue":1`},
		{"seed policy denies other cluster", fn, "rds-data/Execute", exec("other", h.otherARN), http.StatusForbidden, "not authorized to perform: rds-data:ExecuteStatement"},
		{"seed policy denies secrets listing", fn, "secretsmanager/ListSecrets", `{}`, http.StatusBadRequest, "AccessDeniedException"},
		{"seed policy denies IAM", fn, "iam", "Action=ListUsers&Version=2010-05-08", http.StatusForbidden, "AccessDenied"},
		{"root lists users", root, "iam", "Action=ListUsers&Version=2010-05-08", http.StatusOK, "<UserName>fn</UserName>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, body := tt.c.post(t, tt.path, tt.body)
			if got != tt.want || !strings.Contains(body, tt.wantBody) {
				t.Fatalf("got %d %s, want %d with %q", got, body, tt.want, tt.wantBody)
			}
		})
	}
	t.Run("clusters need rds:DescribeDBClusters", func(t *testing.T) {
		req, _ := http.NewRequest("GET", h.http.URL+"/console/api/clusters", nil)
		req.AddCookie(&http.Cookie{Name: console.CookieName, Value: fn.cookie})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("got %d, want 403", resp.StatusCode)
		}
	})
	t.Run("deactivated key ends the session", func(t *testing.T) {
		h.iamOK(t, creds{}, "UpdateAccessKey", "UserName", "fn", "AccessKeyId", h.fn.akid, "Status", "Inactive")
		if got, _ := fn.post(t, "rds-data/Execute", exec("default", h.defaultARN)); got != http.StatusUnauthorized {
			t.Fatalf("got %d, want 401", got)
		}
		if _, code := h.consoleLogin(t, h.fn.akid, h.fn.secret); code != http.StatusUnauthorized {
			t.Fatalf("sign-in with an inactive key: got %d, want 401", code)
		}
	})
}

func TestConsole_SignInRejects(t *testing.T) {
	h := newHostileEnv(t)
	tests := []struct{ name, akid, secret string }{
		{"wrong root secret", h.akid, h.secretKey + "x"},
		{"secret prefix", h.fn.akid, h.fn.secret[:20]},
		{"unknown key", "AKIDNOSUCHKEY0000000", h.fn.secret},
		{"other user's secret", h.fn.akid, h.secretKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, code := h.consoleLogin(t, tt.akid, tt.secret)
			if code != http.StatusUnauthorized || c.cookie != "" {
				t.Fatalf("got %d cookie=%q, want 401 and no session", code, c.cookie)
			}
		})
	}
	if strings.Contains(h.logs.String(), h.fn.secret) || strings.Contains(h.logs.String(), h.secretKey) {
		t.Fatal("a secret access key reached the log")
	}
}

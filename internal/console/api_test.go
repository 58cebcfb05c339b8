package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestConsole_Services(t *testing.T) {
	e := newConsoleEnv(t)
	cookie, csrf := e.login(t, nil)
	h := authHeaders(cookie, csrf)
	tests := []struct {
		name, path, body, want string
	}{
		{"data api as the principal", "/console/api/rds-data/Execute", `{"sql":"select 1"}`, goodAKID + ` rds-data /Execute {"sql":"select 1"}`},
		{"transactions", "/console/api/rds-data/BeginTransaction", `{}`, goodAKID + " rds-data /BeginTransaction {}"},
		{"secrets manager", "/console/api/secretsmanager/ListSecrets", `{}`, goodAKID + " secretsmanager ListSecrets"},
		{"iam", "/console/api/iam", "Action=ListUsers&Version=2010-05-08", goodAKID + " iam Action=ListUsers&Version=2010-05-08"},
		{"sts", "/console/api/sts", "Action=GetCallerIdentity", goodAKID + " sts Action=GetCallerIdentity"},
		{"api gateway", "/console/api/apigateway/usageplans/p1/keys?limit=5", `{"keyId":"k1"}`, goodAKID + ` apigateway POST /usageplans/p1/keys limit=5 {"keyId":"k1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do("POST", tt.path, tt.body, h)
			if w.Code != http.StatusOK {
				t.Fatalf("got %d %s", w.Code, w.Body)
			}
			if got := e.svc.lastCall(); got != tt.want {
				t.Fatalf("got call %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("unknown routes", func(t *testing.T) {
		for _, p := range []string{"/console/api/ec2", "/console/api/rds-data/Exec%2Fute", "/console/api/secretsmanager/a.b", "/console/api/apigateway/restapis"} {
			if w := e.do("POST", p, "{}", h); w.Code != http.StatusNotFound {
				t.Errorf("%s: got %d, want 404", p, w.Code)
			}
		}
	})
}

func TestConsole_Clusters(t *testing.T) {
	e := newConsoleEnv(t)
	e.svc.clusters = []ClusterInfo{
		{Name: "a", ARN: "arn:aws:rds:us-east-1:000000000000:cluster:a", Engine: "mysql", MaxConnections: 20, Busy: 1, Idle: 2},
		{Name: "b", ARN: "arn:aws:rds:us-east-1:000000000000:cluster:b", Engine: "postgres"},
	}
	cookie, _ := e.login(t, nil)
	w := e.do("GET", "/console/api/clusters", "", authHeaders(cookie, ""))
	var got struct{ Clusters []ClusterInfo }
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	if len(got.Clusters) != 1 || got.Clusters[0].Name != "a" || got.Clusters[0].Busy != 1 {
		t.Fatalf("got %+v, want only cluster a (rds:DescribeDBClusters denies b)", got.Clusters)
	}
	e.svc.clusters = e.svc.clusters[1:]
	w = e.do("GET", "/console/api/clusters", "", authHeaders(cookie, ""))
	if w.Code != http.StatusForbidden || errType(w) != "AccessDeniedException" {
		t.Fatalf("no cluster allowed: got %d %s, want 403 AccessDeniedException", w.Code, w.Body)
	}
}

func TestConsole_ValidatePolicy(t *testing.T) {
	e := newConsoleEnv(t)
	cookie, csrf := e.login(t, nil)
	tests := []struct {
		name, doc string
		valid     bool
	}{
		{"valid", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:*","Resource":"*"}]}`, true},
		{"bad effect", `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"rds-data:*","Resource":"*"}]}`, false},
		{"not JSON", `{"Version":`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(map[string]string{"policyDocument": tt.doc})
			w := e.do("POST", "/console/api/policy/validate", string(b), authHeaders(cookie, csrf))
			var got struct {
				Valid bool
				Error string
			}
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
				t.Fatalf("got %d %s", w.Code, w.Body)
			}
			if got.Valid != tt.valid || (!got.Valid && got.Error == "") {
				t.Fatalf("got %+v, want valid=%v with a message when invalid", got, tt.valid)
			}
		})
	}
}

func TestConsole_ConnectPlan(t *testing.T) {
	e := newConsoleEnv(t)
	cookie, csrf := e.login(t, nil)
	const target = `"clusterArn":"arn:aws:rds:us-east-1:000000000000:cluster:maria","secretArn":"arn:aws:secretsmanager:us-east-1:000000000000:secret:maria-AbCdEf"`
	plan := func(extra string) (int, map[string]string) {
		w := e.do("POST", "/console/api/connect/plan", `{"function":"orders",`+target+extra+`}`, authHeaders(cookie, csrf))
		var got map[string]string
		if w.Code == http.StatusOK {
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("%s: %v", w.Body, err)
			}
		}
		return w.Code, got
	}
	// The default: a role for a Lambda function and a workload, no key.
	code, got := plan(`,"readOnly":true`)
	if code != http.StatusOK || got["mode"] != "workload" || got["roleName"] != "fn-orders" || got["workloadName"] != "orders" ||
		got["workloadType"] != "lambda" || !strings.Contains(got["trustPolicy"], `"lambda.amazonaws.com"`) || got["userName"] != "" ||
		got["policyName"] != "sqlgate-connect-maria" || got["credentialsUri"] != "http://creds.test/v1/credentials/orders" ||
		!strings.Contains(got["policyDocument"], `"rds-data:ExecuteStatement"`) || strings.Contains(got["policyDocument"], "BeginTransaction") {
		t.Fatalf("workload plan: %d %v", code, got)
	}
	if code, got = plan(`,"type":"ecs"`); code != http.StatusOK || !strings.Contains(got["trustPolicy"], `"ecs-tasks.amazonaws.com"`) {
		t.Fatalf("ecs plan: %d %v", code, got)
	}
	if code, _ = plan(`,"type":"mainframe"`); code != http.StatusBadRequest {
		t.Fatalf("unknown type: %d", code)
	}
	// The weaker mode only on request: a user with a key.
	if code, got = plan(`,"accessKey":true`); code != http.StatusOK || got["mode"] != "accessKey" || got["userName"] != "fn-orders" || got["roleName"] != "" {
		t.Fatalf("access key plan: %d %v", code, got)
	}
	w := e.do("POST", "/console/api/workloads/CreateWorkload", `{"Name":"orders","Type":"lambda","Role":"fn-orders"}`, authHeaders(cookie, csrf))
	if w.Code != http.StatusOK || !strings.HasPrefix(e.svc.lastCall(), goodAKID+" workloads CreateWorkload ") {
		t.Fatalf("workload call: %d %s; last call %q", w.Code, w.Body, e.svc.lastCall())
	}
}

func TestConsole_Pages(t *testing.T) {
	e := newConsoleEnv(t)
	for _, p := range []string{"/console/", "/console/app.css", "/console/js/app.js"} {
		w := e.do("GET", p, "", nil)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: got %d", p, w.Code)
		}
		if got := w.Header().Get("Content-Security-Policy"); !strings.HasPrefix(got, "default-src 'self'") {
			t.Errorf("%s: CSP %q", p, got)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: missing nosniff or frame denial", p)
		}
	}
	if w := e.do("GET", "/console/js/", "", nil); w.Code != http.StatusNotFound {
		t.Errorf("directory listing: got %d, want 404", w.Code)
	}
	if w := e.do("GET", "/console", "", nil); w.Code != http.StatusMovedPermanently {
		t.Errorf("/console: got %d, want a redirect", w.Code)
	}
}

// TestConsole_LogsNoSecrets plants a secret in every kind of request and
// greps the log for it.
func TestConsole_LogsNoSecrets(t *testing.T) {
	e := newConsoleEnv(t)
	cookie, csrf := e.login(t, nil)
	const planted = "PLANTED-SECRET-9f8e7d"
	e.do("POST", "/console/api/login", `{"accessKeyId":"`+goodAKID+`","secretAccessKey":"`+planted+`"}`, nil)
	e.do("POST", "/console/api/rds-data/Execute", `{"sql":"select '`+planted+`'"}`, authHeaders(cookie, csrf))
	e.do("POST", "/console/api/secretsmanager/CreateSecret", `{"SecretString":"`+planted+`"}`, authHeaders(cookie, csrf))
	for _, s := range []string{planted, goodSecret, cookie, csrf} {
		if strings.Contains(e.logs.String(), s) {
			t.Fatalf("log contains %q:\n%s", s, e.logs)
		}
	}
}

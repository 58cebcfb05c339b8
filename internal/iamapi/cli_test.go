package iamapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sqlgate/sqlgate/internal/door"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// cliPolicy has white space, a '+' and a '%' so that the URL encoding of
// returned documents is exercised the way the CLI decodes it.
const cliPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Data", "Effect": "Allow", "Action": ["rds-data:ExecuteStatement", "secretsmanager:GetSecretValue"],
     "Resource": ["arn:aws:rds:us-east-1:123456789012:cluster:a+b", "arn:aws:secretsmanager:us-east-1:123456789012:secret:100%-*"]}
  ]
}
`

var scopeRE = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request`)

// cliEnv serves the API over HTTP as the server would after SigV4
// verification: the service comes from the credential scope, the caller
// is root. Signatures are not checked here.
type cliEnv struct {
	*testEnv
	url, dir string
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("aws CLI tests are slow")
	}
	_, err := exec.LookPath("aws")
	testdb.NeedTool(t, err == nil, "the aws CLI")
	e := &cliEnv{testEnv: newEnv(t), dir: t.TempDir()}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil {
			http.Error(w, "unsigned", http.StatusForbidden)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		r = r.WithContext(iam.WithPrincipal(r.Context(), rootPrincipal, iam.RequestInfo{}))
		e.api.Serve(w, door.Request{HTTP: r, Op: m[1], Body: body, ID: "req-" + strconv.FormatInt(n.Add(1), 10)})
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// run runs the aws CLI with dummy credentials and returns its exit code,
// stdout and stderr.
func (e *cliEnv) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", e.url, "--output", "json", "--region", "us-east-1"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+e.dir, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_CONFIG_FILE="+filepath.Join(e.dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(e.dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// ok runs a command that must succeed and decodes its JSON output.
func (e *cliEnv) ok(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, out, errOut := e.run(t, args...)
	if code != 0 {
		t.Fatalf("aws %v: exit %d: %s", args, code, errOut)
	}
	var m map[string]any
	if strings.TrimSpace(out) == "" {
		return m
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("aws %v: output is not JSON: %v\n%s", args, err, out)
	}
	return m
}

// get walks a decoded JSON value: get(m, "User", "UserName").
func get(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func TestAPI_CLI(t *testing.T) {
	e := newCLIEnv(t)
	policyFile := filepath.Join(e.dir, "policy.json")
	trustFile := filepath.Join(e.dir, "trust.json")
	if err := os.WriteFile(policyFile, []byte(cliPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trustFile, []byte(trustPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	var wantPolicy, wantTrust any
	_ = json.Unmarshal([]byte(cliPolicy), &wantPolicy)
	_ = json.Unmarshal([]byte(trustPolicy), &wantTrust)

	t.Run("list-users empty", func(t *testing.T) {
		got := e.ok(t, "iam", "list-users")
		if users, ok := got["Users"].([]any); !ok || len(users) != 0 {
			t.Fatalf("Users = %#v", got["Users"])
		}
	})
	t.Run("create-user", func(t *testing.T) {
		got := e.ok(t, "iam", "create-user", "--user-name", "bob")
		if get(got, "User", "UserName") != "bob" || get(got, "User", "Arn") != acct+"user/bob" ||
			get(got, "User", "CreateDate") != "2026-11-29T09:00:00Z" {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("create-access-key", func(t *testing.T) {
		got := e.ok(t, "iam", "create-access-key", "--user-name", "bob")
		if s, _ := get(got, "AccessKey", "SecretAccessKey").(string); !strings.HasPrefix(s, "SECRET-AKIA") || get(got, "AccessKey", "Status") != "Active" {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("put-user-policy", func(t *testing.T) {
		e.ok(t, "iam", "put-user-policy", "--user-name", "bob", "--policy-name", "data", "--policy-document", "file://"+policyFile)
	})
	t.Run("get-user-policy", func(t *testing.T) {
		got := e.ok(t, "iam", "get-user-policy", "--user-name", "bob", "--policy-name", "data")
		if !reflect.DeepEqual(got["PolicyDocument"], wantPolicy) {
			t.Fatalf("PolicyDocument = %#v\nwant %#v", got["PolicyDocument"], wantPolicy)
		}
	})
	t.Run("list-users", func(t *testing.T) {
		got := e.ok(t, "iam", "list-users")
		if get(got, "Users", "0", "UserName") != "bob" || len(got["Users"].([]any)) != 1 {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("get-user error", func(t *testing.T) {
		code, _, errOut := e.run(t, "iam", "get-user", "--user-name", "nope")
		want := "An error occurred (NoSuchEntity) when calling the GetUser operation: The user with name nope cannot be found."
		if code == 0 || !strings.Contains(errOut, want) {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("create-policy and get-policy-version", func(t *testing.T) {
		got := e.ok(t, "iam", "create-policy", "--policy-name", "data", "--policy-document", "file://"+policyFile)
		arn, _ := get(got, "Policy", "Arn").(string)
		got = e.ok(t, "iam", "get-policy-version", "--policy-arn", arn, "--version-id", "v1")
		if !reflect.DeepEqual(get(got, "PolicyVersion", "Document"), wantPolicy) || get(got, "PolicyVersion", "IsDefaultVersion") != true {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("sts get-caller-identity", func(t *testing.T) {
		got := e.ok(t, "sts", "get-caller-identity")
		if got["Account"] != testAccount || got["Arn"] != acct+"root" || got["UserId"] != testAccount {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("sts assume-role", func(t *testing.T) {
		got := e.ok(t, "iam", "create-role", "--role-name", "app", "--assume-role-policy-document", "file://"+trustFile)
		if !reflect.DeepEqual(get(got, "Role", "AssumeRolePolicyDocument"), wantTrust) {
			t.Fatalf("AssumeRolePolicyDocument = %#v", get(got, "Role", "AssumeRolePolicyDocument"))
		}
		got = e.ok(t, "sts", "assume-role", "--role-arn", acct+"role/app", "--role-session-name", "s1", "--duration-seconds", "900")
		if s, _ := get(got, "Credentials", "AccessKeyId").(string); !strings.HasPrefix(s, "ASIA") ||
			get(got, "Credentials", "Expiration") != "2026-11-29T09:15:00Z" ||
			get(got, "AssumedRoleUser", "Arn") != "arn:aws:sts::"+testAccount+":assumed-role/app/s1" ||
			get(got, "Credentials", "SessionToken") == nil {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("sts assume-role denied", func(t *testing.T) {
		code, _, errOut := e.run(t, "sts", "assume-role", "--role-arn", acct+"role/nope", "--role-session-name", "s1")
		if code == 0 || !strings.Contains(errOut, "(AccessDenied) when calling the AssumeRole operation: User: "+acct+"root is not authorized") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
}

package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/testdb"
	"github.com/sqlgate/sqlgate/internal/workload"
)

// The function role of the walkthrough: trusted by Lambda and EC2.
const functionTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`

// workloadEnv is a server with a role FunctionRole allowed to query the
// default cluster and read its secret, and a lambda workload "orders"
// bound to it, issuing 16-minute credentials.
type workloadEnv struct {
	*testEnv
	token, uri string
}

// newWorkloadEnv starts the server with its identity clock set back so
// that 16-minute credentials expire refreshWindow+4s from now in real
// time: an SDK that refreshes credentials refreshWindow before their
// expiry (boto3 15 min, the JS and Go SDKs 5 min) refreshes a few seconds
// after the first fetch, while sqlgate, on its own clock, sees them valid
// for 16 minutes. No SDK clock is faked.
func newWorkloadEnv(t *testing.T, refreshWindow time.Duration) *workloadEnv {
	t.Helper()
	e := startTestEnv(t, configFor())
	skew := -(16*time.Minute - refreshWindow - 4*time.Second)
	e.srv.ids.SetClock(func() time.Time { return time.Now().Add(skew) })
	ctx := context.Background()
	if _, err := e.srv.ids.CreateRole(ctx, "FunctionRole", "/", functionTrust, "", 0); err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"rds-data:ExecuteStatement","Resource":%q},
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":%q}]}`, e.clusterARN("default"), e.srv.defaultSecretARN)
	if err := e.srv.ids.PutRolePolicy(ctx, "FunctionRole", "DataAPI", policy); err != nil {
		t.Fatal(err)
	}
	_, token, err := e.srv.Workloads().Create(ctx, workload.CreateInput{Name: "orders", Role: "FunctionRole", Lifetime: 16 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return &workloadEnv{testEnv: e, token: token, uri: e.http.URL + workload.CredentialsPath + "orders"}
}

// sdkEnv is the environment of an SDK process: the two container
// credential variables and nothing else that names credentials.
func (w *workloadEnv) sdkEnv(t *testing.T) []string {
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + w.uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN=" + w.token}
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		env = append(env, "PYENV_ROOT="+r)
	}
	return env
}

func TestWorkloadCredentialsBoto3(t *testing.T) {
	testdb.NeedTool(t, exec.Command("python3", "-c", "import boto3").Run() == nil, "python3 with boto3")
	w := newWorkloadEnv(t, 15*time.Minute)
	cmd := exec.Command("python3", "../../e2e/workload_creds.py", w.http.URL, w.clusterARN("default"), w.srv.defaultSecretARN)
	cmd.Env = w.sdkEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok refreshed") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(string(out)))
}

func TestWorkloadCredentialsJS(t *testing.T) {
	_, errNode := exec.LookPath("node")
	_, errMod := os.Stat("../../e2e/node_modules/@aws-sdk/client-rds-data")
	testdb.NeedTool(t, errNode == nil && errMod == nil, "node with e2e/node_modules (bash e2e/clients.sh)")
	w := newWorkloadEnv(t, 5*time.Minute)
	cmd := exec.Command("node", "../../e2e/workload_creds.mjs", w.http.URL, w.clusterARN("default"), w.srv.defaultSecretARN)
	cmd.Env = w.sdkEnv(t)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), "ok refreshed") {
		t.Fatalf("JS SDK: %v\n%s%s", err, out, stderr.String())
	}
	t.Log(strings.TrimSpace(string(out)))
}

// TestWorkloadCredentialsGoSDK: aws-sdk-go-v2's default chain (config.
// LoadDefaultConfig) with only the two variables set; then revocation
// stops the old credentials.
func TestWorkloadCredentialsGoSDK(t *testing.T) {
	w := newWorkloadEnv(t, 5*time.Minute)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", w.uri)
	t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", w.token)
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"), awsconfig.WithRetryMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	data := rdsdata.NewFromConfig(cfg, func(o *rdsdata.Options) { o.BaseEndpoint = aws.String(w.http.URL) })
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(w.http.URL) })
	call := func() error {
		out, err := data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(w.clusterARN("default")),
			SecretArn: aws.String(w.srv.defaultSecretARN), Sql: aws.String("SELECT 41 + 1")})
		if err != nil {
			return err
		}
		if len(out.Records) != 1 {
			return fmt.Errorf("records %v", out.Records)
		}
		_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(w.srv.defaultSecretARN)})
		return err
	}
	if err := call(); err != nil {
		t.Fatal(err)
	}
	first, err := cfg.Credentials.Retrieve(ctx)
	if err != nil || !strings.HasPrefix(first.AccessKeyID, "ASIA") {
		t.Fatalf("%+v %v", first, err)
	}
	var cur aws.Credentials
	testdb.Eventually(t, 30*time.Second, 200*time.Millisecond, "credentials refreshed", func() bool {
		if cur, _ = cfg.Credentials.Retrieve(ctx); cur.AccessKeyID != first.AccessKeyID {
			return true
		}
		if err := call(); err != nil {
			t.Fatal(err)
		}
		return false
	})
	if err := call(); err != nil {
		t.Fatal(err)
	}
	t.Logf("refreshed %s -> %s", first.AccessKeyID, cur.AccessKeyID)

	// Revoke: the credentials the SDK holds stop working at once.
	if _, err := workload.RevokeSessions(ctx, w.srv.ids, "FunctionRole", time.Now().Add(-(16*time.Minute - 5*time.Minute - 4*time.Second))); err != nil {
		t.Fatal(err)
	}
	old := staticData(w.testEnv, cur)
	_, err = old.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(w.clusterARN("default")),
		SecretArn: aws.String(w.srv.defaultSecretARN), Sql: aws.String("SELECT 1")})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("revoked credentials: %v", err)
	}
	// Deleting the workload stops its endpoint at once.
	if err := w.srv.Workloads().Delete(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := credentialsFrom(ctx, w.uri, w.token); err == nil {
		t.Fatal("deleted workload still gets credentials")
	}
}

func staticData(e *testEnv, c aws.Credentials) *rdsdata.Client {
	return rdsdata.New(rdsdata.Options{BaseEndpoint: aws.String(e.http.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
}

// TestWorkloadRefusals: a wrong token, a source outside the allowed
// networks and a plain IAM user are refused.
func TestWorkloadRefusals(t *testing.T) {
	w := newWorkloadEnv(t, 0)
	ctx := context.Background()
	if _, err := credentialsFrom(ctx, w.uri, w.token+"x"); err == nil || !strings.Contains(err.Error(), "InvalidToken") {
		t.Errorf("wrong token: %v", err)
	}
	_, tok, err := w.srv.Workloads().Create(ctx, workload.CreateInput{Name: "remote", Role: "FunctionRole", AllowCIDRs: []string{"10.9.0.0/16"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := credentialsFrom(ctx, w.http.URL+workload.CredentialsPath+"remote", tok); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("outside the allowed networks: %v", err)
	}
	if _, err := w.srv.ids.CreateUser(ctx, "alice", "/"); err != nil {
		t.Fatal(err)
	}
	u, _ := w.srv.ids.GetUser(ctx, "alice")
	alice := &iam.Principal{ARN: u.ARN, UserName: "alice", UserID: u.UserID}
	_, _, err = w.srv.ids.AssumeRole(ctx, alice, identity.AssumeInput{RoleARN: "arn:aws:iam::" + w.srv.cfg.AccountID + ":role/FunctionRole", SessionName: "alice"})
	if !errors.Is(err, identity.ErrAssumeDenied) {
		t.Errorf("IAM user assuming a service role: %v", err)
	}
	if c, err := credentialsFrom(ctx, w.uri, w.token); err != nil || !strings.HasPrefix(c.AccessKeyID, "ASIA") {
		t.Errorf("right token: %+v %v", c, err)
	}
}

// credentialsFrom fetches container credentials as the SDKs do.
func credentialsFrom(ctx context.Context, uri, token string) (aws.Credentials, error) {
	p := endpointProvider(uri, token)
	return p.Retrieve(ctx)
}

func endpointProvider(uri, token string) *endpointcreds.Provider {
	return endpointcreds.New(uri, func(o *endpointcreds.Options) {
		o.AuthorizationToken = token
		o.Retryer = aws.NopRetryer{}
	})
}

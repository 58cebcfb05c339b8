package server

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/testdb"
	"github.com/sqlgate/sqlgate/internal/workload"
)

// awsCLI runs the aws CLI with env (plus PATH and an empty HOME): a Data
// API query and a GetSecretValue against the server.
func awsCLI(t *testing.T, w *workloadEnv, env []string) {
	t.Helper()
	_, err := exec.LookPath("aws")
	testdb.NeedTool(t, err == nil, "the aws CLI")
	env = append(env, "AWS_DEFAULT_REGION=us-east-1")
	for _, args := range [][]string{
		{"rds-data", "execute-statement", "--resource-arn", w.clusterARN("default"), "--secret-arn", w.srv.defaultSecretARN, "--sql", "SELECT 41 + 1"},
		{"secretsmanager", "get-secret-value", "--secret-id", w.srv.defaultSecretARN, "--query", "ARN"},
		{"sts", "get-caller-identity"},
	} {
		cmd := exec.Command("aws", append([]string{"--endpoint-url", w.http.URL, "--output", "json"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		want := map[string]string{"rds-data": "42", "secretsmanager": w.srv.defaultSecretARN, "sts": "assumed-role/FunctionRole/"}[args[0]]
		if err != nil || !strings.Contains(string(out), want) {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args[:2], " "), err, out)
		}
	}
}

// TestWorkloadIMDSAwsCLI: the aws CLI with AWS_EC2_METADATA_SERVICE_ENDPOINT
// pointing at an IMDS listener bound to an ec2 workload.
func TestWorkloadIMDSAwsCLI(t *testing.T) {
	w := newWorkloadEnv(t, 0)
	if _, _, err := w.srv.Workloads().Create(context.Background(), workload.CreateInput{Name: "vm", Type: "ec2", Role: "FunctionRole"}); err != nil {
		t.Fatal(err)
	}
	imds := httptest.NewServer(w.srv.imdsHandler("vm"))
	defer imds.Close()
	env := []string{"PATH=" + w.sdkEnv(t)[0][len("PATH="):], "HOME=" + t.TempDir(), "AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds.URL + "/"}
	awsCLI(t, w, env)
	if !strings.Contains(w.logs.String(), "imds credentials issued") {
		t.Fatal("the CLI did not fetch credentials from the IMDS listener")
	}
}

// TestCredentialsAgentAwsCLI: the aws CLI with the container variables
// pointing at a credentials agent that fetches from sqlgate over HTTPS.
func TestCredentialsAgentAwsCLI(t *testing.T) {
	w := newWorkloadEnv(t, 0)
	remote := httptest.NewTLSServer(w.srv.Handler(true))
	defer remote.Close()
	u, _ := url.Parse(remote.URL)
	agent := httptest.NewServer(&workload.Agent{Remote: u, Client: remote.Client(), Log: slog.New(slog.DiscardHandler)})
	defer agent.Close()
	env := []string{"PATH=" + w.sdkEnv(t)[0][len("PATH="):], "HOME=" + t.TempDir(),
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + agent.URL + workload.CredentialsPath + "orders",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=" + w.token}
	awsCLI(t, w, env)
	if !strings.Contains(w.logs.String(), "workload credentials issued") {
		t.Fatal("no credentials were issued through the agent")
	}
	// A wrong token is relayed and refused.
	if _, err := credentialsFrom(context.Background(), agent.URL+workload.CredentialsPath+"orders", "sgwt_wrong"); err == nil || !strings.Contains(err.Error(), "InvalidToken") {
		t.Fatalf("wrong token through the agent: %v", err)
	}
}

package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"

	"github.com/sqlgate/sqlgate/internal/testdb"
	"github.com/sqlgate/sqlgate/internal/workload"
)

// TestSeed000LambdaWithoutKeys runs seed 000's Lambda code unchanged
// against MariaDB, as its FunctionRole (trusted only by
// lambda.amazonaws.com), with no access key anywhere: only the container
// credential variables of a lambda workload.
func TestSeed000LambdaWithoutKeys(t *testing.T) {
	testdb.NeedTool(t, exec.Command("python3", "-c", "import boto3").Run() == nil, "python3 with boto3")
	tg := mysqlTarget(t, "seedwl")
	e := startTestEnv(t, configFor(tg))
	ctx := context.Background()
	secret := e.createSecret(t, "seedwl-secret", tg.user, tg.password)
	table := fmt.Sprintf("Pets_wl_%d", os.Getpid())
	for _, sql := range []string{"DROP TABLE IF EXISTS " + table,
		"create table " + table + "(id varchar(200), type varchar(200), price float)",
		"insert into " + table + " values (111, 'dog', 123)"} {
		if _, err := e.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(e.clusterARN("seedwl")),
			SecretArn: aws.String(secret), Sql: aws.String(sql)}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = e.data.ExecuteStatement(context.Background(), &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(e.clusterARN("seedwl")),
			SecretArn: aws.String(secret), Sql: aws.String("DROP TABLE IF EXISTS " + table)})
	})
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["lambda.amazonaws.com"]}}]}`
	if _, err := e.srv.ids.CreateRole(ctx, "FunctionRole", "/", trust, "", 0); err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["rds-data:ExecuteStatement","rds-data:BatchExecuteStatement","rds-data:BeginTransaction","rds-data:CommitTransaction","rds-data:RollbackTransaction"],"Resource":%q},
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":%q}]}`, e.clusterARN("seedwl"), secret)
	if err := e.srv.ids.PutRolePolicy(ctx, "FunctionRole", "DataAPI", policy); err != nil {
		t.Fatal(err)
	}
	ws := e.srv.Workloads()
	if _, _, err := ws.Create(ctx, workload.CreateInput{Name: "seed-vm", Type: "ec2", Role: "FunctionRole"}); err == nil {
		t.Fatal("an ec2 workload was bound to a lambda-only role")
	}
	_, token, err := ws.Create(ctx, workload.CreateInput{Name: "seed-function", Role: "FunctionRole"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "../../e2e/seed000_lambda.py")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PYENV_ROOT=" + os.Getenv("PYENV_ROOT"),
		"AWS_ENDPOINT_URL=" + e.http.URL, "DBCLUSTER_ARN=" + e.clusterARN("seedwl"), "DBNAME=" + tg.cluster.Database,
		"DBTABLE=" + table, "REGION=us-east-1", "SECRET_ARN=" + secret,
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + e.http.URL + workload.CredentialsPath + "seed-function",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=" + token}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var res struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.StatusCode != 200 {
		t.Fatalf("%s %v", out, err)
	}
	var body struct{ Records [][]map[string]any }
	if err := json.Unmarshal([]byte(res.Body), &body); err != nil || len(body.Records) != 1 || body.Records[0][1]["stringValue"] != "dog" {
		t.Fatalf("body %s %v", res.Body, err)
	}
}

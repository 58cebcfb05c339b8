package server

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sqlgate/sqlgate/internal/config"
)

// TestServer_SecretsNotLeaked plants unique secret values and SQL parameter
// values, uses them through both APIs (successful and failing calls), then
// greps the captured logs, the error messages and every file of the data
// dir (state.db and its -wal/-shm included): none may hold them in clear.
func TestServer_SecretsNotLeaked(t *testing.T) {
	ctx := context.Background()
	lite := dbTarget{cluster: config.Cluster{Name: "default", Engine: "sqlite"}}
	env := newTestEnv(t, configFor(lite, mysqlTarget(t, "maria"), pgTarget(t, "pg")))

	planted := map[string]string{} // what → value
	plant := func(what string) string {
		v := "PLANTED-" + randomHex(12)
		planted[what] = v
		return v
	}
	param := func(what string) string {
		v := "PARAM-" + randomHex(12)
		planted[what] = v
		return v
	}
	var clientErrors []string
	note := func(err error) {
		if err != nil {
			clientErrors = append(clientErrors, err.Error())
		}
	}

	// Secrets Manager: create (string and binary), read, put, failing calls.
	pw := plant("password")
	created, err := env.secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("leak-app"),
		SecretString: aws.String(`{"username":"sqlgate","password":"` + pw + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	secretARN := aws.ToString(created.ARN)
	if _, err := env.secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("leak-bin"),
		SecretBinary: []byte(plant("binary secret"))}); err != nil {
		t.Fatal(err)
	}
	got, err := env.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("leak-app")})
	if err != nil || !strings.Contains(aws.ToString(got.SecretString), pw) {
		t.Fatalf("GetSecretValue = %v, %v", got, err)
	}
	pw2 := plant("put password")
	if _, err := env.secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("leak-app"),
		SecretString: aws.String(`{"username":"sqlgate","password":"` + pw2 + `"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("leak-app"), VersionStage: aws.String("AWSPREVIOUS")}); err != nil {
		t.Fatal(err)
	}
	_, err = env.secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("no-such-secret"),
		SecretString: aws.String(plant("put to missing secret"))})
	note(err)
	_, err = env.secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("leak-app"),
		SecretString: aws.String(plant("create existing"))})
	note(err)
	r := env.send(t, rawRequest{Target: "secretsmanager.PutSecretValue",
		Body: []byte(`{"SecretId":"leak-app","SecretString":"` + plant("malformed put") + `",`)})
	clientErrors = append(clientErrors, string(r.Body))

	// A secret that is not the JSON the Data API expects: the error must
	// not quote it.
	bad, err := env.secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("leak-bad"),
		SecretString: aws.String("user=sqlgate password=" + plant("password of a malformed secret"))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(env.clusterARN("default")),
		SecretArn: bad.ARN, Sql: aws.String("SELECT 1")})
	var ise *types.InvalidSecretException
	if !errors.As(err, &ise) {
		t.Errorf("malformed secret: %v, want InvalidSecretException", err)
	}
	note(err)

	// The Data API with that secret: success, SQL errors, transactions,
	// batches, on every engine (SQLite ignores the password; MariaDB
	// rejects it, PostgreSQL's trust auth accepts it).
	for _, cl := range []string{"default", "maria", "pg"} {
		arn := env.clusterARN(cl)
		exec := func(sql string, params ...types.SqlParameter) error {
			_, err := env.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: &arn, SecretArn: &secretARN,
				Sql: aws.String(sql), Parameters: params})
			note(err)
			return err
		}
		strParam := func(name, v string) types.SqlParameter {
			return types.SqlParameter{Name: aws.String(name), Value: &types.FieldMemberStringValue{Value: v}}
		}
		_ = exec("SELECT :p AS v", strParam("p", param(cl+" select parameter")))
		_ = exec("SELEC :p", strParam("p", param(cl+" parameter of a syntax error")))
		_ = exec("SELECT :p + :missing", strParam("p", param(cl+" parameter of a bad binding")))
		_ = exec("SELECT CAST(:p AS INTEGER)", strParam("p", param(cl+" parameter of a failing cast")))
		_, err := env.data.BatchExecuteStatement(ctx, &rdsdata.BatchExecuteStatementInput{ResourceArn: &arn, SecretArn: &secretARN,
			Sql: aws.String("SELECT :p"), ParameterSets: [][]types.SqlParameter{{strParam("p", param(cl+" batch parameter"))}}})
		note(err)
		b, err := env.data.BeginTransaction(ctx, &rdsdata.BeginTransactionInput{ResourceArn: &arn, SecretArn: &secretARN})
		note(err)
		if err == nil {
			_, err = env.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: &arn, SecretArn: &secretARN,
				TransactionId: b.TransactionId, Sql: aws.String("SELECT :p"), Parameters: []types.SqlParameter{strParam("p", param(cl+" transaction parameter"))}})
			note(err)
			_, err = env.data.RollbackTransaction(ctx, &rdsdata.RollbackTransactionInput{ResourceArn: &arn, SecretArn: &secretARN, TransactionId: b.TransactionId})
			note(err)
		}
		r := env.send(t, rawRequest{Path: "/Execute", Body: []byte(`{"resourceArn":"` + arn + `","secretArn":"leak-app","sql":"SELECT 1","parameters":[{"name":"p","value":{"stringValue":"` + param(cl+" malformed request parameter") + `"}`)})
		clientErrors = append(clientErrors, string(r.Body))
	}

	logs := env.logs.String()
	if !strings.Contains(logs, "request") {
		t.Fatalf("no access log captured: %q", logs)
	}
	for what, v := range planted {
		if strings.Contains(logs, v) {
			t.Errorf("the log holds the %s %s", what, v)
		}
		for _, msg := range clientErrors {
			if strings.HasPrefix(v, "PLANTED-") && strings.Contains(msg, v) {
				t.Errorf("an error message holds the %s: %s", what, msg)
			}
		}
	}
	if strings.Contains(logs, env.secretKey) {
		t.Error("the log holds the root secret access key")
	}

	// Every file of the data dir, the state store's WAL and shared memory
	// included, while the server runs.
	files := 0
	err = filepath.WalkDir(env.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for what, v := range planted {
			if strings.HasPrefix(v, "PLANTED-") && strings.Contains(string(b), v) {
				t.Errorf("%s holds the %s in clear", filepath.Base(path), what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 {
		t.Fatalf("only %d files in the data dir", files)
	}
}

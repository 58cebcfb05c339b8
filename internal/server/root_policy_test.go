package server

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sqlgate/sqlgate/internal/config"
)

// TestSecretResourcePolicy_denyBindsRoot: an explicit Deny in a secret's
// resource policy applies to the account's root key as to every other
// principal, through Secrets Manager and through the Data API reading the
// secret on the caller's behalf; other secrets and actions stay allowed.
func TestSecretResourcePolicy_denyBindsRoot(t *testing.T) {
	env := newTestEnv(t, configFor(dbTarget{cluster: config.Cluster{Name: "default", Engine: "sqlite"}}))
	ctx := context.Background()
	locked := env.createSecret(t, "locked", "sqlgate", "pw")
	const deny = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},` +
		`"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	if _, err := env.secrets.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String(locked),
		ResourcePolicy: aws.String(deny), BlockPublicPolicy: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	_, err := env.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(locked)})
	if code, _ := apiCode(err); code != "AccessDeniedException" {
		t.Fatalf("root GetSecretValue on a secret denying it: %v, want AccessDeniedException", err)
	}
	_, err = env.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(env.clusterARN("default")),
		SecretArn: aws.String(locked), Sql: aws.String("SELECT 1")})
	if err == nil {
		t.Fatal("the Data API read a secret whose resource policy denies the caller")
	}
	// Not denied: DescribeSecret on it, and another secret.
	if _, err := env.secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(locked)}); err != nil {
		t.Fatalf("DescribeSecret: %v", err)
	}
	if _, err := env.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(env.clusterARN("default")),
		SecretArn: aws.String(env.srv.defaultSecretARN), Sql: aws.String("SELECT 1")}); err != nil {
		t.Fatalf("other secret: %v", err)
	}
	// Root may still remove the policy, after which the secret reads again.
	if _, err := env.secrets.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String(locked)}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(locked)}); err != nil {
		t.Fatalf("after DeleteResourcePolicy: %v", err)
	}
}

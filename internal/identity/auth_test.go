package identity

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/sqlgate/sqlgate/internal/iam"
)

func TestAuthorizer_Authorize(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "fn")
	k := mustKey(t, s, "fn")
	if err := s.PutUserPolicy(ctx, "fn", "seed", seedPolicy); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		action, resource string
		allow            bool
	}{
		{"rds-data:ExecuteStatement", clusterDefault, true},
		{"rds-data:BatchExecuteStatement", clusterDefault, true},
		{"rds-data:BeginTransaction", clusterDefault, true},
		{"rds-data:CommitTransaction", clusterDefault, true},
		{"rds-data:RollbackTransaction", clusterDefault, true},
		{"secretsmanager:GetSecretValue", secretDefault, true},
		// Action names are case-insensitive on AWS.
		{"RDS-DATA:executestatement", clusterDefault, true},
		{"rds-data:ExecuteSql", clusterDefault, false},
		{"rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:other", false},
		{"rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:defaultx", false},
		{"rds-data:ExecuteStatement", "arn:aws:rds:eu-west-1:000000000000:cluster:default", false},
		{"rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:111111111111:cluster:default", false},
		// Resource ARNs are case-sensitive.
		{"rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:DEFAULT", false},
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:000000000000:secret:other-AbCdEf", false},
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:000000000000:secret:Default-AbCdEf", false},
		{"secretsmanager:DeleteSecret", secretDefault, false},
		{"secretsmanager:PutSecretValue", secretDefault, false},
		{"secretsmanager:CreateSecret", secretDefault, false},
		{"secretsmanager:ListSecrets", "*", false},
		{"iam:CreateUser", "arn:aws:iam::000000000000:user/x", false},
		{"sts:AssumeRole", "arn:aws:iam::000000000000:role/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.action+" "+tt.resource, func(t *testing.T) {
			err := authorizeAs(t, s, k.AccessKeyID, tt.action, tt.resource)
			if tt.allow && err != nil {
				t.Fatalf("denied: %v", err)
			}
			if !tt.allow {
				var ad *iam.AccessDeniedError
				if !errors.As(err, &ad) || ad.Action != tt.action || ad.Resource != tt.resource || ad.PrincipalARN != "arn:aws:iam::000000000000:user/fn" {
					t.Fatalf("got %v, want AccessDeniedError", err)
				}
			}
		})
	}
	t.Run("explicit deny", func(t *testing.T) {
		if err := s.PutUserPolicy(ctx, "fn", "deny", denyDoc("rds-data:BeginTransaction", "*")); err != nil {
			t.Fatal(err)
		}
		defer s.DeleteUserPolicy(ctx, "fn", "deny")
		if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:BeginTransaction", clusterDefault); err == nil {
			t.Fatal("explicit deny did not win")
		}
		if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("root", func(t *testing.T) {
		ctx := iam.WithPrincipal(ctx, &iam.Principal{ARN: "arn:aws:iam::000000000000:root", Root: true}, iam.RequestInfo{})
		if err := (Authorizer{Store: s.Store}).Authorize(ctx, "iam:CreateUser", "*"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no principal", func(t *testing.T) {
		if err := (Authorizer{Store: s.Store}).Authorize(ctx, "rds-data:ExecuteStatement", clusterDefault); err == nil {
			t.Fatal("anonymous request authorized")
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		p := &iam.Principal{ARN: "arn:aws:iam::000000000000:user/fn", AccessKeyID: "AKIAUNKNOWN000000000", UserName: "fn"}
		ctx := iam.WithPrincipal(ctx, p, iam.RequestInfo{})
		if err := (Authorizer{Store: s.Store}).Authorize(ctx, "rds-data:ExecuteStatement", clusterDefault); err == nil {
			t.Fatal("principal with unknown key authorized")
		}
	})
	t.Run("inactive key", func(t *testing.T) {
		p, err := s.Principal(ctx, k.AccessKeyID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateAccessKey(ctx, "fn", k.AccessKeyID, "Inactive"); err != nil {
			t.Fatal(err)
		}
		defer s.UpdateAccessKey(ctx, "fn", k.AccessKeyID, "Active")
		ctx := iam.WithPrincipal(ctx, p, iam.RequestInfo{})
		if err := (Authorizer{Store: s.Store}).Authorize(ctx, "rds-data:ExecuteStatement", clusterDefault); err == nil {
			t.Fatal("inactive key authorized")
		}
	})
	t.Run("condition keys", func(t *testing.T) {
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:ExecuteSql","Resource":"*",
			"Condition":{"StringEquals":{"aws:username":"fn"},"IpAddress":{"aws:SourceIp":"127.0.0.0/8"},"Bool":{"aws:SecureTransport":"false"}}}]}`
		if err := s.PutUserPolicy(ctx, "fn", "cond", doc); err != nil {
			t.Fatal(err)
		}
		if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteSql", clusterDefault); err != nil {
			t.Fatalf("conditions on username, source ip and transport: %v", err)
		}
	})
}

// TestStore_SealedAtRest checks that secret access keys and session tokens
// never reach the state database (or its WAL) in clear.
func TestStore_SealedAtRest(t *testing.T) {
	ctx := context.Background()
	s, alice, role := assumeFixture(t)
	k := mustKey(t, s, "alice")
	_, sess, err := s.AssumeRole(ctx, alice, AssumeInput{RoleARN: role.ARN, SessionName: "leak", Duration: 0})
	if err != nil {
		t.Fatal(err)
	}
	var dump []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(s.path + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		dump = append(dump, b...)
	}
	if !bytes.Contains(dump, []byte(k.AccessKeyID)) || !bytes.Contains(dump, []byte(sess.AccessKeyID)) {
		t.Fatal("access key ids not found in the dump: wrong file?")
	}
	for name, clear := range map[string]string{
		"access key secret": k.SecretAccessKey,
		"session secret":    sess.SecretAccessKey,
		"session token":     sess.SessionToken,
		"token body":        sess.SessionToken[4:40],
	} {
		if bytes.Contains(dump, []byte(clear)) {
			t.Errorf("%s found in clear in state.db", name)
		}
	}
}

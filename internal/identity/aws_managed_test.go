package identity

import (
	"context"
	"testing"

	"github.com/sqlgate/sqlgate/internal/iam"
)

func TestStore_AWSManagedPolicies(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "data")
	k := mustKey(t, s, "data")
	for _, p := range AWSManagedPolicies() {
		if _, err := iam.Parse([]byte(p.Versions[0].Document)); err != nil {
			t.Fatalf("%s: %v", p.PolicyName, err)
		}
	}
	const rdsData = AWSManagedPrefix + "AmazonRDSDataFullAccess"
	if err := s.AttachUserPolicy(ctx, "data", rdsData); err != nil {
		t.Fatal(err)
	}
	if err := s.AttachUserPolicy(ctx, "data", AWSManagedPrefix+"NoSuchPolicy"); !isNotFound(err) {
		t.Fatalf("unknown AWS policy: %v", err)
	}
	p, err := s.GetPolicy(ctx, rdsData)
	if err != nil || p.AttachmentCount != 1 || p.DefaultVersionID != "v1" {
		t.Fatalf("GetPolicy: %+v %v", p, err)
	}
	tests := []struct {
		action, resource string
		allow            bool
	}{
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:" + testAccount + ":secret:rds-db-credentials/cluster-1/app-AbCdEf", true},
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:" + testAccount + ":secret:app-db-AbCdEf", false},
		{"secretsmanager:CreateSecret", "arn:aws:secretsmanager:us-east-1:" + testAccount + ":secret:anything-AbCdEf", true},
		{"rds-data:ExecuteStatement", clusterDefault, true},
		{"iam:ListUsers", "*", false},
	}
	for _, tt := range tests {
		if err := authorizeAs(t, s, k.AccessKeyID, tt.action, tt.resource); (err == nil) != tt.allow {
			t.Errorf("%s %s: allowed=%v, want %v", tt.action, tt.resource, err == nil, tt.allow)
		}
	}
	if err := s.DeletePolicy(ctx, rdsData); err == nil {
		t.Fatal("deleted an AWS-managed policy")
	}
}

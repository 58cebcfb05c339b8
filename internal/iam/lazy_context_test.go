package iam

import (
	"context"
	"testing"
)

// TestEvaluate_LazyContext: the request context is built only when a
// policy reads a condition key or a policy variable, and then gives the
// same decision as an eager one.
func TestEvaluate_LazyContext(t *testing.T) {
	ctxKeys := map[string][]string{"aws:sourceip": {"10.1.2.3"}}
	tests := []struct {
		name, doc string
		wantBuilt bool
		want      Decision
	}{
		{"condition-free", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:*","Resource":"*"}]}`, false, DecisionAllow},
		{"condition", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:*","Resource":"*",
			"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, true, DecisionAllow},
		{"condition denies", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:*","Resource":"*",
			"Condition":{"IpAddress":{"aws:SourceIp":"192.168.0.0/16"}}}]}`, true, DecisionImplicitDeny},
		{"variable", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:*",
			"Resource":"arn:aws:rds:us-east-1:000000000000:cluster:${aws:username}"}]}`, true, DecisionImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.doc)
			built := 0
			req := &Request{Action: "rds-data:ExecuteStatement", Resource: clusterARN, Principal: bob,
				LazyContext: func() map[string][]string { built++; return ctxKeys }}
			got := Evaluate([]*Policy{p, p}, req).Decision
			if got != tt.want {
				t.Errorf("decision %v, want %v", got, tt.want)
			}
			if (built > 0) != tt.wantBuilt || built > 1 {
				t.Errorf("context built %d times, want built=%v (at most once)", built, tt.wantBuilt)
			}
			eager := Evaluate([]*Policy{p}, &Request{Action: req.Action, Resource: req.Resource, Principal: bob, Context: ctxKeys})
			if eager.Decision != got {
				t.Errorf("eager decision %v, lazy %v", eager.Decision, got)
			}
		})
	}
}

// WithConditionKeysFunc's keys are built only when the context is read,
// and then read like WithConditionKeys's.
func TestConditionKeysFunc(t *testing.T) {
	built := 0
	ctx := WithConditionKeysFunc(context.Background(), func() map[string][]string {
		built++
		return map[string][]string{"secretsmanager:resourcetag/stage": {"prod"}}
	})
	if built != 0 {
		t.Fatal("keys built before they were read")
	}
	if got := ConditionKeysFrom(ctx)["secretsmanager:resourcetag/stage"]; len(got) != 1 || got[0] != "prod" || built != 1 {
		t.Fatalf("got %v after %d builds", got, built)
	}
	if ConditionKeysFrom(context.Background()) != nil {
		t.Fatal("keys from a context without any")
	}
}

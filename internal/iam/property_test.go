package iam

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// Vocabulary for random policies and requests: small, so that random
// statements and requests actually meet.
var (
	propActions = []string{"rds-data:ExecuteStatement", "rds-data:BeginTransaction", "secretsmanager:GetSecretValue", "secretsmanager:DeleteSecret", "iam:CreateUser"}
	propActPats = []string{"*", "rds-data:*", "secretsmanager:Get*", "rds-data:*Transaction", "rds-data:?xecute*", "iam:createuser"}
	propRes     = []string{clusterARN, secretARN, "arn:aws:rds:us-east-1:000000000000:cluster:prod", "arn:aws:iam::000000000000:user/bob"}
	propResPats = []string{"*", "arn:aws:rds:*:*:cluster:*", "arn:aws:secretsmanager:*:*:secret:maria-*", "arn:aws:iam::*:user/${aws:username}", "arn:aws:rds:us-east-1:000000000000:cluster:mari?"}
	propConds   = []map[string]any{
		{"Bool": map[string]any{"aws:SecureTransport": "true"}},
		{"NotIpAddress": map[string]any{"aws:SourceIp": "10.0.0.0/8"}},
		{"StringEqualsIfExists": map[string]any{"aws:username": "bob"}},
		{"StringNotLike": map[string]any{"aws:username": "a*"}},
		{"DateLessThan": map[string]any{"aws:CurrentTime": "2026-06-01T00:00:00Z"}},
		{"Null": map[string]any{"aws:TokenIssueTime": "true"}},
		{"ForAnyValue:StringEquals": map[string]any{"aws:TagKeys": []string{"a", "b"}}},
		{"StringEquals": map[string]any{"aws:SourceIpp": "typo"}},
	}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func randomStatement(r *rand.Rand, effect string) map[string]any {
	st := map[string]any{"Effect": effect}
	actKey, resKey := "Action", "Resource"
	if r.IntN(4) == 0 {
		actKey = "NotAction"
	}
	if r.IntN(4) == 0 {
		resKey = "NotResource"
	}
	st[actKey] = []string{pick(r, append(propActions, propActPats...)), pick(r, propActPats)}
	st[resKey] = pick(r, append(propRes, propResPats...))
	if r.IntN(2) == 0 {
		cond := map[string]any{}
		for k, v := range pick(r, propConds) {
			cond[k] = v
		}
		st["Condition"] = cond
	}
	return st
}

func randomPolicy(t *testing.T, r *rand.Rand, extra ...map[string]any) *Policy {
	var stmts []any
	for range 1 + r.IntN(3) {
		effect := "Allow"
		if r.IntN(4) == 0 {
			effect = "Deny"
		}
		stmts = append(stmts, randomStatement(r, effect))
	}
	for _, e := range extra {
		stmts = append(stmts, e)
	}
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	p, err := Parse(doc)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

func randomRequest(r *rand.Rand) *Request {
	ctx := map[string][]string{}
	if r.IntN(2) == 0 {
		ctx["aws:securetransport"] = []string{pick(r, []string{"true", "false"})}
	}
	if r.IntN(2) == 0 {
		ctx["aws:sourceip"] = []string{pick(r, []string{"10.1.1.1", "192.0.2.1", "garbage"})}
	}
	if r.IntN(2) == 0 {
		ctx["aws:tagkeys"] = []string{"a", pick(r, []string{"b", "c"})}
	}
	ctx["aws:currenttime"] = []string{pick(r, []string{"2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"})}
	var p *Principal
	if r.IntN(3) > 0 {
		p = pick(r, []*Principal{bob, {ARN: "arn:aws:iam::000000000000:user/alice", UserName: "alice"}, {ARN: "arn:aws:sts::000000000000:assumed-role/app/s"}})
	}
	return &Request{Action: pick(r, propActions), Resource: pick(r, propRes), Principal: p, Context: ctx}
}

// TestEvaluate_DenyNeverGrants: adding a Deny statement (to an existing
// policy or as a new policy) never turns a denied request into an allowed
// one, and never changes an explicit deny.
func TestEvaluate_DenyNeverGrants(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	allowed := 0
	for i := range 5000 {
		seed := r.Uint64()
		base := randomPolicy(t, rand.New(rand.NewPCG(seed, 0)))
		deny := randomStatement(r, "Deny")
		withDeny := randomPolicy(t, rand.New(rand.NewPCG(seed, 0)), deny)
		denyDoc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": deny})
		denyPolicy := mustParse(t, string(denyDoc))
		req := randomRequest(r)
		before := Evaluate([]*Policy{base}, req)
		for _, ps := range [][]*Policy{{withDeny}, {base, denyPolicy}, {denyPolicy, base}} {
			after := Evaluate(ps, req)
			if after.Allowed() && !before.Allowed() || before.Decision == DecisionExplicitDeny && after.Decision != DecisionExplicitDeny {
				t.Fatalf("case %d: %v became %v after adding Deny %s\nrequest %+v", i, before.Decision, after.Decision, denyDoc, req)
			}
		}
		if before.Allowed() {
			allowed++
		}
	}
	if allowed == 0 {
		t.Fatal("no random request was ever allowed: the property was not exercised")
	}
	t.Logf("%d of 5000 base decisions were Allow", allowed)
}

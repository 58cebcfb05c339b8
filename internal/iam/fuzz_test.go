package iam

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(seedPolicy))
	f.Add([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::*:user/${aws:username, 'x'}${*}","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*?",1,true]},"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},"DateLessThan":{"aws:CurrentTime":"2026-01-01"},"NumericGreaterThan":{"x:n":"1.5"},"Null":{"aws:TokenIssueTime":true},"ArnNotLike":{"aws:SourceArn":"arn:*"}}}}`))
	f.Add([]byte(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::${"}]}`))
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`))
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[]}`))
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Effect":"Allow"}]}`))
	f.Add([]byte(`[`))
	f.Add([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"rds-data:*","Resource":"arn:aws:rds:*:*:cluster:a*a*a*a*a*a*a*b","Condition":{"StringLike":{"aws:username":"${aws:userid}*?"}}}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		for _, parse := range []func([]byte) (*Policy, error){Parse, ParseResourcePolicy, ParseTrustPolicy} {
			p, err := parse(doc)
			if err != nil {
				continue
			}
			if string(p.Document()) != string(doc) {
				t.Fatal("Document() differs from input")
			}
			r := rand.New(rand.NewPCG(uint64(len(doc)), 7))
			for range 4 {
				req := randomRequest(r)
				Evaluate([]*Policy{p}, req)
				req.Action = "sts:AssumeRole"
				Evaluate([]*Policy{p}, req)
			}
		}
	})
}

// FuzzEvaluate checks, for any policy and any Deny condition, that the
// evaluator never panics and that adding the Deny (as another policy,
// before or after, or as another statement of the same policy) never turns
// a denied request into an allowed one nor an explicit Deny into anything
// else.
func FuzzEvaluate(f *testing.F) {
	for i, r := range condRows {
		f.Add(r.doc(r.statement("Allow")), fmt.Sprintf(`{%q:{%q:%s}}`, r.op, r.key, r.values), uint64(i))
	}
	f.Add(anyDoc, `{"StringEquals":{"aws:SourceIpp":"x"}}`, uint64(7))
	f.Add(seedPolicy, `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, uint64(9))
	f.Fuzz(func(t *testing.T, doc, cond string, seed uint64) {
		p, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		stmt := `{"Effect":"Deny","Action":"*","Resource":"*","Condition":` + cond + `}`
		d, err := Parse([]byte(`{"Version":"2012-10-17","Statement":` + stmt + `}`))
		if err != nil {
			stmt = `{"Effect":"Deny","Action":"secretsmanager:*","Resource":"*"}`
			d = mustParse(t, `{"Version":"2012-10-17","Statement":`+stmt+`}`)
		}
		sets := [][]*Policy{{p, d}, {d, p}}
		if merged, ok := withStatement(p, stmt); ok {
			sets = append(sets, []*Policy{merged})
		}
		r := rand.New(rand.NewPCG(seed, 1))
		for range 8 {
			req := randomRequest(r)
			row := condRows[r.IntN(len(condRows))]
			if row.req != nil {
				req.Context[lowerASCII(row.key)] = row.req
			}
			if r.IntN(2) == 0 {
				req.Action = pick(r, []string{"secretsmanager:GetSecretValue", "iam:AttachUserPolicy", "secretsmanager:CreateSecret", "rds-data:ExecuteStatement"})
			}
			before := Evaluate([]*Policy{p}, req)
			if strings.HasPrefix(before.Statement, "BUG") {
				t.Fatalf("evaluation panicked: %s on %+v", doc, req)
			}
			for _, ps := range sets {
				after := Evaluate(ps, req)
				if strings.HasPrefix(after.Statement, "BUG") {
					t.Fatalf("evaluation panicked with Deny %s", stmt)
				}
				if after.Allowed() && !before.Allowed() || before.Decision == DecisionExplicitDeny && after.Decision != DecisionExplicitDeny {
					t.Fatalf("%v became %v after adding Deny %s to %s\nrequest %+v", before.Decision, after.Decision, stmt, doc, req)
				}
			}
		}
	})
}

// withStatement returns p with stmt appended to its statements.
func withStatement(p *Policy, stmt string) (*Policy, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(p.Document(), &m) != nil {
		return nil, false
	}
	var list []json.RawMessage
	if s := m["Statement"]; len(s) > 0 && s[0] == '[' {
		if json.Unmarshal(s, &list) != nil {
			return nil, false
		}
	} else {
		list = []json.RawMessage{s}
	}
	m["Statement"], _ = json.Marshal(append(list, json.RawMessage(stmt)))
	doc, _ := json.Marshal(m)
	merged, err := ParseKind(doc, p.kind)
	return merged, err == nil
}

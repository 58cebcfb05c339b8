package iam

import (
	"math/rand/v2"
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

package iam

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// seedPolicy is the seed's least-privilege Data API policy, verbatim.
const seedPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rds-data:ExecuteStatement","rds-data:BatchExecuteStatement","rds-data:BeginTransaction","rds-data:CommitTransaction","rds-data:RollbackTransaction"],"Resource":"arn:aws:rds:us-east-1:000000000000:cluster:maria"},{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":"arn:aws:secretsmanager:us-east-1:000000000000:secret:maria-app-*"}]}`

func TestParse(t *testing.T) {
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":` + s + `}` }
	tests := []struct {
		name, doc string
		wantErr   string // "" means valid
	}{
		{"seed", seedPolicy, ""},
		{"statement object", stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`), ""},
		{"no version", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, ""},
		{"2008 version", `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, ""},
		{"id and sid", `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"A1","Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::000000000000:user/${aws:username}"}]}`, ""},
		{"condition forms", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*",1,true]},"NumericLessThan":{"x:n":10},"Bool":{"aws:SecureTransport":false}}}`), ""},
		{"bad json", `{"Version":`, "invalid JSON"},
		{"trailing data", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`) + `{}`, "trailing data"},
		{"not object", `[]`, "must be a JSON object"},
		{"bad version", `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "Version: must be"},
		{"unknown top element", `{"Version":"2012-10-17","Statment":[]}`, `unknown element "Statment"`},
		{"missing statement", `{"Version":"2012-10-17"}`, "Statement: missing"},
		{"empty statements", stmt(`[]`), "must not be empty"},
		{"bad effect", stmt(`[{"Effect":"allow","Action":"*","Resource":"*"}]`), `Statement[0].Effect: must be "Allow" or "Deny"`},
		{"missing effect", stmt(`[{"Action":"*","Resource":"*"}]`), "missing Effect"},
		{"duplicate key", stmt(`[{"Effect":"Deny","Effect":"Allow","Action":"*","Resource":"*"}]`), `duplicate element "Effect"`},
		{"action and notaction", stmt(`[{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}]`), "both Action and NotAction"},
		{"no action", stmt(`[{"Effect":"Allow","Resource":"*"}]`), "missing Action"},
		{"resource and notresource", stmt(`[{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}]`), "both Resource and NotResource"},
		{"no resource", stmt(`[{"Effect":"Allow","Action":"*"}]`), "missing Resource"},
		{"principal in identity", stmt(`[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]`), "Principal: not allowed in an identity policy"},
		{"unknown statement element", stmt(`[{"Effect":"Allow","Action":"*","Resource":"*","Conditions":{}}]`), `unknown element "Conditions"`},
		{"bad action", stmt(`[{"Effect":"Allow","Action":"ExecuteStatement","Resource":"*"}]`), "invalid action"},
		{"wildcard service", stmt(`[{"Effect":"Allow","Action":"*:Get","Resource":"*"}]`), "invalid action"},
		{"action number", stmt(`[{"Effect":"Allow","Action":5,"Resource":"*"}]`), "must be a string or an array of strings"},
		{"empty action list", stmt(`[{"Effect":"Allow","Action":[],"Resource":"*"}]`), "must not be empty"},
		{"bad resource", stmt(`[{"Effect":"Allow","Action":"*","Resource":"cluster:maria"}]`), "must be an ARN"},
		{"unknown operator", stmt(`[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}]`), `Statement[1].Condition: unknown operator "StringEqualz"`},
		{"null ifexists", stmt(`[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}]`), "unknown operator"},
		{"bad bool", stmt(`[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}]`), "is not a boolean"},
		{"bad ip", stmt(`[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"300.1.1.1/8"}}}]`), "not an IP address"},
		{"bad date", stmt(`[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}]`), "not a date"},
		{"bad number", stmt(`[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"x:n":"ten"}}}]`), "not a number"},
		{"object value", stmt(`[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}]`), "values must be strings"},
		{"null value", stmt(`[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":null}}}]`), "values must be strings"},
		{"bad key", stmt(`[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"username":"a"}}}]`), "invalid condition key"},
		{"unterminated variable", stmt(`[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username"}]`), "unterminated policy variable"},
		{"bad default", stmt(`[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username, x}"}]`), "single quotes"},
		{"duplicate sid", stmt(`[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"}]`), "duplicate Sid"},
		{"sid chars", stmt(`[{"Sid":"a-b","Effect":"Allow","Action":"*","Resource":"*"}]`), "only letters and digits"},
		{"not utf8", "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:aws:s3:::\xff\"}}", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.doc))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !bytes.Equal(p.Document(), []byte(tt.doc)) {
					t.Error("Document() is not the original")
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.wantErr)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestParse_Size(t *testing.T) {
	big := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::` + strings.Repeat("x", MaxRoleInlinePolicySize) + `"}}`
	if _, err := Parse([]byte(big)); !errors.Is(err, ErrPolicyTooLarge) {
		t.Errorf("Parse(big) = %v, want ErrPolicyTooLarge", err)
	}
	// White space is not counted, as in IAM.
	spaced := strings.ReplaceAll(seedPolicy, ",", ",\n"+strings.Repeat(" ", 200))
	if err := CheckSize([]byte(spaced), MaxUserInlinePolicySize); err != nil {
		t.Errorf("CheckSize(spaced seed): %v", err)
	}
	if got, want := PolicySize([]byte(spaced)), PolicySize([]byte(seedPolicy)); got != want {
		t.Errorf("PolicySize = %d, want %d", got, want)
	}
	if err := CheckSize([]byte(seedPolicy), 100); !errors.Is(err, ErrPolicyTooLarge) {
		t.Errorf("CheckSize(seed, 100) = %v, want ErrPolicyTooLarge", err)
	}
}

func TestParseTrustPolicy(t *testing.T) {
	tests := []struct {
		name, doc string
		wantErr   string
	}{
		{"aws principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::000000000000:user/fn","000000000000"]},"Action":"sts:AssumeRole"}]}`, ""},
		{"service principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`, ""},
		{"star", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, ""},
		{"no principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, "missing Principal"},
		{"resource", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`, "not allowed in a trust policy"},
		{"non-sts action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`, "only sts actions"},
		{"partial wildcard principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/*"},"Action":"sts:AssumeRole"}]}`, "invalid AWS principal"},
		{"bad principal type", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Group":"x"},"Action":"sts:AssumeRole"}]}`, "unknown principal type"},
		{"not principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"000000000000"},"Action":"sts:AssumeRole"}]}`, "not allowed in a trust policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTrustPolicy([]byte(tt.doc))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("ParseTrustPolicy: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ParseTrustPolicy = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

package iam

import (
	"strings"
	"testing"
)

// TestCondition_Eval checks every operator against present, absent and
// multivalued keys. Each case is a one-statement Allow policy with one
// condition; want is whether it allows.
func TestCondition_Eval(t *testing.T) {
	type tc struct {
		op, key, vals string // vals is the JSON value in the policy
		ctx           []string
		missing       bool
		want          tri
	}
	tests := []tc{
		// String
		{"StringEquals", "aws:username", `"bob"`, []string{"bob"}, false, yes},
		{"StringEquals", "aws:username", `"bob"`, []string{"Bob"}, false, no},
		{"StringEquals", "aws:username", `["alice","bob"]`, []string{"bob"}, false, yes}, // values ORed
		{"StringEquals", "aws:username", `"bob"`, nil, true, no},
		{"StringEquals", "aws:username", `"b*"`, []string{"bob"}, false, no}, // no wildcards
		{"StringNotEquals", "aws:username", `"bob"`, []string{"alice"}, false, yes},
		{"StringNotEquals", "aws:username", `["alice","bob"]`, []string{"bob"}, false, no}, // NOR
		{"StringNotEquals", "aws:username", `"bob"`, nil, true, yes},                       // negated, missing: true
		{"StringEqualsIfExists", "aws:username", `"bob"`, nil, true, yes},
		{"StringEqualsIfExists", "aws:username", `"bob"`, []string{"eve"}, false, no},
		{"StringNotEqualsIfExists", "aws:username", `"bob"`, []string{"bob"}, false, no},
		{"StringEqualsIgnoreCase", "aws:username", `"BOB"`, []string{"bob"}, false, yes},
		{"StringNotEqualsIgnoreCase", "aws:username", `"BOB"`, []string{"bob"}, false, no},
		{"StringNotEqualsIgnoreCase", "aws:username", `"BOB"`, nil, true, yes},
		{"StringLike", "aws:username", `"b?b*"`, []string{"bobby"}, false, yes},
		{"StringLike", "aws:username", `"b?b"`, []string{"bobby"}, false, no},
		{"StringLike", "aws:username", `"b*"`, nil, true, no},
		{"StringNotLike", "aws:username", `"a*"`, []string{"bob"}, false, yes},
		{"StringNotLike", "aws:username", `"b*"`, []string{"bob"}, false, no},
		{"StringNotLike", "aws:username", `"b*"`, nil, true, yes},
		{"StringLikeIfExists", "aws:username", `"b*"`, nil, true, yes},
		{"StringNotLikeIfExists", "aws:username", `"b*"`, []string{"bob"}, false, no},
		{"StringEquals", "aws:username", `"${aws:userid}"`, []string{"AIDA1"}, false, unknown}, // unresolvable variable
		{"StringEquals", "aws:username", `"${aws:userid, 'AIDA1'}"`, []string{"AIDA1"}, false, yes},
		// ARN
		{"ArnEquals", "aws:sourcearn", `"arn:aws:rds:us-east-1:000000000000:cluster:maria"`, []string{clusterARN}, false, yes},
		{"ArnLike", "aws:sourcearn", `"arn:aws:rds:*:*:cluster:*"`, []string{clusterARN}, false, yes},
		{"ArnLike", "aws:sourcearn", `"arn:aws:rds:*:*:cluster:*"`, []string{"arn:aws:rds:us-east-1:000000000000:db:x"}, false, no},
		{"ArnLike", "aws:sourcearn", `"arn:aws:rds:*:*:cluster:*"`, nil, true, no},
		{"ArnNotEquals", "aws:sourcearn", `"arn:aws:rds:*:*:cluster:maria"`, []string{clusterARN}, false, no},
		{"ArnNotLike", "aws:sourcearn", `"arn:aws:rds:*:*:cluster:x*"`, []string{clusterARN}, false, yes},
		{"ArnNotLike", "aws:sourcearn", `"arn:aws:rds:*:*:cluster:x*"`, nil, true, yes},
		{"ArnLikeIfExists", "aws:sourcearn", `"arn:aws:rds:*:*:cluster:x*"`, nil, true, yes},
		{"ArnNotLikeIfExists", "aws:sourcearn", `"arn:aws:rds:*:*:cluster:*"`, []string{clusterARN}, false, no},
		{"ArnLike", "aws:principalarn", `"arn:aws:iam::*:user/${aws:username, 'bob'}"`, []string{"arn:aws:iam::000000000000:user/bob"}, false, yes},
		// Bool
		{"Bool", "aws:securetransport", `"true"`, []string{"true"}, false, yes},
		{"Bool", "aws:securetransport", `true`, []string{"TRUE"}, false, yes},
		{"Bool", "aws:securetransport", `"true"`, []string{"false"}, false, no},
		{"Bool", "aws:securetransport", `"false"`, nil, true, no},
		{"BoolIfExists", "aws:securetransport", `"false"`, nil, true, yes},
		{"Bool", "aws:securetransport", `"true"`, []string{"maybe"}, false, unknown},
		// IP
		{"IpAddress", "aws:sourceip", `"10.0.0.0/8"`, []string{"10.1.2.3"}, false, yes},
		{"IpAddress", "aws:sourceip", `"10.0.0.1"`, []string{"10.0.0.1"}, false, yes},
		{"IpAddress", "aws:sourceip", `"2001:db8::/32"`, []string{"2001:db8::1"}, false, yes},
		{"IpAddress", "aws:sourceip", `"10.0.0.0/8"`, []string{"11.0.0.1"}, false, no},
		{"IpAddress", "aws:sourceip", `"10.0.0.0/8"`, nil, true, no},
		{"NotIpAddress", "aws:sourceip", `"10.0.0.0/8"`, []string{"11.0.0.1"}, false, yes},
		{"NotIpAddress", "aws:sourceip", `"10.0.0.0/8"`, []string{"10.0.0.1"}, false, no},
		{"NotIpAddress", "aws:sourceip", `"10.0.0.0/8"`, nil, true, yes},
		{"IpAddressIfExists", "aws:sourceip", `"10.0.0.0/8"`, nil, true, yes},
		{"NotIpAddressIfExists", "aws:sourceip", `"10.0.0.0/8"`, []string{"10.0.0.1"}, false, no},
		// Date
		{"DateEquals", "aws:currenttime", `"2026-01-01T00:00:00Z"`, []string{"2026-01-01T00:00:00Z"}, false, yes},
		{"DateEquals", "aws:currenttime", `"2026-01-01T00:00:00Z"`, []string{"2026-01-01T01:00:00+01:00"}, false, yes},
		{"DateEquals", "aws:currenttime", `"1767225600"`, []string{"2026-01-01T00:00:00Z"}, false, yes}, // epoch seconds
		{"DateNotEquals", "aws:currenttime", `"2026-01-01T00:00:00Z"`, []string{"2026-01-02T00:00:00Z"}, false, yes},
		{"DateNotEquals", "aws:currenttime", `"2026-01-01T00:00:00Z"`, []string{"2026-01-01T00:00:00Z"}, false, no},
		{"DateLessThan", "aws:currenttime", `"2026-01-01"`, []string{"2025-12-31T23:59:59Z"}, false, yes},
		{"DateLessThan", "aws:currenttime", `"2026-01-01"`, []string{"2026-01-01T00:00:00Z"}, false, no},
		{"DateLessThanEquals", "aws:currenttime", `"2026-01-01"`, []string{"2026-01-01T00:00:00Z"}, false, yes},
		{"DateGreaterThan", "aws:currenttime", `"2026-01-01"`, []string{"2026-01-01T00:00:01Z"}, false, yes},
		{"DateGreaterThan", "aws:currenttime", `"2026-01-01"`, []string{"2026-01-01T00:00:00Z"}, false, no},
		{"DateGreaterThanEquals", "aws:currenttime", `"2026-01-01"`, []string{"2026-01-01T00:00:00Z"}, false, yes},
		{"DateGreaterThan", "aws:tokenissuetime", `"2026-01-01"`, nil, true, no},
		{"DateNotEquals", "aws:tokenissuetime", `"2026-01-01"`, nil, true, yes},
		{"DateGreaterThanIfExists", "aws:tokenissuetime", `"2026-01-01"`, nil, true, yes},
		{"DateLessThan", "aws:currenttime", `"2026-01-01"`, []string{"soon"}, false, unknown},
		// Numeric
		{"NumericEquals", "aws:multifactorauthage", `10`, []string{"10"}, false, yes},
		{"NumericEquals", "aws:multifactorauthage", `"10"`, []string{"10.0"}, false, yes},
		{"NumericNotEquals", "aws:multifactorauthage", `10`, []string{"11"}, false, yes},
		{"NumericNotEquals", "aws:multifactorauthage", `10`, nil, true, yes},
		{"NumericLessThan", "aws:multifactorauthage", `3600`, []string{"100"}, false, yes},
		{"NumericLessThan", "aws:multifactorauthage", `3600`, []string{"3600"}, false, no},
		{"NumericLessThanEquals", "aws:multifactorauthage", `3600`, []string{"3600"}, false, yes},
		{"NumericGreaterThan", "aws:multifactorauthage", `3600`, []string{"3601"}, false, yes},
		{"NumericGreaterThan", "aws:multifactorauthage", `3600`, nil, true, no},
		{"NumericGreaterThanEquals", "aws:multifactorauthage", `3600`, []string{"3600"}, false, yes},
		{"NumericLessThanIfExists", "aws:multifactorauthage", `3600`, nil, true, yes},
		{"NumericLessThan", "aws:multifactorauthage", `3600`, []string{"NaN"}, false, unknown},
		// Null
		{"Null", "aws:tokenissuetime", `"true"`, nil, true, yes},
		{"Null", "aws:tokenissuetime", `"true"`, []string{"2026-01-01T00:00:00Z"}, false, no},
		{"Null", "aws:tokenissuetime", `"false"`, []string{"2026-01-01T00:00:00Z"}, false, yes},
		{"Null", "aws:tokenissuetime", `false`, nil, true, no},
		// Set qualifiers over a multivalued key
		{"ForAllValues:StringEquals", "aws:tagkeys", `["a","b"]`, []string{"a", "b"}, false, yes},
		{"ForAllValues:StringEquals", "aws:tagkeys", `["a","b"]`, []string{"a", "c"}, false, no},
		{"ForAllValues:StringEquals", "aws:tagkeys", `["a","b"]`, nil, true, yes}, // empty set: true
		{"ForAnyValue:StringEquals", "aws:tagkeys", `["a","b"]`, []string{"x", "b"}, false, yes},
		{"ForAnyValue:StringEquals", "aws:tagkeys", `["a","b"]`, []string{"x", "y"}, false, no},
		{"ForAnyValue:StringEquals", "aws:tagkeys", `["a","b"]`, nil, true, no}, // empty set: false
		{"ForAnyValue:StringEqualsIfExists", "aws:tagkeys", `"a"`, nil, true, yes},
		{"ForAllValues:StringNotEquals", "aws:tagkeys", `["a"]`, []string{"x", "y"}, false, yes},
		{"ForAllValues:StringNotEquals", "aws:tagkeys", `["a"]`, []string{"x", "a"}, false, no},
		{"ForAnyValue:StringNotEquals", "aws:tagkeys", `["a"]`, []string{"x", "a"}, false, yes},
		{"ForAnyValue:StringNotEquals", "aws:tagkeys", `["a"]`, []string{"a"}, false, no},
		{"ForAllValues:StringLike", "aws:tagkeys", `"team-*"`, []string{"team-a", "team-b"}, false, yes},
		{"ForAnyValue:StringNotLike", "aws:tagkeys", `"team-*"`, []string{"team-a", "owner"}, false, yes},
		// Multivalued key without qualifier: any value matches / none matches.
		{"StringEquals", "aws:tagkeys", `"a"`, []string{"x", "a"}, false, yes},
		{"StringNotEquals", "aws:tagkeys", `"a"`, []string{"x", "a"}, false, no},
		// Unknown keys fail closed when absent, evaluate normally when present.
		{"StringEquals", "aws:sourceipp", `"x"`, nil, true, unknown},
		{"StringNotEquals", "aws:sourceipp", `"x"`, nil, true, unknown},
		{"StringEqualsIfExists", "aws:sourceipp", `"x"`, nil, true, unknown},
		{"Null", "aws:sourceipp", `"true"`, nil, true, unknown},
		{"StringEquals", "rds-data:database", `"app"`, []string{"app"}, false, yes},
		// Keys are case-insensitive; tag-style keys are known.
		{"StringEquals", "AWS:UserName", `"bob"`, []string{"bob"}, false, yes},
		{"StringEquals", "secretsmanager:ResourceTag/Team", `"db"`, nil, true, no},
		{"StringEquals", "aws:ResourceTag/team", `"db"`, []string{"db"}, false, yes},
	}
	for _, tt := range tests {
		name := tt.op + " " + tt.key + " " + tt.vals + " " + strings.Join(tt.ctx, ",")
		t.Run(name, func(t *testing.T) {
			doc := `{"Version":"2012-10-17","Statement":[{"Effect":"%s","Action":"*","Resource":"*","Condition":{"` + tt.op + `":{"` + tt.key + `":` + tt.vals + `}}}]}`
			ctx := map[string][]string{}
			if !tt.missing {
				ctx[strings.ToLower(tt.key)] = tt.ctx
			}
			req := &Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: ctx}
			allow := mustParse(t, strings.Replace(doc, "%s", "Allow", 1))
			deny := mustParse(t, strings.Replace(doc, "%s", "Deny", 1))
			allowAll := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
			gotAllow := Evaluate([]*Policy{allow}, req).Decision
			gotDeny := Evaluate([]*Policy{allowAll, deny}, req).Decision
			// yes: Allow allows, Deny denies. no: Allow does not, Deny does not.
			// unknown: fail closed both ways.
			wantAllow, wantDeny := DecisionImplicitDeny, DecisionAllow
			switch tt.want {
			case yes:
				wantAllow, wantDeny = DecisionAllow, DecisionExplicitDeny
			case unknown:
				wantDeny = DecisionExplicitDeny
			}
			if gotAllow != wantAllow || gotDeny != wantDeny {
				t.Errorf("as Allow: %v (want %v); as Deny: %v (want %v)", gotAllow, wantAllow, gotDeny, wantDeny)
			}
		})
	}
}

// TestCondition_MultipleKeys: keys within one operator and operators within
// one Condition are ANDed.
func TestCondition_MultipleKeys(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"bob","aws:principalaccount":"000000000000"},"Bool":{"aws:securetransport":"true"}}}}`)
	for _, tc := range []struct {
		ctx  map[string][]string
		want Decision
	}{
		{map[string][]string{"aws:securetransport": {"true"}}, DecisionAllow},
		{map[string][]string{"aws:securetransport": {"false"}}, DecisionImplicitDeny},
		{map[string][]string{"aws:securetransport": {"true"}, "aws:username": {"eve"}}, DecisionImplicitDeny},
		{map[string][]string{"aws:securetransport": {"true"}, "aws:principalaccount": {"111111111111"}}, DecisionImplicitDeny},
	} {
		if got := Evaluate([]*Policy{p}, &Request{Action: "s3:GetObject", Resource: "*", Principal: bob, Context: tc.ctx}); got.Decision != tc.want {
			t.Errorf("ctx %v: %v, want %v", tc.ctx, got.Decision, tc.want)
		}
	}
}

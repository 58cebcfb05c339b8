package iamapi

import (
	"strings"
	"testing"
)

// FuzzHandle feeds arbitrary form bodies to both services: Handle never
// panics, and answers 200 with an <ActionResponse> or an XML ErrorResponse
// whose code matches the returned outcome.
func FuzzHandle(f *testing.F) {
	seeds := []struct {
		sts  bool
		body string
	}{
		{false, query("iam", "CreateUser", "UserName=bob&Path=%2Fa%2F&Tags.member.1.Key=k&Tags.member.1.Value=v")},
		{false, query("iam", "CreateAccessKey", "UserName=bob")},
		{false, query("iam", "PutUserPolicy", "UserName=bob&PolicyName=p&PolicyDocument="+enc(userPolicy))},
		{false, query("iam", "ListUsers", "MaxItems=1&Marker=YWJj")},
		{false, query("iam", "CreateRole", "RoleName=r&AssumeRolePolicyDocument="+enc(trustPolicy))},
		{false, query("iam", "SimulatePrincipalPolicy", "PolicySourceArn="+enc(acct+"user/bob")+"&ActionNames.member.1=s3:GetObject&ContextEntries.member.1.ContextKeyName=aws:SourceIp&ContextEntries.member.1.ContextKeyValues.member.1=1.2.3.4")},
		{true, query("sts", "AssumeRole", "RoleArn="+enc(acct+"role/r")+"&RoleSessionName=s&DurationSeconds=900")},
		{true, query("sts", "GetCallerIdentity", "")},
		{true, query("sts", "AssumeRole", "RoleArn="+enc(acct+"role/r")+"&RoleSessionName=s1&ExternalId=ab&SourceIdentity=me&Tags.member.1.Key=k&Tags.member.1.Value=v&TransitiveTagKeys.member.1=k&Policy="+enc(userPolicy)+"&PolicyArns.member.1.arn="+enc(acct+"policy/p"))},
		{false, query("iam", "TagUser", "UserName=bob&Tags.member.1.Key=k&Tags.member.1.Value=v")},
		{false, query("iam", "UntagRole", "RoleName=r&TagKeys.member.1=k")},
		{false, query("iam", "ListPolicyTags", "PolicyArn="+enc(acct+"policy/p"))},
		{false, "Action=GetUser&UserName=%ff%fe"},
		{false, "Action=CreateUser&UserName=\x00"},
	}
	for _, s := range seeds {
		f.Add(s.sts, s.body)
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, sts bool, body string) {
		svc := "iam"
		if sts {
			svc = "sts"
		}
		r := e.call(t, svc, nil, body) // fails the test unless the body is XML
		switch {
		case r.status == 200:
			if r.outcome != "OK" {
				t.Fatalf("200 with outcome %q", r.outcome)
			}
			for path := range r.flat {
				if !strings.HasSuffix(strings.SplitN(path, "/", 2)[0], "Response") {
					t.Fatalf("unexpected root in %s", r.raw)
				}
			}
		case r.status >= 400 && r.status < 600:
			code := r.flat["ErrorResponse/Error/Code"]
			if code == "" || code != r.outcome {
				t.Fatalf("status %d, code %q, outcome %q: %s", r.status, code, r.outcome, r.raw)
			}
			if r.status >= 500 {
				t.Fatalf("internal failure on input %q: %s", body, r.raw)
			}
		default:
			t.Fatalf("status %d", r.status)
		}
	})
}

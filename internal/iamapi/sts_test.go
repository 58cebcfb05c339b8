package iamapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/door"
	"github.com/sqlgate/sqlgate/internal/iam"
)

func TestAPI_STS(t *testing.T) {
	e := newEnv(t)
	roleARN := acct + "role/app"
	bobTrust := strings.Replace(trustPolicy, acct+"root", acct+"user/bob", 1)
	e.call(t, "iam", nil, query("iam", "CreateUser", "UserName=bob"))
	e.call(t, "iam", nil, query("iam", "CreateRole", "RoleName=app&AssumeRolePolicyDocument="+enc(trustPolicy)))
	e.call(t, "iam", nil, query("iam", "CreateRole", "RoleName=long&MaxSessionDuration=43200&AssumeRolePolicyDocument="+enc(bobTrust)))
	e.authz.allow[bobPrincipal.ARN+" sts:AssumeRole"] = true
	e.authz.allow[rolePrincipal.ARN+" sts:AssumeRole"] = true
	denied := func(who, role string) string {
		return "User: " + who + " is not authorized to perform: sts:AssumeRole on resource: " + role
	}
	runSteps(t, e, []step{
		{name: "caller root", service: "sts", action: "GetCallerIdentity", status: 200,
			want: map[string]string{"UserId": testAccount, "Account": testAccount, "Arn": acct + "root"}},
		{name: "caller role session", service: "sts", as: rolePrincipal, action: "GetCallerIdentity", status: 200,
			want: map[string]string{"UserId": "AROAEXAMPLE:s1", "Arn": rolePrincipal.ARN}},
		{name: "assume", service: "sts", action: "AssumeRole", params: "RoleArn=" + enc(roleARN) + "&RoleSessionName=s1", status: 200,
			authz: "sts:AssumeRole " + roleARN,
			want: map[string]string{"Credentials/AccessKeyId": "*", "Credentials/SecretAccessKey": "*", "Credentials/SessionToken": "*",
				"Credentials/Expiration": "2026-11-29T10:00:00Z", "AssumedRoleUser/Arn": "arn:aws:sts::" + testAccount + ":assumed-role/app/s1",
				"AssumedRoleUser/AssumedRoleId": "AROA00000000000000002:s1"}},
		{name: "assume long", service: "sts", as: bobPrincipal, action: "AssumeRole", params: "RoleArn=" + enc(acct+"role/long") + "&RoleSessionName=s2&DurationSeconds=43200", status: 200,
			want: map[string]string{"Credentials/Expiration": "2026-11-29T21:00:00Z"}},
		{name: "beyond role max", service: "sts", action: "AssumeRole", params: "RoleArn=" + enc(roleARN) + "&RoleSessionName=s1&DurationSeconds=7200", status: 400,
			code: "ValidationError", msg: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{name: "too short", service: "sts", action: "AssumeRole", params: "RoleArn=" + enc(roleARN) + "&RoleSessionName=s1&DurationSeconds=60", status: 400,
			code: "ValidationError", msg: "1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{name: "bad session name", service: "sts", action: "AssumeRole", params: "RoleArn=" + enc(roleARN) + "&RoleSessionName=a+b", status: 400, code: "ValidationError"},
		{name: "missing params", service: "sts", action: "AssumeRole", status: 400, code: "ValidationError",
			msg: "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"},
		{name: "session policy", service: "sts", action: "AssumeRole", params: "RoleArn=" + enc(roleARN) + "&RoleSessionName=s1&Policy=" + enc(userPolicy), status: 200},
		{name: "session policy too long", service: "sts", action: "AssumeRole", params: "RoleArn=" + enc(roleARN) + "&RoleSessionName=s1&Policy=" + enc(userPolicy+strings.Repeat(" ", 2048)), status: 400, code: "ValidationError"},
		{name: "transitive key not a tag", service: "sts", action: "AssumeRole", params: "RoleArn=" + enc(roleARN) + "&RoleSessionName=s1&Tags.member.1.Key=a&Tags.member.1.Value=b&TransitiveTagKeys.member.1=c", status: 400, code: "ValidationError"},
		{name: "missing role", service: "sts", action: "AssumeRole", params: "RoleArn=" + enc(acct+"role/nope") + "&RoleSessionName=s1", status: 403,
			code: "AccessDenied", msg: denied(acct+"root", acct+"role/nope")},
		{name: "trust does not name caller", service: "sts", as: bobPrincipal, action: "AssumeRole", params: "RoleArn=" + enc(roleARN) + "&RoleSessionName=s1", status: 403,
			code: "AccessDenied", msg: denied(acct+"user/bob", roleARN)},
		{name: "identity policy denies", service: "sts", as: &iam.Principal{ARN: acct + "user/eve", UserName: "eve"}, action: "AssumeRole",
			params: "RoleArn=" + enc(roleARN) + "&RoleSessionName=s1", status: 403, code: "AccessDenied", msg: denied(acct+"user/eve", roleARN)},
		{name: "role chaining limit", service: "sts", as: rolePrincipal, action: "AssumeRole",
			params: "RoleArn=" + enc(acct+"role/long") + "&RoleSessionName=s1&DurationSeconds=7200", status: 400, code: "ValidationError",
			msg: "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
		{name: "not an arn", service: "sts", action: "AssumeRole", params: "RoleArn=role-app-role-app-role&RoleSessionName=s1", status: 400, code: "ValidationError"},
	})
}

func TestAPI_NoPrincipal(t *testing.T) {
	e := newEnv(t)
	for _, svc := range []string{"iam", "sts"} {
		body := "Action=GetCallerIdentity&Version=2011-06-15"
		if svc == "iam" {
			body = "Action=GetUser&Version=2010-05-08"
		}
		rec := httptest.NewRecorder()
		e.api.Serve(rec, door.Request{HTTP: httptest.NewRequest(http.MethodPost, "/", nil), Op: svc, Body: []byte(body), ID: "r"})
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "<Code>AccessDenied</Code>") {
			t.Errorf("%s: %d %s", svc, rec.Code, rec.Body)
		}
	}
}

func TestAPI_GetQuery(t *testing.T) {
	e := newEnv(t)
	req := httptest.NewRequest(http.MethodGet, "/?Action=GetCallerIdentity&Version=2011-06-15", nil)
	req = req.WithContext(iam.WithPrincipal(req.Context(), rootPrincipal, iam.RequestInfo{}))
	rec := httptest.NewRecorder()
	if got := e.api.Serve(rec, door.Request{HTTP: req, Op: "sts", ID: "r"}).Code; got != "OK" {
		t.Fatalf("outcome %q: %s", got, rec.Body)
	}
}

// TestAPI_Pagination walks ListUsers one page at a time with Marker.
func TestAPI_Pagination(t *testing.T) {
	e := newEnv(t)
	names := []string{"u1", "u2", "u3", "u4", "u5"}
	for _, n := range names {
		e.call(t, "iam", nil, query("iam", "CreateUser", "UserName="+n))
	}
	var got []string
	marker := ""
	for i := range 10 {
		params := "MaxItems=2"
		if marker != "" {
			params += "&Marker=" + enc(marker)
		}
		r := e.call(t, "iam", nil, query("iam", "ListUsers", params))
		base := "ListUsersResponse/ListUsersResult/"
		for _, m := range []string{"member", "member[2]"} {
			if n, ok := r.flat[base+"Users/"+m+"/UserName"]; ok {
				got = append(got, n)
			}
		}
		if r.flat[base+"IsTruncated"] == "false" {
			if _, ok := r.flat[base+"Marker"]; ok {
				t.Error("Marker on the last page")
			}
			break
		}
		marker = r.flat[base+"Marker"]
		if marker == "" {
			t.Fatalf("truncated without Marker: %s", r.raw)
		}
		if i == 0 { // a deletion between pages skips nothing else
			e.call(t, "iam", nil, query("iam", "DeleteUser", "UserName=u3"))
		}
	}
	if strings.Join(got, ",") != "u1,u2,u4,u5" {
		t.Fatalf("pages = %v", got)
	}
}

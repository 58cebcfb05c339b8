package iamapi

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
)

const (
	userPolicy  = `{"Version":"2012-10-17","Statement":[{"Sid":"Data","Effect":"Allow","Action":["rds-data:ExecuteStatement"],"Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"*"}]}`
	trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	acct        = "arn:aws:iam::" + testAccount + ":"
)

var enc = url.QueryEscape

// step is one request of a script that runs in order against one env.
type step struct {
	name    string
	service string         // "" = iam
	as      *iam.Principal // nil = root
	action  string
	params  string
	status  int
	code    string            // error code, or "" for 200
	msg     string            // error message (exact), if set
	want    map[string]string // result paths (under <ActionResult>) → text; "*" = non-empty
	authz   string            // the last authorization check, if set
}

func runSteps(t *testing.T, e *testEnv, steps []step) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			svc := s.service
			if svc == "" {
				svc = "iam"
			}
			r := e.call(t, svc, s.as, query(svc, s.action, s.params))
			if r.status != s.status {
				t.Fatalf("status = %d, want %d\n%s", r.status, s.status, r.raw)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type = %q", ct)
			}
			if r.header.Get("X-Amzn-RequestId") != "req-1" {
				t.Errorf("X-Amzn-RequestId = %q", r.header.Get("X-Amzn-RequestId"))
			}
			if !strings.Contains(r.raw, `xmlns="`+namespace(svc)+`"`) {
				t.Errorf("namespace missing: %s", r.raw)
			}
			if s.authz != "" && e.authz.last() != s.authz {
				t.Errorf("authorized %q, want %q", e.authz.last(), s.authz)
			}
			if s.code != "" {
				checkError(t, r, s.code, s.msg)
				return
			}
			if r.outcome != "OK" || r.flat[s.action+"Response/ResponseMetadata/RequestId"] != "req-1" {
				t.Errorf("outcome %q, metadata missing: %s", r.outcome, r.raw)
			}
			for path, want := range s.want {
				full := s.action + "Response/" + s.action + "Result/" + path
				got, ok := r.flat[full]
				if !ok || (want == "*" && got == "") || (want != "*" && got != want) {
					t.Errorf("%s = %q (present %v), want %q\n%s", path, got, ok, want, r.raw)
				}
			}
		})
	}
}

func checkError(t *testing.T, r response, code, msg string) {
	t.Helper()
	if got := r.flat["ErrorResponse/Error/Code"]; got != code || r.outcome != code {
		t.Fatalf("code = %q (outcome %q), want %q\n%s", got, r.outcome, code, r.raw)
	}
	typ := "Sender"
	if r.status >= 500 {
		typ = "Receiver"
	}
	if r.flat["ErrorResponse/Error/Type"] != typ || r.flat["ErrorResponse/RequestId"] != "req-1" {
		t.Errorf("bad envelope: %s", r.raw)
	}
	if msg != "" && r.flat["ErrorResponse/Error/Message"] != msg {
		t.Errorf("message = %q\n     want %q", r.flat["ErrorResponse/Error/Message"], msg)
	}
}

func TestAPI_Users(t *testing.T) {
	e := newEnv(t)
	runSteps(t, e, []step{
		{name: "create", action: "CreateUser", params: "UserName=bob", status: 200,
			want:  map[string]string{"User/UserName": "bob", "User/Path": "/", "User/Arn": acct + "user/bob", "User/UserId": "*", "User/CreateDate": "2026-11-29T09:00:00Z"},
			authz: "iam:CreateUser " + acct + "user/bob"},
		{name: "create with path and tags", action: "CreateUser", params: "UserName=alice&Path=%2Fdev%2F&Tags.member.1.Key=team&Tags.member.1.Value=db", status: 200,
			want: map[string]string{"User/Arn": acct + "user/dev/alice", "User/Path": "/dev/"}, authz: "iam:CreateUser " + acct + "user/dev/alice"},
		{name: "exists", action: "CreateUser", params: "UserName=bob", status: 409, code: "EntityAlreadyExists", msg: "User with name bob already exists."},
		{name: "missing name", action: "CreateUser", status: 400, code: "ValidationError",
			msg: "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"},
		{name: "bad name and path", action: "CreateUser", params: "UserName=b+o&Path=dev", status: 400, code: "ValidationError",
			msg: `2 validation errors detected: Value 'b o' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+; Value 'dev' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (/|/[\x21-\x7e]+/)`},
		{name: "tag without value", action: "CreateUser", params: "UserName=carol&Tags.member.1.Key=k", status: 400, code: "ValidationError"},
		{name: "get", action: "GetUser", params: "UserName=alice", status: 200,
			want: map[string]string{"User/UserName": "alice"}, authz: "iam:GetUser " + acct + "user/dev/alice"},
		{name: "get missing", action: "GetUser", params: "UserName=nope", status: 404, code: "NoSuchEntity", msg: "The user with name nope cannot be found."},
		{name: "get self root", action: "GetUser", status: 200,
			want: map[string]string{"User/Arn": acct + "root", "User/UserId": testAccount}},
		{name: "get self role", as: rolePrincipal, action: "GetUser", status: 400, code: "ValidationError",
			msg: "Must specify userName when calling with non-User credentials"},
		{name: "list", action: "ListUsers", status: 200, authz: "iam:ListUsers " + acct + "user/",
			want: map[string]string{"Users/member/UserName": "alice", "Users/member[2]/UserName": "bob", "IsTruncated": "false"}},
		{name: "list prefix", action: "ListUsers", params: "PathPrefix=%2Fdev%2F", status: 200, authz: "iam:ListUsers " + acct + "user/dev/",
			want: map[string]string{"Users/member/UserName": "alice"}},
		{name: "list max items", action: "ListUsers", params: "MaxItems=0", status: 400, code: "ValidationError",
			msg: "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{name: "key", action: "CreateAccessKey", params: "UserName=bob", status: 200, authz: "iam:CreateAccessKey " + acct + "user/bob",
			want: map[string]string{"AccessKey/UserName": "bob", "AccessKey/AccessKeyId": "AKIA00000000000000003", "AccessKey/SecretAccessKey": "SECRET-AKIA00000000000000003", "AccessKey/Status": "Active"}},
		{name: "key 2", action: "CreateAccessKey", params: "UserName=bob", status: 200},
		{name: "key quota", action: "CreateAccessKey", params: "UserName=bob", status: 409, code: "LimitExceeded", msg: "Cannot exceed quota for AccessKeysPerUser: 2"},
		{name: "key missing user", action: "CreateAccessKey", params: "UserName=nope", status: 404, code: "NoSuchEntity", msg: "The user with name nope cannot be found."},
		{name: "key self root", action: "CreateAccessKey", status: 400, code: "ValidationError"},
		{name: "list keys", action: "ListAccessKeys", params: "UserName=bob", status: 200,
			want: map[string]string{"AccessKeyMetadata/member/AccessKeyId": "AKIA00000000000000003", "AccessKeyMetadata/member[2]/Status": "Active"}},
		{name: "deactivate", action: "UpdateAccessKey", params: "UserName=bob&AccessKeyId=AKIA00000000000000003&Status=Inactive", status: 200},
		{name: "bad status", action: "UpdateAccessKey", params: "UserName=bob&AccessKeyId=AKIA00000000000000003&Status=Off", status: 400, code: "ValidationError",
			msg: "1 validation error detected: Value 'Off' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]"},
		{name: "update missing key", action: "UpdateAccessKey", params: "UserName=bob&AccessKeyId=AKIA00000000000000099&Status=Active", status: 404, code: "NoSuchEntity",
			msg: "The Access Key with id AKIA00000000000000099 cannot be found."},
		{name: "delete with keys", action: "DeleteUser", params: "UserName=bob", status: 409, code: "DeleteConflict", msg: "Cannot delete entity, must delete access keys first."},
		{name: "delete key", action: "DeleteAccessKey", params: "UserName=bob&AccessKeyId=AKIA00000000000000003", status: 200},
		{name: "delete key again", action: "DeleteAccessKey", params: "UserName=bob&AccessKeyId=AKIA00000000000000003", status: 404, code: "NoSuchEntity"},
		{name: "delete user", action: "DeleteUser", params: "UserName=alice", status: 200, authz: "iam:DeleteUser " + acct + "user/dev/alice"},
		{name: "delete missing", action: "DeleteUser", params: "UserName=alice", status: 404, code: "NoSuchEntity"},
	})
}

func TestAPI_Policies(t *testing.T) {
	e := newEnv(t)
	policyARN := acct + "policy/readonly"
	runSteps(t, e, []step{
		{name: "user", action: "CreateUser", params: "UserName=bob", status: 200},
		{name: "put inline", action: "PutUserPolicy", params: "UserName=bob&PolicyName=p1&PolicyDocument=" + enc(userPolicy), status: 200,
			authz: "iam:PutUserPolicy " + acct + "user/bob"},
		{name: "put malformed", action: "PutUserPolicy", params: "UserName=bob&PolicyName=p2&PolicyDocument=" + enc(`{"Statement":[{"Effect":"Maybe"}]}`),
			status: 400, code: "MalformedPolicyDocument"},
		{name: "put missing doc", action: "PutUserPolicy", params: "UserName=bob&PolicyName=p2", status: 400, code: "ValidationError"},
		{name: "get inline", action: "GetUserPolicy", params: "UserName=bob&PolicyName=p1", status: 200,
			want: map[string]string{"UserName": "bob", "PolicyName": "p1", "PolicyDocument": encodeDoc(userPolicy)}},
		{name: "get inline missing", action: "GetUserPolicy", params: "UserName=bob&PolicyName=nope", status: 404, code: "NoSuchEntity",
			msg: "The user policy with name nope cannot be found."},
		{name: "list inline", action: "ListUserPolicies", params: "UserName=bob", status: 200,
			want: map[string]string{"PolicyNames/member": "p1", "IsTruncated": "false"}},
		{name: "create managed", action: "CreatePolicy", params: "PolicyName=readonly&Description=ro&PolicyDocument=" + enc(userPolicy), status: 200,
			authz: "iam:CreatePolicy " + policyARN,
			want: map[string]string{"Policy/Arn": policyARN, "Policy/DefaultVersionId": "v1", "Policy/IsAttachable": "true",
				"Policy/AttachmentCount": "0", "Policy/PolicyId": "*", "Policy/Description": "ro", "Policy/UpdateDate": "2026-11-29T09:00:00Z"}},
		{name: "create managed again", action: "CreatePolicy", params: "PolicyName=readonly&PolicyDocument=" + enc(userPolicy), status: 409,
			code: "EntityAlreadyExists", msg: "A policy called readonly already exists. Duplicate names are not allowed."},
		{name: "get managed", action: "GetPolicy", params: "PolicyArn=" + enc(policyARN), status: 200, authz: "iam:GetPolicy " + policyARN,
			want: map[string]string{"Policy/PolicyName": "readonly"}},
		{name: "get managed missing", action: "GetPolicy", params: "PolicyArn=" + enc(acct+"policy/nope"), status: 404, code: "NoSuchEntity",
			msg: "Policy " + acct + "policy/nope was not found."},
		{name: "get not an arn", action: "GetPolicy", params: "PolicyArn=readonly-readonly-readonly", status: 400, code: "InvalidInput"},
		{name: "version", action: "GetPolicyVersion", params: "PolicyArn=" + enc(policyARN) + "&VersionId=v1", status: 200,
			want: map[string]string{"PolicyVersion/Document": encodeDoc(userPolicy), "PolicyVersion/IsDefaultVersion": "true", "PolicyVersion/VersionId": "v1"}},
		{name: "version missing", action: "GetPolicyVersion", params: "PolicyArn=" + enc(policyARN) + "&VersionId=v9", status: 404, code: "NoSuchEntity",
			msg: "Policy " + policyARN + " version v9 does not exist or is not attachable."},
		{name: "new version", action: "CreatePolicyVersion", params: "PolicyArn=" + enc(policyARN) + "&SetAsDefault=true&PolicyDocument=" + enc(userPolicy), status: 200,
			want: map[string]string{"PolicyVersion/VersionId": "v2", "PolicyVersion/IsDefaultVersion": "true"}},
		{name: "attach", action: "AttachUserPolicy", params: "UserName=bob&PolicyArn=" + enc(policyARN), status: 200, authz: "iam:AttachUserPolicy " + acct + "user/bob"},
		{name: "attach missing", action: "AttachUserPolicy", params: "UserName=bob&PolicyArn=" + enc(acct+"policy/nope"), status: 404, code: "NoSuchEntity",
			msg: "Policy " + acct + "policy/nope does not exist or is not attachable."},
		{name: "list attached", action: "ListAttachedUserPolicies", params: "UserName=bob", status: 200,
			want: map[string]string{"AttachedPolicies/member/PolicyName": "readonly", "AttachedPolicies/member/PolicyArn": policyARN}},
		{name: "list only attached", action: "ListPolicies", params: "OnlyAttached=true&Scope=Local", status: 200, authz: "iam:ListPolicies " + acct + "policy/",
			want: map[string]string{"Policies/member/PolicyName": "readonly", "Policies/member/AttachmentCount": "1", "Policies/member/DefaultVersionId": "v2"}},
		{name: "list aws scope", action: "ListPolicies", params: "Scope=AWS&MaxItems=1", status: 200, want: map[string]string{
			"Policies/member/Arn": "arn:aws:iam::aws:policy/AmazonRDSDataFullAccess", "IsTruncated": "true"}},
		{name: "delete attached", action: "DeletePolicy", params: "PolicyArn=" + enc(policyARN), status: 409, code: "DeleteConflict",
			msg: "Cannot delete a policy attached to entities."},
		{name: "simulate", action: "SimulatePrincipalPolicy", status: 200, authz: "iam:SimulatePrincipalPolicy " + acct + "user/bob",
			params: "PolicySourceArn=" + enc(acct+"user/bob") + "&ActionNames.member.1=rds-data:ExecuteStatement&ActionNames.member.2=secretsmanager:DeleteSecret&ActionNames.member.3=secretsmanager:GetSecretValue" +
				"&ResourceArns.member.1=" + enc("arn:aws:rds:us-east-1:123456789012:cluster:db"),
			want: map[string]string{
				"EvaluationResults/member/EvalActionName": "rds-data:ExecuteStatement", "EvaluationResults/member/EvalDecision": "allowed",
				"EvaluationResults/member/EvalResourceName":                          "arn:aws:rds:us-east-1:123456789012:cluster:db",
				"EvaluationResults/member/MatchedStatements/member/SourcePolicyId":   "p1",
				"EvaluationResults/member/MatchedStatements/member/SourcePolicyType": "user",
				"EvaluationResults/member[2]/EvalDecision":                           "explicitDeny",
				"EvaluationResults/member[3]/EvalDecision":                           "implicitDeny",
				"EvaluationResults/member[3]/MatchedStatements":                      "",
				"IsTruncated": "false",
			}},
		{name: "simulate context and input", action: "SimulatePrincipalPolicy", status: 200,
			params: "PolicySourceArn=" + enc(acct+"user/bob") + "&ActionNames.member.1=s3:GetObject" +
				"&PolicyInputList.member.1=" + enc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`) +
				"&ContextEntries.member.1.ContextKeyName=aws:SourceIp&ContextEntries.member.1.ContextKeyType=ip&ContextEntries.member.1.ContextKeyValues.member.1=10.1.2.3",
			want: map[string]string{"EvaluationResults/member/EvalDecision": "allowed",
				"EvaluationResults/member/MatchedStatements/member/SourcePolicyId": "PolicyInputList.1"}},
		{name: "simulate no actions", action: "SimulatePrincipalPolicy", params: "PolicySourceArn=" + enc(acct+"user/bob"), status: 400, code: "ValidationError",
			msg: "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null"},
		{name: "simulate group", action: "SimulatePrincipalPolicy", params: "PolicySourceArn=" + enc(acct+"group/g") + "&ActionNames.member.1=s3:GetObject", status: 400, code: "InvalidInput"},
		{name: "detach", action: "DetachUserPolicy", params: "UserName=bob&PolicyArn=" + enc(policyARN), status: 200},
		{name: "detach again", action: "DetachUserPolicy", params: "UserName=bob&PolicyArn=" + enc(policyARN), status: 404, code: "NoSuchEntity",
			msg: "Policy " + policyARN + " was not found."},
		{name: "delete user with policies", action: "DeleteUser", params: "UserName=bob", status: 409, code: "DeleteConflict"},
		{name: "delete inline", action: "DeleteUserPolicy", params: "UserName=bob&PolicyName=p1", status: 200},
		{name: "delete policy", action: "DeletePolicy", params: "PolicyArn=" + enc(policyARN), status: 200},
		{name: "list empty", action: "ListPolicies", params: "Scope=Local", status: 200, want: map[string]string{"Policies": ""}},
	})
}

func TestAPI_Roles(t *testing.T) {
	e := newEnv(t)
	roleARN := acct + "role/app"
	runSteps(t, e, []step{
		{name: "create", action: "CreateRole", params: "RoleName=app&Description=d&AssumeRolePolicyDocument=" + enc(trustPolicy), status: 200,
			authz: "iam:CreateRole " + roleARN,
			want: map[string]string{"Role/Arn": roleARN, "Role/RoleId": "*", "Role/MaxSessionDuration": "3600", "Role/Description": "d",
				"Role/AssumeRolePolicyDocument": encodeDoc(trustPolicy), "Role/CreateDate": "2026-11-29T09:00:00Z"}},
		{name: "create malformed trust", action: "CreateRole", params: "RoleName=bad&AssumeRolePolicyDocument=" + enc(userPolicy), status: 400, code: "MalformedPolicyDocument"},
		{name: "create short session", action: "CreateRole", params: "RoleName=x&MaxSessionDuration=60&AssumeRolePolicyDocument=" + enc(trustPolicy), status: 400, code: "ValidationError",
			msg: "1 validation error detected: Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"},
		{name: "create exists", action: "CreateRole", params: "RoleName=app&AssumeRolePolicyDocument=" + enc(trustPolicy), status: 409, code: "EntityAlreadyExists",
			msg: "Role with name app already exists."},
		{name: "get", action: "GetRole", params: "RoleName=app", status: 200, want: map[string]string{"Role/RoleName": "app"}},
		{name: "get missing", action: "GetRole", params: "RoleName=nope", status: 404, code: "NoSuchEntity", msg: "The role with name nope cannot be found."},
		{name: "list", action: "ListRoles", status: 200, authz: "iam:ListRoles " + acct + "role/", want: map[string]string{"Roles/member/RoleName": "app"}},
		{name: "put inline", action: "PutRolePolicy", params: "RoleName=app&PolicyName=p&PolicyDocument=" + enc(userPolicy), status: 200},
		{name: "policy", action: "CreatePolicy", params: "PolicyName=ro&Path=%2Fteam%2F&PolicyDocument=" + enc(userPolicy), status: 200,
			want: map[string]string{"Policy/Arn": acct + "policy/team/ro", "Policy/Path": "/team/"}},
		{name: "attach", action: "AttachRolePolicy", params: "RoleName=app&PolicyArn=" + enc(acct+"policy/team/ro"), status: 200, authz: "iam:AttachRolePolicy " + roleARN},
		{name: "list attached", action: "ListAttachedRolePolicies", params: "RoleName=app", status: 200,
			want: map[string]string{"AttachedPolicies/member/PolicyName": "ro"}},
		{name: "list attached prefix", action: "ListAttachedRolePolicies", params: "RoleName=app&PathPrefix=%2Fother%2F", status: 200,
			want: map[string]string{"AttachedPolicies": ""}},
		{name: "simulate role", action: "SimulatePrincipalPolicy", params: "PolicySourceArn=" + enc(roleARN) + "&ActionNames.member.1=secretsmanager:DeleteSecret", status: 200,
			want: map[string]string{"EvaluationResults/member/EvalDecision": "explicitDeny", "EvaluationResults/member/EvalResourceName": "*"}},
		{name: "delete with policies", action: "DeleteRole", params: "RoleName=app", status: 409, code: "DeleteConflict",
			msg: "Cannot delete entity, must detach all policies first."},
		{name: "detach", action: "DetachRolePolicy", params: "RoleName=app&PolicyArn=" + enc(acct+"policy/team/ro"), status: 200},
		{name: "delete inline", action: "DeleteRolePolicy", params: "RoleName=app&PolicyName=p", status: 200, authz: "iam:DeleteRolePolicy " + roleARN},
		{name: "delete inline again", action: "DeleteRolePolicy", params: "RoleName=app&PolicyName=p", status: 404, code: "NoSuchEntity"},
		{name: "delete", action: "DeleteRole", params: "RoleName=app", status: 200},
	})
}

func TestAPI_Protocol(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, service, body string
		status              int
		code, msg           string
	}{
		{"unknown action", "iam", "Action=Frobnicate&Version=2010-05-08", 400, "InvalidAction", "Could not find operation Frobnicate for version 2010-05-08"},
		{"wrong version", "iam", "Action=ListUsers&Version=2011-06-15", 400, "InvalidAction", "Could not find operation ListUsers for version 2011-06-15"},
		{"sts action on iam", "iam", "Action=AssumeRole&Version=2010-05-08", 400, "InvalidAction", ""},
		{"iam action on sts", "sts", "Action=ListUsers&Version=2011-06-15", 400, "InvalidAction", ""},
		{"unknown service", "s3", "Action=ListUsers", 400, "InvalidAction", ""},
		{"no action", "iam", "Version=2010-05-08", 400, "MissingAction", ""},
		{"empty body", "sts", "", 400, "MissingAction", ""},
		{"bad escape", "iam", "Action=ListUsers&UserName=%zz", 400, "MalformedQueryString", ""},
		{"duplicate", "iam", "Action=GetUser&UserName=a&UserName=b", 400, "MalformedQueryString", ""},
		{"bad list index", "iam", "Action=CreateUser&UserName=x&Tags.member.01.Key=k", 400, "ValidationError", ""},
		{"bad marker", "iam", "Action=ListUsers&Marker=%21%21", 400, "ValidationError", "Invalid Marker."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(t, tt.service, nil, tt.body)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d\n%s", r.status, tt.status, r.raw)
			}
			checkError(t, r, tt.code, tt.msg)
		})
	}
}

func TestAPI_AccessDenied(t *testing.T) {
	e := newEnv(t)
	e.call(t, "iam", nil, query("iam", "CreateUser", "UserName=bob"))
	runSteps(t, e, []step{
		{name: "create", as: bobPrincipal, action: "CreateUser", params: "UserName=carol", status: 403, code: "AccessDenied",
			msg: "User: " + acct + "user/bob is not authorized to perform: iam:CreateUser on resource: " + acct + "user/carol"},
		{name: "missing user is not revealed", as: bobPrincipal, action: "GetUser", params: "UserName=nope", status: 403, code: "AccessDenied",
			msg: "User: " + acct + "user/bob is not authorized to perform: iam:GetUser on resource: " + acct + "user/nope"},
		{name: "self without name", as: bobPrincipal, action: "GetUser", status: 403, code: "AccessDenied", authz: "iam:GetUser " + acct + "user/bob"},
		{name: "list", as: bobPrincipal, action: "ListUsers", status: 403, code: "AccessDenied",
			msg: "User: " + acct + "user/bob is not authorized to perform: iam:ListUsers on resource: " + acct + "user/"},
		{name: "caller identity needs no permission", service: "sts", as: bobPrincipal, action: "GetCallerIdentity", status: 200,
			want: map[string]string{"Arn": acct + "user/bob", "Account": testAccount, "UserId": "AIDA00000000000000001"}},
	})
	e.authz.allow[bobPrincipal.ARN+" iam:GetUser"] = true
	runSteps(t, e, []step{{name: "allowed self", as: bobPrincipal, action: "GetUser", status: 200, want: map[string]string{"User/UserName": "bob"}}})
}

func TestAPI_InternalError(t *testing.T) {
	e := newEnv(t)
	e.fake.Hook = func(string) error { return errors.New("disk on fire") }
	r := e.call(t, "iam", nil, query("iam", "ListUsers", ""))
	if r.status != 500 {
		t.Fatalf("status = %d\n%s", r.status, r.raw)
	}
	checkError(t, r, "InternalFailure", "An internal error occurred.")
	if strings.Contains(r.raw, "disk on fire") {
		t.Error("internal cause leaked to the client")
	}
	if !strings.Contains(e.logs.String(), "disk on fire") {
		t.Error("internal cause not logged")
	}
	e.fake.Hook = func(string) error { return identity.ErrExpiredToken }
	r = e.call(t, "sts", bobPrincipal, query("sts", "GetCallerIdentity", ""))
	checkError(t, r, "ExpiredToken", "The security token included in the request is expired")
}

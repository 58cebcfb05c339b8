package iamapi

import (
	"bytes"
	"log/slog"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/state"
)

// newStoreEnv is a testEnv over the real identity store (SQLite state in
// a temp dir), for actions that span several kinds of entity.
func newStoreEnv(t *testing.T) *testEnv {
	t.Helper()
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := barrier.New(map[uint32][]byte{1: bytes.Repeat([]byte{7}, barrier.KeySize)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{authz: &testAuthz{allow: map[string]bool{}}, logs: &bytes.Buffer{}}
	ids := identity.New(st, b, testAccount)
	t.Cleanup(ids.Wait) // runs before st.Close
	e.api = New(ids, e.authz, testAccount, slog.New(slog.NewTextHandler(e.logs, nil)))
	return e
}

const groupDoc = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"rds-data:ExecuteStatement","Resource":"*"}}`

func TestAPI_Groups(t *testing.T) {
	e := newStoreEnv(t)
	doc := url.QueryEscape(groupDoc)
	var policyARN string
	runSteps(t, e, []step{
		{name: "create", action: "CreateGroup", params: "GroupName=readers&Path=%2Fteam%2F", status: 200, authz: "iam:CreateGroup " + acct + "group/team/readers",
			want: map[string]string{"Group/GroupName": "readers", "Group/Path": "/team/", "Group/Arn": acct + "group/team/readers", "Group/GroupId": "*", "Group/CreateDate": "*"}},
		{name: "exists", action: "CreateGroup", params: "GroupName=Readers", status: 409, code: "EntityAlreadyExists", msg: "Group with name Readers already exists."},
		{name: "missing name", action: "CreateGroup", status: 400, code: "ValidationError",
			msg: "1 validation error detected: Value null at 'groupName' failed to satisfy constraint: Member must not be null"},
		{name: "user", action: "CreateUser", params: "UserName=bob", status: 200},
		{name: "add", action: "AddUserToGroup", params: "GroupName=readers&UserName=bob", status: 200, authz: "iam:AddUserToGroup " + acct + "group/team/readers"},
		{name: "add missing user", action: "AddUserToGroup", params: "GroupName=readers&UserName=nope", status: 404, code: "NoSuchEntity", msg: "The user with name nope cannot be found."},
		{name: "add missing group", action: "AddUserToGroup", params: "GroupName=nope&UserName=bob", status: 404, code: "NoSuchEntity", msg: "The group with name nope cannot be found."},
		{name: "get", action: "GetGroup", params: "GroupName=readers", status: 200, authz: "iam:GetGroup " + acct + "group/team/readers",
			want: map[string]string{"Group/GroupName": "readers", "Users/member/UserName": "bob", "IsTruncated": "false"}},
		{name: "list", action: "ListGroups", status: 200, authz: "iam:ListGroups " + acct + "group/",
			want: map[string]string{"Groups/member/GroupName": "readers"}},
		{name: "list other prefix", action: "ListGroups", params: "PathPrefix=%2Fother%2F", status: 200, want: map[string]string{"Groups": ""}},
		{name: "for user", action: "ListGroupsForUser", params: "UserName=bob", status: 200, authz: "iam:ListGroupsForUser " + acct + "user/bob",
			want: map[string]string{"Groups/member/Arn": acct + "group/team/readers"}},
		{name: "put policy", action: "PutGroupPolicy", params: "GroupName=readers&PolicyName=data&PolicyDocument=" + doc, status: 200,
			authz: "iam:PutGroupPolicy " + acct + "group/team/readers"},
		{name: "put bad policy", action: "PutGroupPolicy", params: "GroupName=readers&PolicyName=data&PolicyDocument=%7B%7D", status: 400, code: "MalformedPolicyDocument"},
		{name: "get policy", action: "GetGroupPolicy", params: "GroupName=readers&PolicyName=data", status: 200,
			want: map[string]string{"GroupName": "readers", "PolicyName": "data", "PolicyDocument": encodeDoc(groupDoc)}},
		{name: "get missing policy", action: "GetGroupPolicy", params: "GroupName=readers&PolicyName=x", status: 404, code: "NoSuchEntity",
			msg: "The group policy with name x cannot be found."},
		{name: "list policies", action: "ListGroupPolicies", params: "GroupName=readers", status: 200, want: map[string]string{"PolicyNames/member": "data"}},
		{name: "simulate member", action: "SimulatePrincipalPolicy", params: "PolicySourceArn=" + url.QueryEscape(acct+"user/bob") + "&ActionNames.member.1=rds-data:ExecuteStatement", status: 200,
			want: map[string]string{"EvaluationResults/member/EvalDecision": "allowed", "EvaluationResults/member/MatchedStatements/member/SourcePolicyType": "group",
				"EvaluationResults/member/MatchedStatements/member/SourcePolicyId": "data"}},
		{name: "managed", action: "CreatePolicy", params: "PolicyName=p1&PolicyDocument=" + doc, status: 200},
	})
	policyARN = acct + "policy/p1"
	runSteps(t, e, []step{
		{name: "attach", action: "AttachGroupPolicy", params: "GroupName=readers&PolicyArn=" + url.QueryEscape(policyARN), status: 200,
			authz: "iam:AttachGroupPolicy " + acct + "group/team/readers"},
		{name: "attach missing", action: "AttachGroupPolicy", params: "GroupName=readers&PolicyArn=" + url.QueryEscape(acct+"policy/nope"), status: 404,
			code: "NoSuchEntity", msg: "Policy " + acct + "policy/nope does not exist or is not attachable."},
		{name: "list attached", action: "ListAttachedGroupPolicies", params: "GroupName=readers", status: 200,
			want: map[string]string{"AttachedPolicies/member/PolicyName": "p1", "AttachedPolicies/member/PolicyArn": policyARN}},
		{name: "policy counts the group", action: "GetPolicy", params: "PolicyArn=" + url.QueryEscape(policyARN), status: 200,
			want: map[string]string{"Policy/AttachmentCount": "1"}},
		{name: "delete with members", action: "DeleteGroup", params: "GroupName=readers", status: 409, code: "DeleteConflict",
			msg: "Cannot delete entity, must remove users from group first."},
		{name: "delete member user", action: "DeleteUser", params: "UserName=bob", status: 409, code: "DeleteConflict",
			msg: "Cannot delete entity, must remove users from group first."},
		{name: "remove", action: "RemoveUserFromGroup", params: "GroupName=readers&UserName=bob", status: 200, authz: "iam:RemoveUserFromGroup " + acct + "group/team/readers"},
		{name: "remove again", action: "RemoveUserFromGroup", params: "GroupName=readers&UserName=bob", status: 404, code: "NoSuchEntity"},
		{name: "delete with policies", action: "DeleteGroup", params: "GroupName=readers", status: 409, code: "DeleteConflict",
			msg: "Cannot delete entity, must delete policies first."},
		{name: "detach", action: "DetachGroupPolicy", params: "GroupName=readers&PolicyArn=" + url.QueryEscape(policyARN), status: 200},
		{name: "delete policy", action: "DeleteGroupPolicy", params: "GroupName=readers&PolicyName=data", status: 200},
		{name: "delete", action: "DeleteGroup", params: "GroupName=readers", status: 200, authz: "iam:DeleteGroup " + acct + "group/team/readers"},
		{name: "get deleted", action: "GetGroup", params: "GroupName=readers", status: 404, code: "NoSuchEntity", msg: "The group with name readers cannot be found."},
		{name: "denied", as: bobPrincipal, action: "GetGroup", params: "GroupName=readers", status: 403, code: "AccessDenied"},
	})
}

func TestAPI_AccountAuthorizationDetails(t *testing.T) {
	e := newStoreEnv(t)
	doc := url.QueryEscape(groupDoc)
	trust := url.QueryEscape(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}`)
	runSteps(t, e, []step{
		{name: "user", action: "CreateUser", params: "UserName=bob", status: 200},
		{name: "user policy", action: "PutUserPolicy", params: "UserName=bob&PolicyName=u&PolicyDocument=" + doc, status: 200},
		{name: "group", action: "CreateGroup", params: "GroupName=readers", status: 200},
		{name: "group policy", action: "PutGroupPolicy", params: "GroupName=readers&PolicyName=g&PolicyDocument=" + doc, status: 200},
		{name: "member", action: "AddUserToGroup", params: "GroupName=readers&UserName=bob", status: 200},
		{name: "role", action: "CreateRole", params: "RoleName=fn&AssumeRolePolicyDocument=" + trust, status: 200},
		{name: "aws managed", action: "AttachRolePolicy", params: "RoleName=fn&PolicyArn=" + url.QueryEscape("arn:aws:iam::aws:policy/IAMReadOnlyAccess"), status: 200},
		{name: "local", action: "CreatePolicy", params: "PolicyName=p1&PolicyDocument=" + doc, status: 200},
		{name: "all", action: "GetAccountAuthorizationDetails", status: 200, authz: "iam:GetAccountAuthorizationDetails *",
			want: map[string]string{
				"UserDetailList/member/UserName": "bob", "UserDetailList/member/GroupList/member": "readers",
				"UserDetailList/member/UserPolicyList/member/PolicyName":         "u",
				"UserDetailList/member/UserPolicyList/member/PolicyDocument":     encodeDoc(groupDoc),
				"GroupDetailList/member/GroupName":                               "readers",
				"GroupDetailList/member/GroupPolicyList/member/PolicyName":       "g",
				"RoleDetailList/member/RoleName":                                 "fn",
				"RoleDetailList/member/AssumeRolePolicyDocument":                 "*",
				"RoleDetailList/member/AttachedManagedPolicies/member/PolicyArn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
				"Policies/member[2]/Arn":                                         "arn:aws:iam::aws:policy/IAMReadOnlyAccess", "Policies/member[2]/AttachmentCount": "1",
				"Policies/member/PolicyName":                                "p1",
				"Policies/member/PolicyVersionList/member/Document":         encodeDoc(groupDoc),
				"Policies/member/PolicyVersionList/member/IsDefaultVersion": "true",
				"IsTruncated": "false"}},
		{name: "filter", action: "GetAccountAuthorizationDetails", params: "Filter.member.1=Role&Filter.member.2=LocalManagedPolicy", status: 200,
			want: map[string]string{"UserDetailList": "", "GroupDetailList": "", "RoleDetailList/member/RoleName": "fn", "Policies/member/PolicyName": "p1"}},
		{name: "bad filter", action: "GetAccountAuthorizationDetails", params: "Filter.member.1=Users", status: 400, code: "ValidationError"},
		{name: "page 1", action: "GetAccountAuthorizationDetails", params: "MaxItems=2", status: 200,
			want: map[string]string{"UserDetailList/member/UserName": "bob", "GroupDetailList/member/GroupName": "readers", "RoleDetailList": "",
				"IsTruncated": "true", "Marker": "*"}},
		{name: "denied", as: bobPrincipal, action: "GetAccountAuthorizationDetails", status: 403, code: "AccessDenied"},
	})
	// The next pages continue after the marker, across the lists.
	res := "GetAccountAuthorizationDetailsResponse/GetAccountAuthorizationDetailsResult/"
	r := e.call(t, "iam", nil, query("iam", "GetAccountAuthorizationDetails", "MaxItems=2"))
	r = e.call(t, "iam", nil, query("iam", "GetAccountAuthorizationDetails", "MaxItems=2&Marker="+url.QueryEscape(r.flat[res+"Marker"])))
	if r.status != 200 || r.flat[res+"RoleDetailList/member/RoleName"] != "fn" || r.flat[res+"Policies/member/PolicyName"] != "p1" ||
		r.flat[res+"IsTruncated"] != "true" {
		t.Fatalf("page 2: %s", r.raw)
	}
	r = e.call(t, "iam", nil, query("iam", "GetAccountAuthorizationDetails", "MaxItems=2&Marker="+url.QueryEscape(r.flat[res+"Marker"])))
	if r.status != 200 || r.flat[res+"Policies/member/PolicyName"] != "IAMReadOnlyAccess" || r.flat[res+"IsTruncated"] != "false" || r.flat[res+"RoleDetailList"] != "" {
		t.Fatalf("page 3: %s", r.raw)
	}
}

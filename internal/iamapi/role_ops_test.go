package iamapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestAPI_CLIRoleEdits drives the role calls Terraform's aws_iam_role and
// aws_iam_role_policy make with the aws CLI.
func TestAPI_CLIRoleEdits(t *testing.T) {
	e := newCLIEnv(t)
	policyFile := filepath.Join(e.dir, "policy.json")
	trustFile := filepath.Join(e.dir, "trust.json")
	if err := os.WriteFile(policyFile, []byte(cliPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trustFile, []byte(trustPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	var wantPolicy any
	_ = json.Unmarshal([]byte(cliPolicy), &wantPolicy)
	e.ok(t, "iam", "create-role", "--role-name", "tf", "--assume-role-policy-document", "file://"+trustFile)
	e.ok(t, "iam", "put-role-policy", "--role-name", "tf", "--policy-name", "b", "--policy-document", "file://"+policyFile)
	e.ok(t, "iam", "put-role-policy", "--role-name", "tf", "--policy-name", "a", "--policy-document", "file://"+policyFile)

	got := e.ok(t, "iam", "get-role-policy", "--role-name", "tf", "--policy-name", "b")
	if got["RoleName"] != "tf" || got["PolicyName"] != "b" || !reflect.DeepEqual(got["PolicyDocument"], wantPolicy) {
		t.Fatalf("get-role-policy: %v", got)
	}
	got = e.ok(t, "iam", "list-role-policies", "--role-name", "tf")
	if !reflect.DeepEqual(got["PolicyNames"], []any{"a", "b"}) {
		t.Fatalf("list-role-policies: %v", got)
	}
	code, _, errOut := e.run(t, "iam", "get-role-policy", "--role-name", "tf", "--policy-name", "nope")
	if code == 0 || !containsAll(errOut, "NoSuchEntity", "The role policy with name nope cannot be found.") {
		t.Fatalf("missing policy: %d %s", code, errOut)
	}

	e.ok(t, "iam", "update-role", "--role-name", "tf", "--description", "from terraform", "--max-session-duration", "7200")
	got = e.ok(t, "iam", "get-role", "--role-name", "tf")
	if get(got, "Role", "Description") != "from terraform" || get(got, "Role", "MaxSessionDuration") != float64(7200) {
		t.Fatalf("get-role after update: %v", got)
	}
	if _, ok := get(got, "Role").(map[string]any)["RoleLastUsed"]; !ok {
		t.Fatalf("get-role lacks RoleLastUsed: %v", got)
	}
	code, _, errOut = e.run(t, "iam", "update-role", "--role-name", "tf", "--max-session-duration", "60")
	if code == 0 || !containsAll(errOut, "MaxSessionDuration") {
		t.Fatalf("bad duration: %d %s", code, errOut)
	}

	newTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/carol"},"Action":"sts:AssumeRole"}]}`
	e.ok(t, "iam", "update-assume-role-policy", "--role-name", "tf", "--policy-document", newTrust)
	got = e.ok(t, "iam", "get-role", "--role-name", "tf")
	var want any
	_ = json.Unmarshal([]byte(newTrust), &want)
	if !reflect.DeepEqual(get(got, "Role", "AssumeRolePolicyDocument"), want) {
		t.Fatalf("trust after update: %v", get(got, "Role", "AssumeRolePolicyDocument"))
	}
	code, _, errOut = e.run(t, "iam", "update-assume-role-policy", "--role-name", "tf", "--policy-document", `{"Statement":[]}`)
	if code == 0 || !containsAll(errOut, "MalformedPolicyDocument") {
		t.Fatalf("bad trust: %d %s", code, errOut)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

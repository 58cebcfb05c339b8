package iamapi

import (
	"strings"
	"testing"
)

// TestAPI_LogsNoSecrets plants secret access keys and session tokens in
// responses and checks the debug log never contains them.
func TestAPI_LogsNoSecrets(t *testing.T) {
	e := newEnv(t)
	e.call(t, "iam", nil, query("iam", "CreateUser", "UserName=bob"))
	r := e.call(t, "iam", nil, query("iam", "CreateAccessKey", "UserName=bob"))
	secret := r.flat["CreateAccessKeyResponse/CreateAccessKeyResult/AccessKey/SecretAccessKey"]
	e.call(t, "iam", nil, query("iam", "CreateRole", "RoleName=app&AssumeRolePolicyDocument="+enc(trustPolicy)))
	r = e.call(t, "sts", nil, query("sts", "AssumeRole", "RoleArn="+enc(acct+"role/app")+"&RoleSessionName=s1"))
	base := "AssumeRoleResponse/AssumeRoleResult/Credentials/"
	planted := []string{secret, r.flat[base+"SecretAccessKey"], r.flat[base+"SessionToken"]}
	logs := e.logs.String()
	if !strings.Contains(logs, "action=AssumeRole") {
		t.Fatalf("requests not logged: %s", logs)
	}
	for _, s := range planted {
		if s == "" {
			t.Fatal("nothing planted")
		}
		if strings.Contains(logs, s) {
			t.Errorf("log contains secret %q", s)
		}
	}
}

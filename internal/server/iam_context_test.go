package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// userWith creates an IAM user holding one inline policy and returns its key.
func (h *hostileEnv) userWith(t *testing.T, name, policy string) creds {
	t.Helper()
	h.iamOK(t, creds{}, "CreateUser", "UserName", name)
	h.iamOK(t, creds{}, "PutUserPolicy", "UserName", name, "PolicyName", "p", "PolicyDocument", policy)
	return h.createKey(t, name)
}

// TestIAM_ConditionDeniesFire: Deny statements copied from AWS's
// documentation fire, because the keys they test are supplied.
func TestIAM_ConditionDeniesFire(t *testing.T) {
	h := newHostileEnv(t)
	sm := func(c creds, op, body string) rawResponse {
		return h.send(t, rawRequest{Target: "secretsmanager." + op, Body: []byte(body), AKID: c.akid, Secret: c.secret, Token: c.token})
	}
	// A secret tagged stage=prod usable with the default cluster.
	prodARN := h.createSecret(t, "prod-db", "sqlgate", "pw")
	if r := h.send(t, rawRequest{Target: "secretsmanager.TagResource", Body: jsonBody(t, map[string]any{
		"SecretId": "prod-db", "Tags": []map[string]string{{"Key": "stage", "Value": "prod"}}})}); r.Status != http.StatusOK {
		t.Fatalf("TagResource: %d %s", r.Status, r.Body)
	}
	for _, key := range []string{"aws:ResourceTag/stage", "secretsmanager:ResourceTag/stage"} {
		t.Run("GetSecretValue "+key, func(t *testing.T) {
			u := h.userWith(t, "tag"+map[bool]string{true: "a", false: "s"}[key[0] == 'a'],
				`{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","rds-data:ExecuteStatement"],"Resource":"*"},
				{"Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"`+key+`":"prod"}}}]}`)
			h.denied(t, sm(u, "GetSecretValue", `{"SecretId":"prod-db"}`), http.StatusBadRequest, "AccessDeniedException")
			h.denied(t, h.send(t, rawRequest{Path: "/Execute", Body: execBody(t, h.clusterARN("default"), prodARN, "SELECT 1"), AKID: u.akid, Secret: u.secret}),
				http.StatusForbidden, "AccessDeniedException")
			// The untagged secret is still readable: the Deny is not a blanket one.
			if r := sm(u, "GetSecretValue", `{"SecretId":"other"}`); r.Status != http.StatusOK {
				t.Fatalf("untagged secret: %d %s", r.Status, r.Body)
			}
		})
	}
	t.Run("ForceDeleteWithoutRecovery", func(t *testing.T) {
		h.createSecret(t, "doomed", "u", "p")
		u := h.userWith(t, "deleter", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"secretsmanager:DeleteSecret","Resource":"*"},
			{"Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"*","Condition":{"Bool":{"secretsmanager:ForceDeleteWithoutRecovery":"true"}}}]}`)
		h.denied(t, sm(u, "DeleteSecret", `{"SecretId":"doomed","ForceDeleteWithoutRecovery":true}`), http.StatusBadRequest, "AccessDeniedException")
		if r := sm(u, "DeleteSecret", `{"SecretId":"doomed","RecoveryWindowInDays":7}`); r.Status != http.StatusOK {
			t.Fatalf("delete with recovery: %d %s", r.Status, r.Body)
		}
	})
	t.Run("AttachUserPolicy self-escalation", func(t *testing.T) {
		h.iamOK(t, creds{}, "CreatePolicy", "PolicyName", "AdminAccess", "PolicyDocument",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
		h.iamOK(t, creds{}, "CreatePolicy", "PolicyName", "ReadOnly", "PolicyDocument",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:DescribeSecret","Resource":"*"}]}`)
		u := h.userWith(t, "selfie", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"arn:aws:iam::000000000000:user/${aws:username}"},
			{"Effect":"Deny","Action":"iam:AttachUserPolicy","Resource":"*","Condition":{"ArnLike":{"iam:PolicyARN":"arn:aws:iam::*:policy/Admin*"}}}]}`)
		h.denied(t, h.query(t, "iam", u, "", "AttachUserPolicy", "UserName", "selfie", "PolicyArn", "arn:aws:iam::000000000000:policy/AdminAccess"),
			http.StatusForbidden, "AccessDenied")
		h.iamOK(t, u, "AttachUserPolicy", "UserName", "selfie", "PolicyArn", "arn:aws:iam::000000000000:policy/ReadOnly")
	})
}

// TestIAM_TrustPolicyContext: trust policies see the AssumeRole request.
func TestIAM_TrustPolicyContext(t *testing.T) {
	h := newHostileEnv(t)
	dev := h.userWith(t, "dev", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	role := func(name, extra string) string {
		h.iamOK(t, creds{}, "CreateRole", "RoleName", name, "AssumeRolePolicyDocument",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/dev"},"Action":"sts:AssumeRole"`+extra+`}]}`)
		return "arn:aws:iam::000000000000:role/" + name
	}
	assume := func(arn string, kv ...string) rawResponse {
		return h.query(t, "sts", dev, "", "AssumeRole", append([]string{"RoleArn", arn, "RoleSessionName", "s1"}, kv...)...)
	}
	t.Run("Deny SecureTransport false", func(t *testing.T) {
		arn := "arn:aws:iam::000000000000:role/tls"
		h.iamOK(t, creds{}, "CreateRole", "RoleName", "tls", "AssumeRolePolicyDocument",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/dev"},"Action":"sts:AssumeRole"},`+
				`{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
		h.denied(t, assume(arn), http.StatusForbidden, "AccessDenied")
	})
	t.Run("Deny NotIpAddress", func(t *testing.T) {
		arn := "arn:aws:iam::000000000000:role/net"
		h.iamOK(t, creds{}, "CreateRole", "RoleName", "net", "AssumeRolePolicyDocument",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/dev"},"Action":"sts:AssumeRole"},`+
				`{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}`)
		h.denied(t, assume(arn), http.StatusForbidden, "AccessDenied")
	})
	t.Run("ExternalId", func(t *testing.T) {
		arn := role("partner", `,"Condition":{"StringEquals":{"sts:ExternalId":"Unique-1234"}}`)
		if r := assume(arn, "ExternalId", "Unique-1234"); r.Status != http.StatusOK {
			t.Fatalf("right external id: %d %s", r.Status, r.Body)
		}
		h.denied(t, assume(arn, "ExternalId", "Wrong-1234"), http.StatusForbidden, "AccessDenied")
		h.denied(t, assume(arn), http.StatusForbidden, "AccessDenied")
	})
}

// TestIAM_UnsignedPayloadRefused: a header signature must cover the body.
func TestIAM_UnsignedPayloadRefused(t *testing.T) {
	h := newHostileEnv(t)
	ok := execBody(t, h.clusterARN("default"), h.defaultARN, "SELECT 1")
	for name, rr := range map[string]rawRequest{
		"rds-data":       {Path: "/Execute", Body: ok},
		"secretsmanager": {Target: "secretsmanager.GetSecretValue", Body: []byte(`{"SecretId":"default"}`)},
	} {
		t.Run(name, func(t *testing.T) {
			rr.AKID, rr.Secret, rr.Unsigned = h.fn.akid, h.fn.secret, true
			req := h.newRawRequest(t, context.Background(), rr)
			service := "rds-data"
			if rr.Target != "" {
				service = "secretsmanager"
			}
			req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: h.fn.akid, SecretAccessKey: h.fn.secret},
				req, "UNSIGNED-PAYLOAD", service, "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
			h.refused(t, h.do(t, req))
		})
	}
	t.Run("iam", func(t *testing.T) {
		body := []byte("Action=ListUsers&Version=2010-05-08")
		req := h.newRawRequest(t, context.Background(), rawRequest{Body: body, ContentType: "application/x-www-form-urlencoded", Unsigned: true})
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: h.akid, SecretAccessKey: h.secretKey},
			req, "UNSIGNED-PAYLOAD", "iam", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		h.refused(t, h.do(t, req))
	})
}

// refused asserts a 400 or 403 rejection, counting any 2xx as a bypass.
func (h *hostileEnv) refused(t *testing.T, r rawResponse) {
	t.Helper()
	h.denialCount.Add(1)
	if r.Status < 300 {
		h.bypasses.Add(1)
		t.Errorf("BYPASS: got %d %s", r.Status, r.Body)
		return
	}
	if r.Status != http.StatusForbidden && r.Status != http.StatusBadRequest {
		t.Errorf("got %d %s, want 400 or 403", r.Status, r.Body)
	}
}

// TestIAM_NoOracles: a caller not allowed GetSecretValue gets the same
// answer whether the secret exists or not, through both APIs, and the
// secret's LastAccessedDate does not move; IAM names are unique ignoring
// case.
func TestIAM_NoOracles(t *testing.T) {
	h := newHostileEnv(t)
	h.createSecret(t, "quiet", "u", "p")
	u := h.userWith(t, "prober", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"rds-data:ExecuteStatement","Resource":"*"},
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:allowed-*"}]}`)
	ask := func(id string) (rawResponse, rawResponse) {
		sm := h.send(t, rawRequest{Target: "secretsmanager.GetSecretValue", Body: []byte(`{"SecretId":"` + id + `"}`), AKID: u.akid, Secret: u.secret})
		da := h.send(t, rawRequest{Path: "/Execute", Body: execBody(t, h.clusterARN("default"), id, "SELECT 1"), AKID: u.akid, Secret: u.secret})
		return sm, da
	}
	smQuiet, daQuiet := ask("quiet")
	smNone, daNone := ask("no-such-secret")
	h.denied(t, smQuiet, http.StatusBadRequest, "AccessDeniedException")
	h.denied(t, daQuiet, http.StatusForbidden, "AccessDeniedException")
	same := func(api string, a, b rawResponse) {
		t.Helper()
		norm := func(r rawResponse) string {
			s := strings.ReplaceAll(string(r.Body), "no-such-secret", "ID")
			return fmt.Sprint(r.Status, " ", strings.ReplaceAll(s, "quiet", "ID"))
		}
		if norm(a) != norm(b) {
			t.Errorf("%s: existing secret: %d %s\nmissing secret: %d %s", api, a.Status, a.Body, b.Status, b.Body)
		}
	}
	same("secretsmanager", smQuiet, smNone)
	same("rds-data", daQuiet, daNone)
	d, err := h.secrets.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("quiet")})
	if err != nil {
		t.Fatal(err)
	}
	if d.LastAccessedDate != nil {
		t.Errorf("a denied GetSecretValue moved LastAccessedDate to %v", d.LastAccessedDate)
	}
	for _, c := range [][]string{
		{"CreateUser", "UserName", "PROBER"},
		{"CreateRole", "RoleName", "App", "AssumeRolePolicyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`},
		{"CreatePolicy", "PolicyName", "POL", "PolicyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	} {
		if c[0] != "CreateUser" {
			lower := append([]string{}, c...)
			lower[2] = strings.ToLower(c[2])
			h.iamOK(t, creds{}, lower[0], lower[1:]...)
		}
		h.denied(t, h.query(t, "iam", creds{}, "", c[0], c[1:]...), http.StatusConflict, "EntityAlreadyExists")
	}
}

// TestIAM_Tags: tags on users and secrets feed aws:PrincipalTag and
// aws:ResourceTag (attribute-based access).
func TestIAM_Tags(t *testing.T) {
	h := newHostileEnv(t)
	h.iamOK(t, creds{}, "CreateUser", "UserName", "ana", "Tags.member.1.Key", "team", "Tags.member.1.Value", "data")
	h.iamOK(t, creds{}, "PutUserPolicy", "UserName", "ana", "PolicyName", "abac", "PolicyDocument", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}`)
	ana := h.createKey(t, "ana")
	for name, team := range map[string]string{"data-db": "data", "web-db": "web"} {
		h.createSecret(t, name, "u", "p")
		if r := h.send(t, rawRequest{Target: "secretsmanager.TagResource", Body: jsonBody(t, map[string]any{
			"SecretId": name, "Tags": []map[string]string{{"Key": "team", "Value": team}}})}); r.Status != http.StatusOK {
			t.Fatal(r.Status, string(r.Body))
		}
	}
	get := func(id string) rawResponse {
		return h.send(t, rawRequest{Target: "secretsmanager.GetSecretValue", Body: []byte(`{"SecretId":"` + id + `"}`), AKID: ana.akid, Secret: ana.secret})
	}
	if r := get("data-db"); r.Status != http.StatusOK {
		t.Fatalf("own team's secret: %d %s", r.Status, r.Body)
	}
	h.denied(t, get("web-db"), http.StatusBadRequest, "AccessDeniedException")
	// Retagging the user moves her to the other team at once.
	h.iamOK(t, creds{}, "TagUser", "UserName", "ana", "Tags.member.1.Key", "TEAM", "Tags.member.1.Value", "web")
	if r := h.iamOK(t, creds{}, "ListUserTags", "UserName", "ana"); !strings.Contains(string(r.Body), "<Key>TEAM</Key><Value>web</Value>") || strings.Contains(string(r.Body), "<Value>data</Value>") {
		t.Fatalf("ListUserTags: %s", r.Body)
	}
	if r := get("web-db"); r.Status != http.StatusOK {
		t.Fatalf("after TagUser: %d %s", r.Status, r.Body)
	}
	h.denied(t, get("data-db"), http.StatusBadRequest, "AccessDeniedException")
	h.iamOK(t, creds{}, "UntagUser", "UserName", "ana", "TagKeys.member.1", "team")
	h.denied(t, get("web-db"), http.StatusBadRequest, "AccessDeniedException")
	// iam:ResourceTag on the user acted on.
	h.iamOK(t, creds{}, "TagUser", "UserName", "fn", "Tags.member.1.Key", "protected", "Tags.member.1.Value", "yes")
	admin := h.userWith(t, "helpdesk", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iam:*","Resource":"*"},
		{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"StringEquals":{"iam:ResourceTag/protected":"yes"}}}]}`)
	h.denied(t, h.query(t, "iam", admin, "", "CreateAccessKey", "UserName", "fn"), http.StatusForbidden, "AccessDenied")
	h.iamOK(t, admin, "ListUserTags", "UserName", "ana")
}

// TestIAM_Sessions: session tags need sts:TagSession, a source identity
// sts:SetSourceIdentity; session policies narrow the session; duration
// within MaxSessionDuration.
func TestIAM_Sessions(t *testing.T) {
	h := newHostileEnv(t)
	dev := h.userWith(t, "dev", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:*","Resource":"*"}]}`)
	trust := func(actions string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/dev"},"Action":` + actions + `}]}`
	}
	rolePolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rds-data:ExecuteStatement","secretsmanager:GetSecretValue"],"Resource":"*"},
		{"Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"data"}}}]}`
	for name, acts := range map[string]string{"plain": `"sts:AssumeRole"`, "tagged": `["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]`} {
		h.iamOK(t, creds{}, "CreateRole", "RoleName", name, "AssumeRolePolicyDocument", trust(acts))
		h.iamOK(t, creds{}, "PutRolePolicy", "RoleName", name, "PolicyName", "p", "PolicyDocument", rolePolicy)
	}
	assume := func(role string, kv ...string) rawResponse {
		return h.query(t, "sts", dev, "", "AssumeRole", append([]string{"RoleArn", "arn:aws:iam::000000000000:role/" + role, "RoleSessionName", "s1"}, kv...)...)
	}
	credsOf := func(r rawResponse) creds {
		t.Helper()
		if r.Status != http.StatusOK {
			t.Fatalf("AssumeRole: %d %s", r.Status, r.Body)
		}
		return creds{akid: xmlField(r.Body, "AccessKeyId"), secret: xmlField(r.Body, "SecretAccessKey"), token: xmlField(r.Body, "SessionToken")}
	}
	tags := []string{"Tags.member.1.Key", "team", "Tags.member.1.Value", "data"}
	h.denied(t, assume("plain", tags...), http.StatusForbidden, "AccessDenied")
	h.denied(t, assume("plain", "SourceIdentity", "alice"), http.StatusForbidden, "AccessDenied")
	secret := func(c creds) rawResponse {
		return h.send(t, rawRequest{Target: "secretsmanager.GetSecretValue", Body: []byte(`{"SecretId":"default"}`), AKID: c.akid, Secret: c.secret, Token: c.token})
	}
	exec := func(c creds) rawResponse {
		return h.send(t, rawRequest{Path: "/Execute", Body: execBody(t, h.clusterARN("default"), h.defaultARN, "SELECT 1"), AKID: c.akid, Secret: c.secret, Token: c.token})
	}
	h.denied(t, secret(credsOf(assume("plain"))), http.StatusBadRequest, "AccessDeniedException") // no team tag
	withTag := credsOf(assume("tagged", append(tags, "SourceIdentity", "alice")...))
	if r := secret(withTag); r.Status != http.StatusOK {
		t.Fatalf("session tag team=data: %d %s", r.Status, r.Body)
	}
	// A session policy allowing only GetSecretValue: the intersection.
	narrow := credsOf(assume("tagged", append(tags, "Policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)...))
	if r := secret(narrow); r.Status != http.StatusOK {
		t.Fatalf("session policy allows GetSecretValue: %d %s", r.Status, r.Body)
	}
	h.denied(t, exec(narrow), http.StatusForbidden, "AccessDeniedException")
	if r := exec(withTag); r.Status != http.StatusOK {
		t.Fatalf("without a session policy: %d %s", r.Status, r.Body)
	}
	h.denied(t, assume("plain", "DurationSeconds", "7200"), http.StatusBadRequest, "ValidationError")

	// Role chaining: transitive session tags pass on to the next session.
	h.iamOK(t, creds{}, "PutRolePolicy", "RoleName", "tagged", "PolicyName", "chain", "PolicyDocument",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	h.iamOK(t, creds{}, "CreateRole", "RoleName", "next", "AssumeRolePolicyDocument",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/tagged"},"Action":"sts:AssumeRole"}]}`)
	h.iamOK(t, creds{}, "PutRolePolicy", "RoleName", "next", "PolicyName", "p", "PolicyDocument", rolePolicy)
	chain := func(from creds) rawResponse {
		return h.query(t, "sts", from, "", "AssumeRole", "RoleArn", "arn:aws:iam::000000000000:role/next", "RoleSessionName", "s2")
	}
	transitive := credsOf(assume("tagged", append(tags, "TransitiveTagKeys.member.1", "team")...))
	if r := secret(credsOf(chain(transitive))); r.Status != http.StatusOK {
		t.Fatalf("transitive tag not passed on: %d %s", r.Status, r.Body)
	}
	h.denied(t, secret(credsOf(chain(withTag))), http.StatusBadRequest, "AccessDeniedException") // not transitive
}

// TestIAM_MFAExampleAndSimulation: AWS's "deny unless MFA" example does not
// lock out a long-term key (the key is absent, as on AWS) but denies a
// role session (present, false); the simulator reports unsupported keys.
func TestIAM_MFAExampleAndSimulation(t *testing.T) {
	h := newHostileEnv(t)
	mfa := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
		{"Sid":"BlockMostAccessUnlessSignedInWithMFA","Effect":"Deny","NotAction":["iam:ListUsers","sts:GetSessionToken"],"Resource":"*",
		 "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false","aws:ViaAWSService":"false"}}}]}`
	u := h.userWith(t, "keyuser", mfa)
	ok := execBody(t, h.clusterARN("default"), h.defaultARN, "SELECT 1")
	if r := h.send(t, rawRequest{Path: "/Execute", Body: ok, AKID: u.akid, Secret: u.secret}); r.Status != http.StatusOK {
		t.Fatalf("long-term key locked out: %d %s", r.Status, r.Body)
	}
	h.iamOK(t, creds{}, "CreateRole", "RoleName", "mfa", "AssumeRolePolicyDocument",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/keyuser"},"Action":"sts:AssumeRole"}]}`)
	h.iamOK(t, creds{}, "PutRolePolicy", "RoleName", "mfa", "PolicyName", "p", "PolicyDocument", mfa)
	r := h.query(t, "sts", u, "", "AssumeRole", "RoleArn", "arn:aws:iam::000000000000:role/mfa", "RoleSessionName", "s1")
	if r.Status != http.StatusOK {
		t.Fatalf("AssumeRole: %d %s", r.Status, r.Body)
	}
	sess := creds{akid: xmlField(r.Body, "AccessKeyId"), secret: xmlField(r.Body, "SecretAccessKey"), token: xmlField(r.Body, "SessionToken")}
	h.denied(t, h.send(t, rawRequest{Path: "/Execute", Body: ok, AKID: sess.akid, Secret: sess.secret, Token: sess.token}), http.StatusForbidden, "AccessDeniedException")

	h.iamOK(t, creds{}, "PutUserPolicy", "UserName", "keyuser", "PolicyName", "kms", "PolicyDocument", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Action":"secretsmanager:CreateSecret","Resource":"*","Condition":{"StringNotLike":{"secretsmanager:KmsKeyArn":"arn:aws:kms:*:*:key/approved"}}}]}`)
	sim := h.iamOK(t, creds{}, "SimulatePrincipalPolicy", "PolicySourceArn", "arn:aws:iam::000000000000:user/keyuser",
		"ActionNames.member.1", "secretsmanager:CreateSecret")
	if xmlField(sim.Body, "EvalDecision") != "explicitDeny" || !strings.Contains(string(sim.Body), "<member>secretsmanager:kmskeyarn</member></MissingContextValues>") {
		t.Fatalf("simulation: %s", sim.Body)
	}
}

// TestIAM_SuppliedKeysPresent: the keys the table says are supplied are in
// the request. For each key, a Deny on {"Null": {key: "true"}} (the key is
// missing) beside an Allow of everything must not fire.
func TestIAM_SuppliedKeysPresent(t *testing.T) {
	h := newHostileEnv(t)
	h.createSecret(t, "keyed", "u", "p")
	if r := h.send(t, rawRequest{Target: "secretsmanager.TagResource", Body: jsonBody(t, map[string]any{
		"SecretId": "keyed", "Tags": []map[string]string{{"Key": "stage", "Value": "dev"}}})}); r.Status != http.StatusOK {
		t.Fatal(r.Status, string(r.Body))
	}
	global := []string{"aws:CurrentTime", "aws:EpochTime", "aws:SecureTransport", "aws:SourceIp", "aws:PrincipalArn", "aws:PrincipalAccount",
		"aws:PrincipalType", "aws:userid", "aws:username", "aws:PrincipalTag/team", "aws:PrincipalIsAWSService", "aws:RequestedRegion",
		"aws:ViaAWSService", "aws:UserAgent", "aws:ResourceAccount"}
	n := 0
	check := func(name string, keys []string, do func(c creds) rawResponse) {
		t.Run(name, func(t *testing.T) {
			n++
			user := fmt.Sprintf("keys%d", n)
			h.iamOK(t, creds{}, "CreateUser", "UserName", user, "Tags.member.1.Key", "team", "Tags.member.1.Value", "data")
			h.iamOK(t, creds{}, "AttachUserPolicy", "UserName", user, "PolicyArn", "arn:aws:iam::000000000000:policy/all")
			for i := 0; i < len(keys); i += 8 {
				var stmts []string
				for _, k := range keys[i:min(i+8, len(keys))] {
					stmts = append(stmts, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"`+k+`":"true"}}}`)
				}
				pol := fmt.Sprintf("%s-%d", user, i)
				r := h.iamOK(t, creds{}, "CreatePolicy", "PolicyName", pol, "PolicyDocument", `{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`)
				h.iamOK(t, creds{}, "AttachUserPolicy", "UserName", user, "PolicyArn", xmlField(r.Body, "Arn"))
			}
			if r := do(h.createKey(t, user)); r.Status != http.StatusOK {
				t.Fatalf("a supplied key is missing: %d %s", r.Status, r.Body)
			}
		})
	}
	h.iamOK(t, creds{}, "CreatePolicy", "PolicyName", "all", "PolicyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	sm := func(op, body string) func(c creds) rawResponse {
		return func(c creds) rawResponse {
			return h.send(t, rawRequest{Target: "secretsmanager." + op, Body: []byte(body), AKID: c.akid, Secret: c.secret})
		}
	}
	check("GetSecretValue", append([]string{"secretsmanager:SecretId", "secretsmanager:ResourceTag/stage", "aws:ResourceTag/stage",
		"secretsmanager:SecretPrimaryRegion", "secretsmanager:VersionStage"}, global...), sm("GetSecretValue", `{"SecretId":"keyed","VersionStage":"AWSCURRENT"}`))
	check("CreateSecret", []string{"secretsmanager:Name", "secretsmanager:Description", "secretsmanager:KmsKeyId", "aws:RequestTag/a", "aws:TagKeys",
		"aws:ResourceTag/a", "secretsmanager:ResourceTag/a"}, sm("CreateSecret", `{"Name":"made","Description":"d","KmsKeyId":"k","SecretString":"x","Tags":[{"Key":"a","Value":"b"}]}`))
	check("DeleteSecret", []string{"secretsmanager:SecretId", "secretsmanager:RecoveryWindowInDays"}, sm("DeleteSecret", `{"SecretId":"made","RecoveryWindowInDays":7}`))
	check("Data API", global, func(c creds) rawResponse {
		return h.send(t, rawRequest{Path: "/Execute", Body: execBody(t, h.clusterARN("default"), h.defaultARN, "SELECT 1"), AKID: c.akid, Secret: c.secret})
	})
	h.iamOK(t, creds{}, "CreatePolicy", "PolicyName", "ro", "PolicyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:DescribeSecret","Resource":"*"}]}`)
	check("AttachUserPolicy", append([]string{"iam:PolicyARN", "iam:ResourceTag/team", "aws:ResourceTag/team"}, global...), func(c creds) rawResponse {
		return h.query(t, "iam", c, "", "AttachUserPolicy", "UserName", "keys5", "PolicyArn", "arn:aws:iam::000000000000:policy/ro")
	})
	h.iamOK(t, creds{}, "CreateRole", "RoleName", "keyrole", "AssumeRolePolicyDocument",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`,
		"Tags.member.1.Key", "env", "Tags.member.1.Value", "test")
	check("AssumeRole", append([]string{"sts:ExternalId", "sts:RoleSessionName", "sts:SourceIdentity", "sts:TransitiveTagKeys", "aws:RequestTag/project",
		"aws:TagKeys", "aws:ResourceTag/env", "iam:ResourceTag/env"}, global...), func(c creds) rawResponse {
		return h.query(t, "sts", c, "", "AssumeRole", "RoleArn", "arn:aws:iam::000000000000:role/keyrole", "RoleSessionName", "s1",
			"ExternalId", "ext-1", "SourceIdentity", "me", "Tags.member.1.Key", "project", "Tags.member.1.Value", "x", "TransitiveTagKeys.member.1", "project")
	})
}

package server

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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

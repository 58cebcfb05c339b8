package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/sqlgate/sqlgate/internal/oidc/oidctest"
)

// TestAssumeRoleWithWebIdentity: a token from a local test issuer (its
// JWKS served over HTTPS) becomes role credentials through the Go SDK's
// unsigned AssumeRoleWithWebIdentity; bad tokens get AWS's errors.
func TestAssumeRoleWithWebIdentity(t *testing.T) {
	e := startTestEnv(t, configFor())
	ti := oidctest.New(t)
	e.srv.oidcKeys.Client = ti.Srv.Client()
	u, _ := url.Parse(ti.Srv.URL)
	providerARN := "arn:aws:iam::000000000000:oidc-provider/" + u.Host
	r := e.iamOK(t, creds{}, "CreateOpenIDConnectProvider", "Url", ti.Srv.URL, "ClientIDList.member.1", "sts.amazonaws.com")
	if xmlField(r.Body, "OpenIDConnectProviderArn") != providerARN {
		t.Fatalf("%s", r.Body)
	}
	if r := e.iamOK(t, creds{}, "ListOpenIDConnectProviders"); !strings.Contains(string(r.Body), providerARN) {
		t.Fatalf("%s", r.Body)
	}
	if r := e.iamOK(t, creds{}, "GetOpenIDConnectProvider", "OpenIDConnectProviderArn", providerARN); xmlField(r.Body, "Url") != u.Host {
		t.Fatalf("%s", r.Body)
	}
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},
		"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"%s:sub":"system:serviceaccount:prod:orders","%s:aud":"sts.amazonaws.com"}}}]}`,
		providerARN, u.Host, u.Host)
	e.iamOK(t, creds{}, "CreateRole", "RoleName", "PodRole", "AssumeRolePolicyDocument", trust)
	e.iamOK(t, creds{}, "PutRolePolicy", "RoleName", "PodRole", "PolicyName", "seed", "PolicyDocument", seedPolicy)

	client := sts.New(sts.Options{BaseEndpoint: aws.String(e.http.URL), Region: "us-east-1", RetryMaxAttempts: 1})
	now := time.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": ti.Srv.URL, "sub": "system:serviceaccount:prod:orders", "aud": "sts.amazonaws.com", "exp": now.Add(time.Hour).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	assume := func(token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return client.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String("arn:aws:iam::000000000000:role/PodRole"), RoleSessionName: aws.String("pod-1"), WebIdentityToken: aws.String(token)})
	}
	out, err := assume(ti.Sign(t, "RS256", "rsa1", claims(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if *out.SubjectFromWebIdentityToken != "system:serviceaccount:prod:orders" || *out.Provider != providerARN ||
		!strings.HasSuffix(*out.AssumedRoleUser.Arn, "assumed-role/PodRole/pod-1") {
		t.Fatalf("%+v", out)
	}
	data := staticData(e, aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken})
	if _, err := data.ExecuteStatement(context.Background(), &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(e.clusterARN("default")),
		SecretArn: aws.String(e.srv.defaultSecretARN), Sql: aws.String("SELECT 1")}); err != nil {
		t.Fatalf("web identity credentials: %v", err)
	}
	if _, err := assume(ti.Sign(t, "ES256", "ec1", claims(nil))); err != nil {
		t.Fatalf("ES256: %v", err)
	}
	for _, tc := range []struct {
		name, token, code string
	}{
		{"wrong sub", ti.Sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["sub"] = "system:serviceaccount:dev:x" })), "AccessDenied"},
		{"wrong aud", ti.Sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["aud"] = "other" })), "InvalidIdentityToken"},
		{"expired", ti.Sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })), "ExpiredTokenException"},
		{"unknown kid", ti.Sign(t, "RS256", "nope", claims(nil)), "InvalidIdentityToken"},
		{"alg none", ti.Sign(t, "none", "rsa1", claims(nil)), "InvalidIdentityToken"},
		{"other issuer", ti.Sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["iss"] = "https://issuer.invalid" })), "InvalidIdentityToken"},
		{"garbage", "not-a-jwt", "InvalidIdentityToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assume(tc.token)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
	e.iamOK(t, creds{}, "DeleteOpenIDConnectProvider", "OpenIDConnectProviderArn", providerARN)
	if _, err := assume(ti.Sign(t, "RS256", "rsa1", claims(nil))); err == nil || !strings.Contains(err.Error(), "InvalidIdentityToken") {
		t.Fatalf("after deleting the provider: %v", err)
	}
	if strings.Contains(e.logs.String(), *out.Credentials.SecretAccessKey) {
		t.Fatal("a secret reached the log")
	}
}

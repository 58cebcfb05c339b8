package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// rdsRaw sends a signed RDS Query request with the given parameters.
func (e *testEnv) rdsRaw(t *testing.T, c creds, body string) rawResponse {
	t.Helper()
	return e.send(t, rawRequest{Body: []byte(body), ContentType: "application/x-www-form-urlencoded; charset=utf-8",
		Service: "rds", AKID: c.akid, Secret: c.secret})
}

// TestRDS_Wire checks the Query-protocol errors for bad input: the RDS
// error codes, their HTTP statuses and the XML envelope.
func TestRDS_Wire(t *testing.T) {
	e := newTestEnv(t, configFor())
	q := func(kv ...string) string {
		v := url.Values{"Version": {"2014-10-31"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	cases := []struct {
		name, body, code string
		status           int
	}{
		{"unknown action", q("Action", "LaunchRockets"), "InvalidAction", 400},
		{"wrong version", "Action=DescribeDBProxies&Version=2010-05-08", "InvalidAction", 400},
		{"repeated parameter", "Action=DescribeDBProxies&Version=2014-10-31&DBProxyName=a&DBProxyName=b", "MalformedQueryString", 400},
		{"missing name", q("Action", "DeleteDBProxy"), "MissingParameter", 400},
		{"bad name", q("Action", "CreateDBProxy", "DBProxyName", "1-bad", "EngineFamily", "MYSQL", "RoleArn", "r",
			"VpcSubnetIds.member.1", "s", "Auth.member.1.SecretArn", "x"), "InvalidParameterValue", 400},
		{"bad family", q("Action", "CreateDBProxy", "DBProxyName", "p", "EngineFamily", "ORACLE", "RoleArn", "r",
			"VpcSubnetIds.member.1", "s", "Auth.member.1.SecretArn", "x"), "InvalidParameterValue", 400},
		{"mixed IAMAuth", q("Action", "CreateDBProxy", "DBProxyName", "p", "EngineFamily", "MYSQL", "RoleArn", "r",
			"VpcSubnetIds.member.1", "s", "Auth.member.1.SecretArn", "x", "Auth.member.1.IAMAuth", "REQUIRED",
			"Auth.member.2.SecretArn", "y", "Auth.member.2.IAMAuth", "DISABLED"), "InvalidParameterCombination", 400},
		{"bad list index", q("Action", "CreateDBProxy", "DBProxyName", "p", "EngineFamily", "MYSQL", "RoleArn", "r",
			"VpcSubnetIds.member.0", "s"), "InvalidParameterValue", 400},
		{"no such proxy", q("Action", "DescribeDBProxies", "DBProxyName", "nope"), "DBProxyNotFoundFault", 404},
		{"no such endpoint", q("Action", "DeleteDBProxyEndpoint", "DBProxyEndpointName", "nope"), "DBProxyEndpointNotFoundFault", 404},
		{"bad percent", q("Action", "ModifyDBProxyTargetGroup", "DBProxyName", "nope", "TargetGroupName", "default",
			"ConnectionPoolConfig.MaxConnectionsPercent", "101"), "InvalidParameterValue", 400},
		{"tags on a foreign ARN", q("Action", "ListTagsForResource", "ResourceName", "arn:aws:rds:eu-west-1:1:cluster:x"), "InvalidParameterValue", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.rdsRaw(t, creds{}, tc.body)
			if r.Status != tc.status || xmlField(r.Body, "Code") != tc.code ||
				!strings.Contains(string(r.Body), `<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">`) {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
		})
	}
	t.Run("bad signature", func(t *testing.T) {
		r := e.rdsRaw(t, creds{akid: e.akid, secret: "wrong-secret-wrong-secret-wrong-secret00"}, q("Action", "DescribeDBProxies"))
		if r.Status != http.StatusForbidden || xmlField(r.Body, "Code") != "SignatureDoesNotMatch" {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
	t.Run("nothing half-created", func(t *testing.T) {
		// A proxy whose tags are refused does not exist afterwards.
		body := q("Action", "CreateDBProxy", "DBProxyName", "half", "EngineFamily", "MYSQL", "RoleArn", "r",
			"VpcSubnetIds.member.1", "s", "Auth.member.1.SecretArn", "x", "Tags.Tag.1.Key", "aws:reserved", "Tags.Tag.1.Value", "v")
		if r := e.rdsRaw(t, creds{}, body); r.Status != 400 || xmlField(r.Body, "Code") != "InvalidParameterValue" {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
		if r := e.rdsRaw(t, creds{}, q("Action", "DescribeDBProxies", "DBProxyName", "half")); r.Status != 404 {
			t.Fatalf("half-created proxy: %d %s", r.Status, r.Body)
		}
	})
}

// TestRDS_IAM checks that every RDS action is authorized as rds:<Action>
// on the RDS ARN it acts on.
func TestRDS_IAM(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t, configFor())
	e.iamOK(t, creds{}, "CreateUser", "UserName", "ops")
	e.iamOK(t, creds{}, "PutUserPolicy", "UserName", "ops", "PolicyName", "p", "PolicyDocument",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rds:Describe*","rds:CreateDBProxy"],"Resource":"*"},`+
			`{"Effect":"Deny","Action":"rds:DisableHttpEndpoint","Resource":"arn:aws:rds:us-east-1:000000000000:cluster:default"}]}`)
	k := e.createKey(t, "ops")
	c := rds.New(rds.Options{BaseEndpoint: aws.String(e.http.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(k.akid, k.secret, ""), RetryMaxAttempts: 1})
	if _, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{}); err != nil {
		t.Fatalf("allowed DescribeDBClusters: %v", err)
	}
	_, err := c.DisableHttpEndpoint(ctx, &rds.DisableHttpEndpointInput{ResourceArn: aws.String(e.clusterARN("default"))})
	wantAWSError(t, err, "AccessDenied", 403)
	out, err := c.CreateDBProxy(ctx, &rds.CreateDBProxyInput{DBProxyName: aws.String("p1"), EngineFamily: rdstypes.EngineFamilyMysql,
		RoleArn: aws.String("r"), VpcSubnetIds: []string{"s"}, Auth: []rdstypes.UserAuthConfig{{SecretArn: aws.String("default")}}})
	if err != nil {
		t.Fatalf("allowed CreateDBProxy: %v", err)
	}
	_, err = c.DeleteDBProxy(ctx, &rds.DeleteDBProxyInput{DBProxyName: aws.String("p1")})
	wantAWSError(t, err, "AccessDenied", 403)
	_, err = c.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: out.DBProxy.DBProxyArn,
		Tags: []rdstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantAWSError(t, err, "AccessDenied", 403)
}

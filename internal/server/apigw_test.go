package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/smithy-go"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// apigwClient returns an API Gateway client signing as c (root when empty).
func (e *testEnv) apigwClient(c creds) *apigateway.Client {
	if c.akid == "" {
		c = creds{akid: e.akid, secret: e.secretKey}
	}
	return apigateway.New(apigateway.Options{BaseEndpoint: aws.String(e.http.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(c.akid, c.secret, c.token), RetryMaxAttempts: 1})
}

// wantAPIError checks err is the API Gateway exception code with status.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("got %v, want %s", err, code)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("%s: status %d, want %d", code, re.HTTPStatusCode(), status)
	}
}

// TestAPIGateway_Seed003 creates the seed's key and usage plan through the
// API Gateway API while the server runs: the seed's curl works at once,
// the rate limit answers 429, get-usage counts the admitted calls, and
// disabling or deleting the key stops it at once.
func TestAPIGateway_Seed003(t *testing.T) {
	tg := mysqlTarget(t, "db")
	tbl := uniqueTable("apigw")
	cfg := seed003Config(tg, tbl)
	cfg.APIKeys = nil
	env := newTestEnv(t, cfg)
	secretARN := env.createSecret(t, "app", tg.user, tg.password)
	ctx := context.Background()
	exec := func(sql string) {
		t.Helper()
		if _, err := env.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(env.clusterARN("db")),
			SecretArn: aws.String(secretARN), Sql: aws.String(sql)}); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE TABLE " + tbl + " (key1 varchar(200), key2 varchar(200), key3 varchar(200), key4 varchar(200), key5 varchar(200), key6 varchar(200), key7 varchar(200))")
	defer exec("DROP TABLE " + tbl)
	gw := env.apigwClient(creds{})
	url := env.http.URL + "/v1/items"

	key, err := gw.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("shop-client"), Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(aws.ToString(key.Value)) != 40 || !key.Enabled || key.CreatedDate == nil {
		t.Fatalf("created key: %+v", key)
	}
	value := aws.ToString(key.Value)
	if st, body := seedCurl(t, url, value); st != 201 {
		t.Fatalf("key without a plan: %d %s", st, body)
	}
	plan, err := gw.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("standard"),
		Throttle:  &types.ThrottleSettings{RateLimit: 0.001, BurstLimit: 2},
		Quota:     &types.QuotaSettings{Limit: 100, Period: types.QuotaPeriodTypeDay},
		ApiStages: []types.ApiStage{{ApiId: aws.String("sqlgate"), Stage: aws.String("add-item")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gw.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")}); err != nil {
		t.Fatal(err)
	}
	t.Run("rate limit and usage", func(t *testing.T) {
		for i := range 2 {
			if st, body := seedCurl(t, url, value); st != 201 {
				t.Fatalf("call %d under the plan: %d %s", i, st, body)
			}
		}
		if st, body := seedCurl(t, url, value); st != 429 {
			t.Fatalf("over the burst: %d %s", st, body)
		}
		// The plan's stages do not include list-items: 403.
		if st, _ := get(t, url, value); st != 403 {
			t.Fatalf("stage outside the plan: %d", st)
		}
		day := time.Now().UTC().Format("2006-01-02")
		u, err := gw.GetUsage(ctx, &apigateway.GetUsageInput{UsagePlanId: plan.Id, StartDate: aws.String(day), EndDate: aws.String(day), KeyId: key.Id})
		if err != nil {
			t.Fatal(err)
		}
		got := u.Items[aws.ToString(key.Id)]
		if len(got) != 1 || got[0][0] != 3 || got[0][1] != 97 {
			t.Fatalf("usage = %v (want 3 calls today, 97 of the quota left)", u.Items)
		}
	})
	t.Run("values and access", func(t *testing.T) {
		keys, err := gw.GetApiKeys(ctx, &apigateway.GetApiKeysInput{IncludeValues: aws.Bool(true)})
		if err != nil || len(keys.Items) != 1 || aws.ToString(keys.Items[0].Value) != value {
			t.Fatalf("get-api-keys --include-values: %+v %v", keys, err)
		}
		env.iamOK(t, creds{}, "CreateUser", "UserName", "lister")
		env.iamOK(t, creds{}, "PutUserPolicy", "UserName", "lister", "PolicyName", "list", "PolicyDocument",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"apigateway:GET","Resource":"arn:aws:apigateway:us-east-1::/apikeys"}]}`)
		lister := env.apigwClient(env.createKey(t, "lister"))
		keys, err = lister.GetApiKeys(ctx, &apigateway.GetApiKeysInput{IncludeValues: aws.Bool(true)})
		if err != nil || len(keys.Items) != 1 || keys.Items[0].Value != nil {
			t.Fatalf("a caller without apigateway:GET on the key sees its value: %+v %v", keys, err)
		}
		_, err = lister.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: key.Id})
		wantAPIError(t, err, "AccessDeniedException", 403)
	})
	t.Run("update applies at once", func(t *testing.T) {
		if _, err := gw.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: plan.Id, PatchOperations: []types.PatchOperation{
			{Op: types.OpRemove, Path: aws.String("/throttle")}}}); err != nil {
			t.Fatal(err)
		}
		if st, body := seedCurl(t, url, value); st != 201 {
			t.Fatalf("throttle removed: %d %s", st, body)
		}
		off, err := gw.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: key.Id, PatchOperations: []types.PatchOperation{
			{Op: types.OpReplace, Path: aws.String("/enabled"), Value: aws.String("false")}}})
		if err != nil || off.Enabled {
			t.Fatal(off, err)
		}
		if st, _ := seedCurl(t, url, value); st != 403 {
			t.Fatalf("disabled key: %d", st)
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, err := gw.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: aws.String("nope")})
		wantAPIError(t, err, "NotFoundException", 404)
		_, err = gw.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("shop-client")})
		wantAPIError(t, err, "ConflictException", 409)
		_, err = gw.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("bad"),
			Quota: &types.QuotaSettings{Limit: 5, Period: "YEAR"}})
		wantAPIError(t, err, "BadRequestException", 400)
		_, err = gw.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("bad"),
			ApiStages: []types.ApiStage{{ApiId: aws.String("sqlgate"), Stage: aws.String("no-such-endpoint")}}})
		wantAPIError(t, err, "NotFoundException", 404)
		_, err = gw.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: key.Id, PatchOperations: []types.PatchOperation{
			{Op: types.OpReplace, Path: aws.String("/value"), Value: aws.String("x")}}})
		wantAPIError(t, err, "BadRequestException", 400)
		_, err = gw.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")})
		wantAPIError(t, err, "ConflictException", 409)
		plans, err := gw.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{})
		if err != nil || len(plans.Items) != 1 {
			t.Fatalf("nothing half-created: %+v %v", plans, err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if _, err := gw.DeleteUsagePlanKey(ctx, &apigateway.DeleteUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: key.Id}); err != nil {
			t.Fatal(err)
		}
		pk, err := gw.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: plan.Id})
		if err != nil || len(pk.Items) != 0 {
			t.Fatal(pk, err)
		}
		if _, err := gw.DeleteUsagePlan(ctx, &apigateway.DeleteUsagePlanInput{UsagePlanId: plan.Id}); err != nil {
			t.Fatal(err)
		}
		if _, err := gw.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: key.Id}); err != nil {
			t.Fatal(err)
		}
		_, err = gw.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: key.Id})
		wantAPIError(t, err, "NotFoundException", 404)
	})
	if strings.Contains(env.logs.String(), value) {
		t.Fatal("an API key value is in the log")
	}
}

// TestAPIGateway_ReservedPaths checks an endpoint may not declare an API
// Gateway path, and that those paths need a signature.
func TestAPIGateway_ReservedPaths(t *testing.T) {
	for _, path := range []string{"/apikeys", "/usageplans/x", "/restapis/{id}", "/ApiKeys"} {
		cfg := configFor()
		cfg.Endpoints = []config.Endpoint{{Name: "x", Method: "GET", Path: path, Cluster: "default", Secret: "default",
			SQL: config.Statements{"SELECT 1 AS one"}}}
		var fe *config.FieldError
		if err := cfg.Validate(); !errors.As(err, &fe) || fe.Field != "endpoints[0].path" || !strings.Contains(err.Error(), "API Gateway") {
			t.Errorf("%s: %v", path, err)
		}
	}
	env := newTestEnv(t, configFor())
	for _, path := range []string{"/apikeys", "/usageplans"} {
		st, body := get(t, env.http.URL+path, "")
		if st != http.StatusForbidden || !strings.Contains(body, "MissingAuthenticationToken") {
			t.Errorf("unsigned GET %s: %d %s", path, st, body)
		}
	}
	_, err := env.apigwClient(creds{}).GetRestApis(context.Background(), &apigateway.GetRestApisInput{})
	wantAPIError(t, err, "NotFoundException", 404)
}

// TestAPIGateway_Pages checks limit and position page through the keys.
func TestAPIGateway_Pages(t *testing.T) {
	env := newTestEnv(t, configFor())
	gw, ctx := env.apigwClient(creds{}), context.Background()
	for i := range 5 {
		if _, err := gw.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String(fmt.Sprintf("k%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := apigateway.NewGetApiKeysPaginator(gw, &apigateway.GetApiKeysInput{Limit: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range out.Items {
			names = append(names, aws.ToString(k.Name))
			if k.Enabled {
				t.Errorf("%s: enabled without --enabled", aws.ToString(k.Name))
			}
		}
	}
	if strings.Join(names, ",") != "k0,k1,k2,k3,k4" {
		t.Fatalf("pages: %v", names)
	}
}

// TestAPIGateway_TwoNodes checks a key and plan created, changed and
// deleted through one node serve on the other within a second.
func TestAPIGateway_TwoNodes(t *testing.T) {
	dsn := testdb.PGSchemaURL(t, "sqlgate_twonode_test_")
	mk := func() *config.Config {
		cfg := configFor()
		cfg.Endpoints = []config.Endpoint{{Name: "ping", Method: "GET", Path: "/v1/ping", Cluster: "default", Secret: "default",
			SQL: config.Statements{"SELECT 1 AS one"}, APIKeyRequired: true}}
		return cfg
	}
	key := make([]byte, barrier.KeySize)
	_, _ = rand.Read(key)
	t.Setenv(barrier.EnvMasterKey, base64.StdEncoding.EncodeToString(key))
	a, b := startNodeWith(t, dsn, mk()), startNodeWith(t, dsn, mk())
	ctx := context.Background()
	gwA, gwB := a.apigwClient(creds{}), b.apigwClient(creds{})
	ping := func(e *testEnv, value string) int {
		st, _ := get(t, e.http.URL+"/v1/ping", value)
		return st
	}
	k, err := gwA.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("shared"), Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	value := aws.ToString(k.Value)
	if st := ping(a, value); st != 200 {
		t.Fatalf("node A at once: %d", st)
	}
	testdb.Eventually(t, time.Second, 10*time.Millisecond, "key created on A serves on B", func() bool { return ping(b, value) == 200 })
	got, err := gwB.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: k.Id, IncludeValue: aws.Bool(true)})
	if err != nil || aws.ToString(got.Value) != value {
		t.Fatalf("node B opens the sealed value: %+v %v", got, err)
	}
	plan, err := gwB.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("one-a-day"),
		Quota: &types.QuotaSettings{Limit: 1, Period: types.QuotaPeriodTypeDay}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gwB.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: k.Id, KeyType: aws.String("API_KEY")}); err != nil {
		t.Fatal(err)
	}
	// Node A counted its call before the binding, node B did not: the
	// plan bound on B limits the key on A.
	testdb.Eventually(t, time.Second, 10*time.Millisecond, "plan bound on B limits on A", func() bool { return ping(a, value) == 429 })
	if _, err := gwB.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: k.Id}); err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, time.Second, 10*time.Millisecond, "key deleted on B refused on A", func() bool { return ping(a, value) == 403 })
}

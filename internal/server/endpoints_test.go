package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"

	"github.com/sqlgate/sqlgate/internal/config"
)

// seed003Body is the body of the seed's curl, byte for byte (two spaces
// before key7, a trailing space).
const seed003Body = `{"key1":"value1", "key2":"value2", "key3":"value3", "key4":"value4", "key5":"value5", "key6":"value6",  "key7":"value7"} `

const seed003Key = "seed003-api-key-0123456789"

// seed003Config declares the seed's POST endpoint (seven keyN fields into
// tbl) and a GET endpoint to read them back, on cluster tg.
func seed003Config(tg dbTarget, tbl string) *config.Config {
	cfg := configFor(tg)
	params := map[string]config.Param{}
	var cols, vals []string
	for i := 1; i <= 7; i++ {
		k := fmt.Sprintf("key%d", i)
		params[k] = config.Param{From: "body", Type: "string", Required: true, MaxLength: 200}
		cols, vals = append(cols, k), append(vals, ":"+k)
	}
	cfg.Endpoints = []config.Endpoint{{
		Name: "add-item", Method: "POST", Path: "/v1/items", Cluster: tg.cluster.Name, Secret: "app",
		SQL:    config.Statements{"INSERT INTO " + tbl + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")"},
		Params: params, APIKeyRequired: true, AllowCIDRs: []string{"127.0.0.0/8", "::1/128"}, Response: config.Response{Status: 201},
	}, {
		Name: "list-items", Method: "GET", Path: "/v1/items", Cluster: tg.cluster.Name, Secret: "app",
		SQL: config.Statements{"SELECT key1, key7 FROM " + tbl + " ORDER BY key1 LIMIT :limit OFFSET :offset"}, APIKeyRequired: true,
	}, {
		// Paged by sqlgate's derived-table wrapper (no :limit/:offset).
		Name: "count-items", Method: "GET", Path: "/v1/items/count", Cluster: tg.cluster.Name, Secret: "app",
		SQL: config.Statements{"SELECT COUNT(*) AS n FROM " + tbl}, APIKeyRequired: true,
	}}
	cfg.APIKeys = []config.APIKey{{Name: "seed", Value: seed003Key}}
	return cfg
}

// TestEndpoints_Seed003 runs the seed's exact curl against a MariaDB and
// a PostgreSQL table, through the full server (no SigV4 for endpoints).
func TestEndpoints_Seed003(t *testing.T) {
	for _, db := range []struct {
		name string
		mk   func(*testing.T, string) dbTarget
	}{{"mariadb", mysqlTarget}, {"postgres", pgTarget}} {
		t.Run(db.name, func(t *testing.T) {
			tg := db.mk(t, "db")
			engineName := db.name
			tbl := uniqueTable("seed003")
			env := newTestEnv(t, seed003Config(tg, tbl))
			secretARN := env.createSecret(t, "app", tg.user, tg.password)
			ctx := context.Background()
			exec := func(sql string) (*rdsdata.ExecuteStatementOutput, error) {
				return env.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(env.clusterARN("db")),
					SecretArn: aws.String(secretARN), Sql: aws.String(sql)})
			}
			var cols []string
			for i := 1; i <= 7; i++ {
				cols = append(cols, fmt.Sprintf("key%d varchar(200)", i))
			}
			if _, err := exec("CREATE TABLE " + tbl + " (" + strings.Join(cols, ", ") + ")"); err != nil {
				t.Fatal(err)
			}
			defer func() { _, _ = exec("DROP TABLE " + tbl) }()

			status, body := seedCurl(t, env.http.URL+"/v1/items", seed003Key)
			if status != 201 || body != `{"updated":1,"generated":{}}` {
				t.Fatalf("%s: curl = %d %s", engineName, status, body)
			}
			out, err := exec("SELECT key1, key2, key3, key4, key5, key6, key7 FROM " + tbl)
			if err != nil || len(out.Records) != 1 {
				t.Fatalf("stored rows: %v %v", out, err)
			}
			b, _ := json.Marshal(out.Records[0])
			for i := 1; i <= 7; i++ {
				if !strings.Contains(string(b), fmt.Sprintf("value%d", i)) {
					t.Fatalf("stored %s", b)
				}
			}
			status, body = get(t, env.http.URL+"/v1/items?limit=1", seed003Key)
			if status != 200 || body != `{"items":[{"key1":"value1","key7":"value7"}]}` {
				t.Fatalf("GET = %d %s", status, body)
			}
			status, body = get(t, env.http.URL+"/v1/items/count", seed003Key)
			if status != 200 || body != `{"items":[{"n":1}]}` {
				t.Fatalf("GET count = %d %s", status, body)
			}
			for _, tt := range []struct {
				name, key string
				status    int
			}{{"missing key", "", 403}, {"unknown key", "wrong-key-0123456789abcd", 403}} {
				if status, body := seedCurl(t, env.http.URL+"/v1/items", tt.key); status != tt.status || body != `{"message":"Forbidden"}` {
					t.Errorf("%s: %d %s", tt.name, status, body)
				}
			}
		})
	}
}

// seedCurl runs the seed's command: with curl when installed, else the
// same request from Go.
func seedCurl(t *testing.T, url, key string) (int, string) {
	t.Helper()
	if path, err := exec.LookPath("curl"); err == nil {
		args := []string{"-s", "-w", "\n%{http_code}", "-X", "POST", url}
		if key != "" {
			args = append(args, "-H", "x-api-key: "+key)
		}
		args = append(args, "-H", "Content-Type: application/json", "-d", seed003Body)
		out, err := exec.Command(path, args...).Output()
		if err != nil {
			t.Fatalf("curl: %v", err)
		}
		body, code, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		var status int
		fmt.Sscan(code, &status)
		return status, body
	}
	req, _ := http.NewRequest("POST", url, strings.NewReader(seed003Body))
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func get(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("x-api-key", key)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServer_ReloadEndpoints checks routing before SigV4, /openapi.json,
// and that a bad reload names the field and keeps the old set.
func TestServer_ReloadEndpoints(t *testing.T) {
	cfg := configFor()
	cfg.Endpoints = []config.Endpoint{{Name: "one", Method: "GET", Path: "/v1/one", Cluster: "default", Secret: "default",
		SQL: config.Statements{"SELECT 1 AS one"}}}
	env := newTestEnv(t, cfg)
	if status, body := get(t, env.http.URL+"/v1/one", ""); status != 200 || body != `{"items":[{"one":1}]}` {
		t.Fatalf("GET /v1/one = %d %s", status, body)
	}
	if status, body := get(t, env.http.URL+"/openapi.json", ""); status != 200 || !strings.Contains(body, `"operationId": "one"`) {
		t.Fatalf("openapi = %d %s", status, body)
	}
	// Unknown paths still go to SigV4 (and fail there).
	if status, _ := get(t, env.http.URL+"/v1/two", ""); status == 200 {
		t.Fatal("/v1/two served")
	}
	bad := configFor()
	bad.Endpoints = []config.Endpoint{{Name: "two", Method: "GET", Path: "/v1/two", Cluster: "nope", Secret: "default", SQL: config.Statements{"SELECT 2"}}}
	var fe *config.FieldError
	if err := env.srv.ReloadEndpoints(bad); !errors.As(err, &fe) || fe.Field != "endpoints[0].cluster" {
		t.Fatalf("bad reload: %v", err)
	}
	if status, _ := get(t, env.http.URL+"/v1/one", ""); status != 200 {
		t.Fatal("old set stopped serving")
	}
	good := configFor()
	good.Endpoints = []config.Endpoint{{Name: "two", Method: "GET", Path: "/v1/two", Cluster: "default", Secret: "default", SQL: config.Statements{"SELECT 2 AS two"}}}
	if err := env.srv.ReloadEndpoints(good); err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, env.http.URL+"/v1/two", ""); status != 200 || body != `{"items":[{"two":2}]}` {
		t.Fatalf("after reload: %d %s", status, body)
	}
	// The Data API is unaffected.
	if _, err := env.data.ExecuteStatement(context.Background(), &rdsdata.ExecuteStatementInput{
		ResourceArn: aws.String(env.clusterARN("default")), SecretArn: aws.String("default"), Sql: aws.String("SELECT 1")}); err != nil {
		t.Fatal(err)
	}
}

package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/sqlgate/sqlgate/internal/config"
)

// TestEndpoints_Isolation: SQL endpoints share the Data API's pool, so
// session state a Data API caller leaves must never reach an endpoint
// request (nor a multibyte-charset injection through a SET NAMES).
func TestEndpoints_Isolation(t *testing.T) {
	for _, db := range []struct {
		name  string
		mk    func(*testing.T, string) dbTarget
		cases []isoCase
	}{
		{"mariadb", mysqlTarget, []isoCase{{"SET NAMES gbk", "SELECT @@character_set_client"},
			{"SET @v = 'x'", "SELECT COALESCE(@v, 'unset')"}, {"USE mysql", "SELECT DATABASE()"},
			{"SET SESSION max_statement_time = 0.001", "SELECT CAST(SLEEP(0.01) AS CHAR)"}}},
		{"postgres", pgTarget, []isoCase{{"SET search_path TO pg_catalog", "SELECT current_setting('search_path')"},
			{"SET statement_timeout = 1", "SELECT pg_sleep(0.01)::text"},
			{"SET client_encoding = 'LATIN1'", "SELECT current_setting('client_encoding')"}}},
	} {
		t.Run(db.name, func(t *testing.T) {
			tg := db.mk(t, "db")
			tg.cluster.MaxConnections = 1
			cfg := configFor(tg)
			cfg.Endpoints = []config.Endpoint{{Name: "echo", Method: "GET", Path: "/v1/echo", Cluster: "db", Secret: "app",
				SQL:    config.Statements{"SELECT :s AS v"},
				Params: map[string]config.Param{"s": {From: "query", Type: "string", Required: true, MaxLength: 200}}}}
			for i, c := range db.cases {
				cfg.Endpoints = append(cfg.Endpoints, config.Endpoint{Name: "probe" + string(rune('a'+i)), Method: "GET",
					Path: "/v1/probe/" + string(rune('a'+i)), Cluster: "db", Secret: "app", SQL: config.Statements{c.probe}})
			}
			env := newTestEnv(t, cfg)
			secret := env.createSecret(t, "app", tg.user, tg.password)
			e := isoEnv{testEnv: env, engine: tg.cluster.Engine, arn: env.clusterARN("db"), secret: secret, a: env.data}
			probe := func(i int) string {
				status, body := get(t, env.http.URL+"/v1/probe/"+string(rune('a'+i)), "")
				if status != http.StatusOK {
					return "status " + http.StatusText(status)
				}
				return body
			}
			for i, c := range db.cases {
				want := probe(i)
				if !json.Valid([]byte(want)) {
					t.Fatalf("probe %s before: %s", c.probe, want)
				}
				t.Logf("%s: %s", c.probe, want)
				if _, err := e.run(e.a, c.set); err != nil {
					t.Fatalf("%s: %v", c.set, err)
				}
				if got := probe(i); got != want {
					t.Errorf("endpoint after a Data API %q: %s answered %s, want %s", c.set, c.probe, got, want)
				}
			}
			if db.name != "mariadb" {
				return
			}
			payload := "丁' UNION SELECT 'injected' -- "
			for range 3 {
				if _, err := e.run(e.a, "SET NAMES gbk"); err != nil {
					t.Fatal(err)
				}
				status, body := get(t, env.http.URL+"/v1/echo?s="+url.QueryEscape(payload), "")
				var out struct{ Items []struct{ V string } }
				if err := json.Unmarshal([]byte(body), &out); status != http.StatusOK || err != nil || len(out.Items) != 1 || out.Items[0].V != payload {
					t.Fatalf("echo after SET NAMES gbk: %d %s", status, body)
				}
			}
		})
	}
}

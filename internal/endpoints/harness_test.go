package endpoints

import (
	"github.com/sqlgate/sqlgate/internal/testdb"

	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engine/sqlite"
	"github.com/sqlgate/sqlgate/internal/exec"
	"github.com/sqlgate/sqlgate/internal/metrics"
	"github.com/sqlgate/sqlgate/internal/pool"
	"github.com/sqlgate/sqlgate/internal/state"
)

// testKey is the API key declared in testConfig.
const testKey = "test-key-0123456789abcdef"

// fakeSecrets serves one login for every secret ID it knows.
type fakeSecrets map[string]string

func (f fakeSecrets) SecretString(_ context.Context, id string) (string, string, error) {
	v, ok := f[id]
	if !ok {
		return "", "", state.ErrNotFound
	}
	return "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + id, v, nil
}

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer = testdb.LogBuffer

// testEnv is a Handler over an embedded SQLite cluster "lite".
type testEnv struct {
	h     *Handler
	srv   *httptest.Server
	st    state.Store
	clock *testdb.Clock
	reg   *metrics.Registry
	logs  *syncBuffer
	pool  *pool.Pool
}

// testConfig parses a config whose endpoints, api_keys and usage_plans
// are given as YAML, over one SQLite cluster "lite".
func testConfig(t testing.TB, yamlText string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte("clusters: [{name: lite, engine: sqlite}]\n" + yamlText))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newTestEnv(t testing.TB, yamlText string, setup ...string) *testEnv {
	t.Helper()
	dir := t.TempDir()
	eng, err := sqlite.New(sqlite.Config{Path: filepath.Join(dir, "lite.db")})
	if err != nil {
		t.Fatal(err)
	}
	p := pool.New(eng, pool.Config{Max: 8})
	st, err := state.OpenSQLite(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{st: st, clock: testdb.NewClock(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)),
		reg: metrics.NewRegistry(), logs: &syncBuffer{}, pool: p}
	creds := engine.Credentials{User: "app", Password: "pw"}
	c, err := p.Borrow(context.Background(), creds)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range setup {
		if _, err := c.Exec(context.Background(), sql, nil, 0); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	p.Release(c)
	e.h, err = New(context.Background(), testConfig(t, yamlText), Options{
		Backends: map[string]*exec.Cluster{"lite": {Name: "lite", Dialect: engine.DialectSQLite, Pool: p,
			StatementTimeout: 5 * time.Second, BorrowTimeout: time.Second, MaxResponseBytes: 1 << 20}},
		Secrets: fakeSecrets{"app": `{"username":"app","password":"pw"}`}, State: st, Metrics: e.reg,
		Log: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Now: e.clock.Now,
		FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !e.h.Match(r) {
			http.NotFound(w, r)
			return
		}
		e.h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		e.srv.Close()
		_ = e.h.Close()
		p.Close()
		_ = eng.Close()
		_ = st.Close()
	})
	return e
}

// do sends one request; body "" sends none. Headers are "Name: value".
func (e *testEnv) do(t testing.TB, method, path, body string, headers ...string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// itemsYAML declares the endpoints most tests use over table items.
const itemsYAML = `
endpoints:
  - name: add-item
    method: POST
    path: /v1/items
    cluster: lite
    secret: app
    sql: INSERT INTO items (k1, k2, price, ok) VALUES (:key1, :key2, :price, :ok)
    params:
      key1: {from: body, type: string, required: true, max_length: 10}
      key2: {from: body, type: integer, min: 0}
      price: {from: body, type: number}
      ok: {from: body, type: boolean}
    api_key_required: true
    response: {status: 201}
    max_body_bytes: 256
  - name: list-items
    method: GET
    path: /v1/items
    cluster: lite
    secret: app
    sql: SELECT id, k1, k2 FROM items WHERE (:k1 IS NULL OR k1 = :k1) ORDER BY id
    params:
      k1: {from: query, type: string}
    api_key_required: true
    page_size: 2
    max_page_size: 3
  - name: get-item
    method: GET
    path: /v1/items/{id}
    cluster: lite
    secret: app
    sql: SELECT id, k1, k2 FROM items WHERE id = :id AND (:tenant IS NULL OR k1 = :tenant)
    params:
      id: {from: path, type: integer}
      tenant: {from: header, type: string, name: X-Tenant}
    api_key_required: true
  - name: delete-item
    method: DELETE
    path: /v1/items/{id}
    cluster: lite
    secret: app
    sql: DELETE FROM items WHERE id = :id
    params:
      id: {from: path, type: integer}
api_keys:
  - name: tester
    value: ` + testKey + `
`

const itemsTable = "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, k1 TEXT UNIQUE, k2 INTEGER, price REAL, ok BOOLEAN)"

var testCreds = engine.Credentials{User: "app", Password: "pw"}

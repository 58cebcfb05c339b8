package endpoints

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const (
	key  = "X-Api-Key: " + testKey
	ctJS = "Content-Type: application/json"
)

// TestHandler_ServeHTTP covers every validation and auth answer.
func TestHandler_ServeHTTP(t *testing.T) {
	e := newTestEnv(t, itemsYAML, itemsTable)
	big := `{"key1":"` + strings.Repeat("x", 300) + `"}`
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		field, msg               string // expected "field" member and message substring
	}{
		{"created", "POST", "/v1/items", `{"key1":"a","key2":2,"price":1.5,"ok":true}`, []string{key, ctJS}, 201, "", ""},
		{"optional fields null", "POST", "/v1/items", `{"key1":"b","key2":null}`, []string{key, ctJS + "; charset=utf-8"}, 201, "", ""},
		{"missing api key", "POST", "/v1/items", `{"key1":"c"}`, []string{ctJS}, 403, "", "Forbidden"},
		{"unknown api key", "POST", "/v1/items", `{"key1":"c"}`, []string{"X-Api-Key: nope-0123456789abcdefghij", ctJS}, 403, "", "Forbidden"},
		{"missing field", "POST", "/v1/items", `{"key2":1}`, []string{key, ctJS}, 400, "key1", "required"},
		{"extra field", "POST", "/v1/items", `{"key1":"c","key9":1}`, []string{key, ctJS}, 400, "key9", "unknown field"},
		{"string for integer", "POST", "/v1/items", `{"key1":"c","key2":"2"}`, []string{key, ctJS}, 400, "key2", "integer"},
		{"fraction for integer", "POST", "/v1/items", `{"key1":"c","key2":2.5}`, []string{key, ctJS}, 400, "key2", "integer"},
		{"number for string", "POST", "/v1/items", `{"key1":7}`, []string{key, ctJS}, 400, "key1", "string"},
		{"string for boolean", "POST", "/v1/items", `{"key1":"c","ok":"yes"}`, []string{key, ctJS}, 400, "ok", "boolean"},
		{"string for number", "POST", "/v1/items", `{"key1":"c","price":"1"}`, []string{key, ctJS}, 400, "price", "number"},
		{"too long", "POST", "/v1/items", `{"key1":"12345678901"}`, []string{key, ctJS}, 400, "key1", "longer than 10"},
		{"below min", "POST", "/v1/items", `{"key1":"c","key2":-1}`, []string{key, ctJS}, 400, "key2", "less than 0"},
		{"not an object", "POST", "/v1/items", `[1]`, []string{key, ctJS}, 400, "body", "JSON object"},
		{"bad json", "POST", "/v1/items", `{"key1":`, []string{key, ctJS}, 400, "body", "JSON object"},
		{"body too large", "POST", "/v1/items", big, []string{key, ctJS}, 413, "", "larger than 256"},
		{"wrong content type", "POST", "/v1/items", `{"key1":"c"}`, []string{key, "Content-Type: text/plain"}, 415, "", "application/json"},
		{"no content type", "POST", "/v1/items", `{"key1":"c"}`, []string{key}, 415, "", "application/json"},
		{"duplicate", "POST", "/v1/items", `{"key1":"a"}`, []string{key, ctJS}, 409, "", "Conflict"},
		{"method not allowed", "PUT", "/v1/items", `{}`, []string{key, ctJS}, 405, "", "Method Not Allowed"},
		{"unknown query param", "GET", "/v1/items?x=1", "", []string{key}, 400, "x", "unknown query parameter"},
		{"repeated query param", "GET", "/v1/items?k1=a&k1=b", "", []string{key}, 400, "k1", "more than once"},
		{"bad limit", "GET", "/v1/items?limit=4", "", []string{key}, 400, "limit", "1 to 3"},
		{"bad cursor", "GET", "/v1/items?next=abc", "", []string{key}, 400, "next", "cursor"},
		{"path param type", "GET", "/v1/items/abc", "", []string{key}, 400, "id", "integer"},
		{"get body rejected", "GET", "/v1/items/1", `{"a":1}`, []string{key, ctJS}, 400, "body", "no request body"},
		{"get by id", "GET", "/v1/items/1", "", []string{key}, 200, "", ""},
		{"header param", "GET", "/v1/items/1", "", []string{key, "X-Tenant: zzz"}, 200, "", ""},
		{"no key needed", "DELETE", "/v1/items/99", "", nil, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := e.do(t, tt.method, tt.path, tt.body, tt.headers...)
			if status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", status, tt.status, body)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if tt.status >= 400 {
				if msg, _ := got["message"].(string); !strings.Contains(msg, tt.msg) {
					t.Errorf("message = %q, want it to contain %q", msg, tt.msg)
				}
				if f, _ := got["field"].(string); f != tt.field {
					t.Errorf("field = %q, want %q", f, tt.field)
				}
			}
		})
	}
	t.Run("forbidden body is API Gateway's", func(t *testing.T) {
		_, body, _ := e.do(t, "POST", "/v1/items", `{}`, ctJS)
		if body != `{"message":"Forbidden"}` {
			t.Fatalf("body = %s", body)
		}
	})
}

func TestHandler_Responses(t *testing.T) {
	e := newTestEnv(t, itemsYAML, itemsTable)
	for i, k := range []string{"a", "b", "c", "d", "e"} {
		status, body, _ := e.do(t, "POST", "/v1/items", `{"key1":"`+k+`","key2":`+string(rune('0'+i))+`}`, key, ctJS)
		if status != 201 || body != `{"updated":1,"generated":{"id":`+string(rune('1'+i))+`}}` {
			t.Fatalf("insert %s: %d %s", k, status, body)
		}
	}
	t.Run("pagination", func(t *testing.T) {
		var got []string
		next, pages := "", 0
		for {
			path := "/v1/items"
			if next != "" {
				path += "?next=" + next
			}
			status, body, _ := e.do(t, "GET", path, "", key)
			if status != 200 {
				t.Fatalf("%s: %d %s", path, status, body)
			}
			var page struct {
				Items []map[string]any `json:"items"`
				Next  string           `json:"next"`
			}
			if err := json.Unmarshal([]byte(body), &page); err != nil {
				t.Fatal(err)
			}
			pages++
			for _, it := range page.Items {
				got = append(got, it["k1"].(string))
			}
			if next = page.Next; next == "" {
				break
			}
		}
		if strings.Join(got, "") != "abcde" || pages != 3 {
			t.Fatalf("got %v in %d pages", got, pages)
		}
	})
	t.Run("limit and filter", func(t *testing.T) {
		_, body, _ := e.do(t, "GET", "/v1/items?limit=3&k1=c", "", key)
		if body != `{"items":[{"id":3,"k1":"c","k2":2}]}` {
			t.Fatalf("body = %s", body)
		}
	})
	t.Run("types", func(t *testing.T) {
		_, body, _ := e.do(t, "GET", "/v1/items/2", "", key)
		if body != `{"items":[{"id":2,"k1":"b","k2":1}]}` {
			t.Fatalf("body = %s", body)
		}
	})
	t.Run("delete", func(t *testing.T) {
		status, body, _ := e.do(t, "DELETE", "/v1/items/5", "")
		if status != 200 || body != `{"updated":1,"generated":{}}` {
			t.Fatalf("%d %s", status, body)
		}
	})
}

func TestHandler_Transaction(t *testing.T) {
	yaml := `
endpoints:
  - name: transfer
    method: POST
    path: /v1/transfer
    cluster: lite
    secret: app
    transaction: true
    sql:
      - UPDATE accounts SET balance = balance - :amount WHERE id = :from_id
      - UPDATE accounts SET balance = balance + :amount WHERE id = :to_id
      - INSERT INTO transfers (amount) VALUES (:amount) RETURNING id, amount
    params:
      amount: {from: body, type: integer, required: true, min: 1}
      from_id: {from: body, type: integer, required: true}
      to_id: {from: body, type: integer, required: true}
    response: {status: 200}
  - name: failing
    method: POST
    path: /v1/failing
    cluster: lite
    secret: app
    transaction: true
    sql: ["UPDATE accounts SET balance = 0 WHERE id = 1", "INSERT INTO nosuchtable VALUES (1)"]
  - name: exposed
    method: POST
    path: /v1/exposed
    cluster: lite
    secret: app
    expose_db_errors: true
    sql: INSERT INTO nosuchtable VALUES (1)
`
	e := newTestEnv(t, yaml,
		"CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER CHECK (balance >= 0))",
		"INSERT INTO accounts VALUES (1, 100), (2, 0)",
		"CREATE TABLE transfers (id INTEGER PRIMARY KEY AUTOINCREMENT, amount INTEGER)")
	status, body, _ := e.do(t, "POST", "/v1/transfer", `{"amount":30,"from_id":1,"to_id":2}`, ctJS)
	if status != 200 || body != `{"updated":3,"generated":{"id":1,"amount":30}}` {
		t.Fatalf("transfer: %d %s", status, body)
	}
	// 1 has 70 left: 80 violates the CHECK and rolls back the whole transfer.
	status, body, _ = e.do(t, "POST", "/v1/transfer", `{"amount":80,"from_id":1,"to_id":2}`, ctJS)
	if status != 409 || strings.Contains(body, "CHECK") {
		t.Fatalf("overdraft: %d %s", status, body)
	}
	status, body, _ = e.do(t, "POST", "/v1/failing", "")
	if status != 500 || body != `{"message":"Internal Server Error"}` {
		t.Fatalf("failing: %d %s", status, body)
	}
	status, body, _ = e.do(t, "POST", "/v1/exposed", "")
	if status != 500 || !strings.Contains(body, "nosuchtable") {
		t.Fatalf("exposed: %d %s", status, body)
	}
	c, err := e.pool.Borrow(t.Context(), testCreds)
	if err != nil {
		t.Fatal(err)
	}
	defer e.pool.Release(c)
	res, err := c.Exec(t.Context(), "SELECT balance FROM accounts ORDER BY id", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0][0].Long != 70 || res.Rows[1][0].Long != 30 {
		t.Fatalf("balances = %v (rolled-back statements must leave 70/30)", res.Rows)
	}
	if strings.Contains(e.logs.String(), "30") && strings.Contains(e.logs.String(), "amount\":30") {
		t.Fatal("params in the log")
	}
}

func TestHandler_OpenAPI(t *testing.T) {
	e := newTestEnv(t, itemsYAML, itemsTable)
	status, body, h := e.do(t, "GET", "/openapi.json", "")
	if status != 200 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", status, h)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	post := doc.Paths["/v1/items"]["post"]
	if post["operationId"] != "add-item" || post["security"] == nil {
		t.Fatalf("post = %v", post)
	}
	schema := post["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
	if schema["additionalProperties"] != false || len(schema["required"].([]any)) != 1 {
		t.Fatalf("body schema = %v", schema)
	}
	if _, ok := doc.Paths["/v1/items/{id}"]["delete"]; !ok {
		t.Fatalf("paths = %v", doc.Paths)
	}
	if status, _, _ := e.do(t, "POST", "/openapi.json", "{}", ctJS); status != http.StatusMethodNotAllowed {
		t.Fatalf("POST /openapi.json = %d", status)
	}
}

func TestHandler_Metrics(t *testing.T) {
	e := newTestEnv(t, itemsYAML, itemsTable)
	e.do(t, "POST", "/v1/items", `{"key1":"a"}`, key, ctJS)
	e.do(t, "POST", "/v1/items", `{"key1":"a"}`, ctJS)
	var b strings.Builder
	e.reg.Write(&b)
	for _, want := range []string{
		`sqlgate_endpoint_requests_total{endpoint="add-item",status="201"} 1`,
		`sqlgate_endpoint_requests_total{endpoint="add-item",status="403"} 1`,
		`sqlgate_endpoint_request_duration_seconds_count{endpoint="add-item"} 2`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestHandler_LogSecrecy plants a key value and a parameter and checks
// neither reaches the log.
func TestHandler_LogSecrecy(t *testing.T) {
	e := newTestEnv(t, itemsYAML, itemsTable)
	e.do(t, "POST", "/v1/items", `{"key1":"PLANTED1"}`, "X-Api-Key: PLANTEDKEY-0123456789abcdef", ctJS)
	e.do(t, "POST", "/v1/items", `{"key1":"PLANTED2","key9":1}`, key, ctJS)
	e.do(t, "POST", "/v1/items", `{"key1":"PLANTED3"}`, key, ctJS)
	e.do(t, "POST", "/v1/items", `{"key1":"PLANTED3"}`, key, ctJS) // conflict: logged with cause
	logs := e.logs.String()
	for _, s := range []string{"PLANTED", testKey} {
		if strings.Contains(logs, s) {
			t.Errorf("log contains %q:\n%s", s, logs)
		}
	}
}

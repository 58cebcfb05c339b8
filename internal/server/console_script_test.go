package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// seed001Script is the console script of seed 001, pasted unchanged.
const seed001Script = `CREATE DATABASE simple_db;
USE simple_db;

CREATE TABLE users (
    id INT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(50)
);

INSERT INTO users (name) VALUES ('Alice'), ('Bob'), ('Charlie');`

// TestConsole_RunAllScript: "Run all" runs a script in one session, so a
// USE holds for the rest of it, and leaves nothing behind for later calls.
func TestConsole_RunAllScript(t *testing.T) {
	for _, e := range isoEngines(t) {
		t.Run(e.engine, func(t *testing.T) {
			c, code := e.consoleLogin(t, e.akid, e.secretKey)
			if code != http.StatusOK {
				t.Fatalf("sign-in: %d", code)
			}
			req := func(sql string) string {
				b, _ := json.Marshal(map[string]any{"resourceArn": e.arn, "secretArn": e.secret, "sql": sql, "includeResultMetadata": true})
				return string(b)
			}
			var script, check, want string
			switch e.engine {
			case "mysql":
				e.run(e.a, "DROP DATABASE IF EXISTS simple_db")
				t.Cleanup(func() { e.run(e.a, "DROP DATABASE IF EXISTS simple_db") })
				script, check, want = seed001Script+"\nSELECT name FROM users ORDER BY id;", "SELECT DATABASE()", e.value(t, e.a, "SELECT DATABASE()")
			case "postgres":
				schema := uniqueTable("iso_schema")
				t.Cleanup(func() { e.run(e.a, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
				script = "CREATE SCHEMA " + schema + ";\nSET search_path TO " + schema + ";\n" +
					"CREATE TABLE users (id serial PRIMARY KEY, name varchar(50));\n" +
					"INSERT INTO users (name) VALUES ('Alice'), ('Bob'), ('Charlie');\nSELECT name FROM users ORDER BY id;"
				check, want = "SELECT current_setting('search_path')", e.value(t, e.a, "SELECT current_setting('search_path')")
			default:
				script = "CREATE TEMP TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n" +
					"INSERT INTO users (name) VALUES ('Alice'), ('Bob'), ('Charlie');\nSELECT name FROM users ORDER BY id;"
				check, want = "SELECT count(*) FROM temp.sqlite_master", "0"
			}
			status, body := c.post(t, "script", req(script))
			if status != http.StatusOK {
				t.Fatalf("Run all: %d %s", status, body)
			}
			var out struct {
				Records    [][]map[string]any
				Statements int
			}
			if err := json.Unmarshal([]byte(body), &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Records) != 3 || out.Records[2][0]["stringValue"] != "Charlie" || out.Statements < 3 {
				t.Fatalf("Run all answered %s", body)
			}
			if got := e.value(t, e.b, check); got != want {
				t.Errorf("after the script, another call: %s = %q, want %q", check, got, want)
			}
			// A failing statement stops the script and is named.
			status, body = c.post(t, "script", req("SELECT 1;\nSELECT * FROM no_such_table_x;\nSELECT 3"))
			if status != http.StatusBadRequest || !strings.Contains(body, `"failedStatement":2`) || !strings.Contains(body, `"statements":3`) {
				t.Fatalf("failing script: %d %s", status, body)
			}
			// Transaction control is refused as in ExecuteStatement.
			status, body = c.post(t, "script", req("BEGIN;\nSELECT 1"))
			if status != http.StatusBadRequest || !strings.Contains(body, "BeginTransaction") {
				t.Fatalf("script with BEGIN: %d %s", status, body)
			}
		})
	}
}

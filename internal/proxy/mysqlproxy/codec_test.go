package mysqlproxy

import (
	"bytes"
	"testing"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

func TestSessionState_Parse(t *testing.T) {
	// Captured from MariaDB 10.11: SET NAMES latin1, then USE mysql.
	names := []byte("\x00 \x18character_set_connection\x06latin1\x00\x1c\x14character_set_client\x06latin1\x02\x011")
	sc, err := mysqlwire.ParseSessionState(names)
	if err != nil || !sc.Changed || len(sc.Vars) != 2 || !explained(sc) {
		t.Fatalf("SET NAMES: %+v %v", sc, err)
	}
	sc, err = mysqlwire.ParseSessionState([]byte("\x01\x06\x05mysql\x02\x011"))
	if err != nil || sc.Schema != "mysql" || !explained(sc) {
		t.Fatalf("USE: %+v %v", sc, err)
	}
	sc, err = mysqlwire.ParseSessionState([]byte("\x02\x011")) // SET @a = 1
	if err != nil || !sc.Changed || explained(sc) {
		t.Fatalf("user variable: %+v %v", sc, err)
	}
}

func TestReplaySQL(t *testing.T) {
	base := vars{"time_zone": "SYSTEM", "character_set_client": "utf8mb4", "collation_connection": "utf8mb4_general_ci", "wait_timeout": "28800"}
	tests := []struct {
		name       string
		want, have vars
		sql        string
	}{
		{"equal", vars{}, vars{}, ""},
		{"client differs", vars{"time_zone": "+01:00"}, vars{}, "SET SESSION time_zone='+01:00'"},
		{"backend dirty", vars{}, vars{"time_zone": "+01:00"}, "SET SESSION time_zone='SYSTEM'"},
		{"integers unquoted", vars{"wait_timeout": "10"}, vars{}, "SET SESSION wait_timeout=10"},
		{"collation last", vars{"collation_connection": "latin1_bin", "character_set_client": "latin1"}, vars{}, "SET SESSION character_set_client='latin1', collation_connection='latin1_bin'"},
		{"quotes escaped", vars{"time_zone": "a'b"}, vars{}, `SET SESSION time_zone='a\'b'`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := replaySQL(tc.want, tc.have, base); got != tc.sql {
				t.Fatalf("got %q, want %q", got, tc.sql)
			}
		})
	}
}

func TestScanSQL(t *testing.T) {
	tests := []struct {
		sql, pin string
		lii      bool
	}{
		{"SELECT 1", "", false},
		{"SET @a = 1", "user variable", false},
		{"SELECT @@autocommit, @@session.sql_mode", "", false},
		{"SELECT '@x', `a@b` -- @c\n", "", false},
		{"GRANT SELECT ON *.* TO 'u'@'localhost'", "", false},
		{"CREATE TEMPORARY TABLE t (id int)", "temporary table", false},
		{"lock tables t write", "LOCK TABLES", false},
		{"FLUSH TABLES WITH READ LOCK", "FLUSH TABLES WITH READ LOCK", false},
		{"SELECT GET_LOCK('k', 1)", "GET_LOCK", false},
		{"PREPARE s FROM 'SELECT 1'", "PREPARE statement", false},
		{"SELECT SQL_CALC_FOUND_ROWS * FROM t", "SQL_CALC_FOUND_ROWS", false},
		{"SELECT LAST_INSERT_ID()", "", true},
		{"/*!40101 SET @OLD=@@X */", "user variable", false},
		{"SELECT 1 /* GET_LOCK( */", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			got := scanSQL([]byte(tc.sql))
			if got.pin != tc.pin || got.usesLastInsertID != tc.lii {
				t.Fatalf("got %+v, want pin %q lii %v", got, tc.pin, tc.lii)
			}
		})
	}
	if d := digest([]byte("SET @a = 'secret', @b = 42")); d != "SET @a = ?, @b = ?" {
		t.Fatalf("digest %q", d)
	}
}

func TestParseKill(t *testing.T) {
	tests := []struct {
		sql  string
		want killStmt
		ok   bool
	}{
		{"KILL 5", killStmt{id: 5}, true},
		{"kill query 12;", killStmt{id: 12, queryOnly: true}, true},
		{"KILL HARD CONNECTION 3", killStmt{id: 3}, true},
		{"KILL USER bob", killStmt{}, false},
		{"KILL QUERY ID 4", killStmt{}, false},
		{"SELECT 1", killStmt{}, false},
	}
	for _, tc := range tests {
		got, ok := parseKill([]byte(tc.sql))
		if ok != tc.ok || got != tc.want {
			t.Fatalf("%q: got %+v %v", tc.sql, got, ok)
		}
	}
}

func TestRewriteExecute(t *testing.T) {
	cs := &clientStmt{params: 2}
	var scratch []byte
	first := []byte{mysqlwire.ComStmtExecute, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0x00, 1, 8, 0, 253, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 'x'}
	out, err := rewriteExecute(first, 3, cs, &scratch)
	if err != nil || out[1] != 3 || !bytes.Equal(cs.types, []byte{8, 0, 253, 0}) {
		t.Fatalf("first execute: %v %v %v", out, err, cs.types)
	}
	again := []byte{mysqlwire.ComStmtExecute, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0x00, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 'y'}
	out, err = rewriteExecute(again, 4, cs, &scratch)
	want := []byte{mysqlwire.ComStmtExecute, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0x00, 1, 8, 0, 253, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 'y'}
	if err != nil || !bytes.Equal(out, want) {
		t.Fatalf("rebind: %v %v", out, err)
	}
}

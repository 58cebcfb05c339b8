package mysqlproxy

import "testing"

// TestScanSQL_Routines: which statements may run stored code the scan
// cannot see into, and which are plain SET/USE whose reported state
// change the trackers explain.
func TestScanSQL_Routines(t *testing.T) {
	tests := []struct {
		sql              string
		routine, session bool
	}{
		{"SELECT c FROM sbtest1 WHERE id=?", false, false},
		{"SELECT COUNT(*), MAX(id), CONCAT_WS(',', a, b) FROM t WHERE x IN (1, 2)", false, false},
		{"CALL p()", true, false},
		{"call db.p(1)", true, false},
		{"SELECT f(1)", true, false},
		{"SELECT db.f()", true, false},
		{"SELECT `weird name`(1)", true, false},
		{"DO my_func()", true, false},
		{"SELECT NOW(), DATE_FORMAT(NOW(), '%Y'), IFNULL(DATABASE(), '-')", false, false},
		{"INSERT INTO t (a, b) VALUES (1, 2)", false, false},
		{"INSERT INTO db.t (a) VALUES (1)", false, false},
		{"INSERT INTO `t` (a) VALUES (1)", false, false},
		{"INSERT t (a) VALUES (1)", false, false},
		{"CREATE TABLE IF NOT EXISTS t (id int, v varchar(10), PRIMARY KEY (id), KEY k (v))", false, false},
		{"CREATE TABLE t2 (a int, FOREIGN KEY (a) REFERENCES t (id))", false, false},
		{"WITH cte (n) AS (SELECT 1) SELECT n FROM cte", false, false},
		{"SELECT REPLACE(my_f(x), 'a', 'b')", true, false},
		{"SELECT * FROM t JOIN u ON f(t.a) = u.b", true, false},
		{"SELECT * FROM t WHERE EXISTS (SELECT g(1))", true, false},
		{"INSERT INTO t VALUES (my_f())", true, false},
		{"SET time_zone = '+01:00'", false, true},
		{"SET NAMES utf8mb4", false, true},
		{"set session sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')", false, true},
		{"SET time_zone = my_tz()", true, true},
		{"USE shop", false, true},
		{"SET a = 1; SELECT 1", false, true},
		{"SELECT 1; SET a = 1", false, false},
		{"SELECT 'CALL p()', \"f(\" -- g()\n", false, false},
		{"/*!40101 SET NAMES utf8 */", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			got := scanSQL([]byte(tc.sql))
			if got.routine != tc.routine || got.sessionCmd != tc.session {
				t.Fatalf("routine %v sessionCmd %v, want %v %v", got.routine, got.sessionCmd, tc.routine, tc.session)
			}
		})
	}
}

package engine

import (
	"strings"
	"testing"
)

func TestInspectTxControl(t *testing.T) {
	my, pg, lite := DialectMySQL, DialectPostgres, DialectSQLite
	tests := []struct {
		d    Dialect
		sql  string
		want TxControl
	}{
		{my, "BEGIN", TxBegin},
		{my, "begin work", TxBegin},
		{pg, "  /* c */ BEGIN ISOLATION LEVEL SERIALIZABLE", TxBegin},
		{my, "START TRANSACTION READ ONLY", TxBegin},
		{my, "start transaction with consistent snapshot", TxBegin},
		{my, "/*!40101 START TRANSACTION */", TxBegin},
		{my, "/*M!100100 COMMIT */", TxEnd},
		{my, "COMMIT", TxEnd},
		{pg, "commit;", TxEnd},
		{pg, "END", TxEnd},
		{pg, "ABORT", TxEnd},
		{my, "ROLLBACK", TxEnd},
		{my, "ROLLBACK AND NO CHAIN", TxEnd},
		{pg, "ROLLBACK PREPARED 'x'", TxEnd},
		{pg, "PREPARE TRANSACTION 'x'", TxEnd},
		{my, "XA START 'x'", TxBegin},
		{my, "XA COMMIT 'x'", TxEnd},
		{pg, "SAVEPOINT sp1", TxSavepoint},
		{pg, "savepoint sp1", TxSavepoint},
		{pg, "RELEASE SAVEPOINT sp1", TxSavepoint},
		{pg, "rollback to savepoint sp1", TxSavepoint},
		{my, "ROLLBACK WORK TO sp1", TxSavepoint},
		{lite, "ROLLBACK TRANSACTION TO SAVEPOINT a", TxSavepoint},
		{lite, "BEGIN IMMEDIATE", TxBegin},
		{lite, "END TRANSACTION", TxEnd},
		{my, "SET autocommit = 0", TxMode},
		{my, "SET @@autocommit := OFF", TxMode},
		{my, "SET @@session.autocommit=0", TxMode},
		{my, "SET sql_mode='', AUTOCOMMIT=0", TxMode},
		{my, "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE", TxMode},
		{pg, "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE", TxMode},
		{my, "SET @autocommit = 1", TxNone},
		{my, "SET @x = 'autocommit'", TxNone},
		{pg, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", TxNone},
		{my, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", TxNone},
		{pg, "PREPARE q AS SELECT 1", TxNone},
		{my, "BEGIN NOT ATOMIC SELECT 1; END", TxNone},
		{pg, "SELECT 'BEGIN'", TxNone},
		{pg, "-- COMMIT\nSELECT 1", TxNone},
		{my, "/* COMMIT */ SELECT 1", TxNone},
		{pg, "DO $$BEGIN COMMIT; END$$", TxNone},
		{pg, "", TxNone},
	}
	for _, tt := range tests {
		if got := Inspect(tt.sql, tt.d).Tx; got != tt.want {
			t.Errorf("Inspect(%q, %d).Tx = %d, want %d", tt.sql, tt.d, got, tt.want)
		}
	}
}

func TestInspectEffect(t *testing.T) {
	my, pg := DialectMySQL, DialectPostgres
	tests := []struct {
		d    Dialect
		sql  string
		want Effect
	}{
		{pg, "SELECT 1", EffectNone},
		{pg, "select count(*), max(a), coalesce(b, 0)::numeric(10,2) from t where c in (1, 2)", EffectNone},
		{pg, "SELECT * FROM t WHERE x = $1", EffectNone},
		{pg, "WITH x (a) AS (SELECT 1) SELECT a FROM x", EffectNone},
		{pg, "INSERT INTO t (a, b) VALUES ($1, now())", EffectSequences},
		{pg, "insert into t(a) select 1 returning id", EffectSequences},
		{pg, "UPDATE t SET a = lower($1) WHERE id = $2", EffectNone},
		{pg, "UPDATE t SET id = DEFAULT", EffectSequences},
		{pg, "DELETE FROM t USING u WHERE t.id = u.id", EffectNone},
		{pg, "CREATE TABLE t (id serial PRIMARY KEY, n varchar(10) NOT NULL, ts timestamptz DEFAULT now())", EffectNone},
		{pg, "CREATE INDEX i ON t USING btree (a)", EffectNone},
		{pg, "CREATE TABLE IF NOT EXISTS t (i int)", EffectNone},
		{pg, "DROP TABLE t", EffectNone},
		{pg, "SELECT * FROM generate_series(1, 3) AS g(i)", EffectNone},
		{pg, "SELECT nextval('s')", EffectSequences},
		{pg, "SET search_path TO x", EffectSession},
		{pg, "RESET ALL", EffectSession},
		{pg, "SET ROLE r", EffectSession},
		{pg, "DO $$BEGIN EXECUTE 'SET ROLE r'; END$$", EffectSession},
		{pg, "SELECT 'a' AS s INTO TEMP t", EffectSession},
		{pg, "SELECT 1 INTO t2", EffectSession},
		{pg, "CREATE TEMP TABLE t (i int)", EffectSession},
		{pg, "CREATE TABLE pg_temp.t (i int)", EffectSession},
		{pg, "SELECT set_config('x.y', 'z', false)", EffectSession},
		{pg, "SELECT pg_catalog.set_config('x.y', 'z', false)", EffectSession},
		{pg, "SELECT myfunc(1)", EffectSession},
		{pg, `SELECT "lower"(x) FROM t`, EffectSession},
		{pg, "SELECT pg_advisory_lock(1)", EffectSession},
		{pg, "PREPARE q AS SELECT 1", EffectSession},
		{pg, "LISTEN ch", EffectSession},
		{pg, "DECLARE c CURSOR WITH HOLD FOR SELECT 1", EffectSession},
		{pg, "CALL p()", EffectSession},
		{pg, "LOAD 'auto_explain'", EffectPermanent},
		{pg, "COPY t TO STDOUT", EffectSession},
		{pg, "frobnicate", EffectSession},
		{pg, "(SELECT 1)", EffectNone},
		{pg, "SELECT '(', 'set_config(' FROM t -- f(\n", EffectNone},
		{my, "SET @v = 'x'", EffectSession},
		{my, "SELECT @v", EffectSession},
		{my, "USE db", EffectSession},
		{my, "SET NAMES gbk", EffectSession},
		{my, "SELECT 1 INTO @x", EffectSession},
		{my, "INSERT IGNORE INTO t (a) VALUES (1)", EffectSequences},
		{my, "SELECT /*!99999 sleep(1), */ 1", EffectSession},
	}
	for _, tt := range tests {
		if got := Inspect(tt.sql, tt.d).Effect; got != tt.want {
			t.Errorf("Inspect(%q, %d).Effect = %d, want %d", tt.sql, tt.d, got, tt.want)
		}
	}
}

func TestInspectAllocs(t *testing.T) {
	sql := "SELECT count(*), lower(name) FROM users WHERE id IN (SELECT id FROM t WHERE a = $1) ORDER BY 1"
	if n := testing.AllocsPerRun(100, func() { Inspect(sql, DialectPostgres) }); n != 0 {
		t.Errorf("Inspect allocates %v times per call", n)
	}
}

func TestSplit(t *testing.T) {
	script := "CREATE DATABASE simple_db;\nUSE simple_db;\n\n-- the table\nCREATE TABLE users (\n  id INT, name VARCHAR(50) -- ;\n);\n" +
		"INSERT INTO users (name) VALUES ('Al;ice'), (\"B;ob\");\n /* ; */ ;"
	got := Split(script, DialectMySQL)
	want := []string{"CREATE DATABASE simple_db", "USE simple_db", "-- the table\nCREATE TABLE users (\n  id INT, name VARCHAR(50) -- ;\n)",
		"INSERT INTO users (name) VALUES ('Al;ice'), (\"B;ob\")"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Split = %q\nwant %q", got, want)
	}
	if got := Split("DO $$ BEGIN; END $$; SELECT 1", DialectPostgres); len(got) != 2 {
		t.Errorf("Split pg dollar = %q", got)
	}
}

func FuzzInspect(f *testing.F) {
	for _, s := range []string{"BEGIN", "SET autocommit=0", "/*!40101 START TRANSACTION */", "SELECT f(1)",
		"ROLLBACK TO sp", "SELECT 1 INTO @x", "(((", "/*M!", "@@", "E'", "$a$", "INSERT INTO t(a) VALUES (1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		for _, d := range []Dialect{DialectMySQL, DialectPostgres, DialectSQLite} {
			info := Inspect(sql, d)
			if info.Tx != TxNone && info.Effect != EffectSession {
				t.Fatalf("Inspect(%q, %d) = %+v: transaction control without session effect", sql, d, info)
			}
			sc := NewScanner(sql, d, true)
			end := 0
			for tok := sc.Next(); tok.Kind != TokEOF; tok = sc.Next() {
				if tok.Start != end || tok.End <= tok.Start || tok.End > len(sql) {
					t.Fatalf("scanner(%q, %d): token %+v after offset %d", sql, d, tok, end)
				}
				end = tok.End
			}
			if end != len(sql) {
				t.Fatalf("scanner(%q, %d) stopped at %d", sql, d, end)
			}
			for _, s := range Split(sql, d) {
				if !strings.Contains(sql, s) || s == "" {
					t.Fatalf("Split(%q, %d) returned %q", sql, d, s)
				}
			}
		}
	})
}

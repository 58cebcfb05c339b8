package pgproxy

import (
	"slices"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		sql        string
		pin        string
		track      []string
		deallocate string
		resetAll   bool
		dirty      string
	}{
		{sql: "select 1"},
		{sql: "SET search_path TO a, b", track: []string{"search_path"}},
		{sql: "set session TimeZone = 'UTC'", track: []string{"timezone"}},
		{sql: "SET LOCAL work_mem = '1MB'"},
		{sql: "set time zone 'UTC'", track: []string{"timezone"}},
		{sql: "set enable_seqscan = off", pin: pinSet},
		{sql: "set role admin", pin: pinSet},
		{sql: "SET SESSION AUTHORIZATION bob", pin: pinSet},
		{sql: "select 1; listen foo", pin: pinListen},
		{sql: "select 'listen x'"},
		{sql: "SELECT abalance FROM pgbench_accounts WHERE aid = 7; Set Work_Mem = 1", track: []string{"work_mem"}},
		{sql: "select a$x$ from t; set search_path = s", track: []string{"search_path"}},
		{sql: "select E'\\'; set x = 1'; select 1"},
		{sql: "select e'a;b' ; LISTEN c", pin: pinListen},
		{sql: "select $q$; listen x $q$"},
		{sql: "-- listen x\nselect 1"},
		{sql: "prepare p as select 1", pin: pinPrepare},
		{sql: "PREPARE TRANSACTION 'x'"},
		{sql: "create temporary table t(a int)", pin: pinTemp},
		{sql: "create temp table t(a int) on commit drop"},
		{sql: "create table temp(a int)"},
		{sql: "declare c cursor with hold for select 1", pin: pinHold},
		{sql: "declare c cursor for select 1"},
		{sql: "select pg_advisory_lock(1)", pin: pinAdvisory},
		{sql: "select pg_advisory_xact_lock(1)"},
		{sql: "select set_config('search_path', 'x', false)", track: []string{"search_path"}},
		{sql: "select set_config('search_path', 'x', true)"},
		{sql: "select set_config('myapp.user', 'x', false)", pin: pinSetConfig},
		{sql: "deallocate s1", deallocate: "s1"},
		{sql: "deallocate prepare s1", deallocate: "s1"},
		{sql: "select 1; deallocate s1"},
		{sql: "discard all", resetAll: true},
		{sql: "reset all", resetAll: true},
		{sql: "select $x$; listen y; $x$"},
		{sql: "load 'auto_explain'", pin: pinLoad},
		{sql: "DO $$BEGIN EXECUTE 'SET ROLE some_role'; END$$", pin: pinDo},
		{sql: "do language plpgsql $$begin perform 1; end$$", pin: pinDo},
		{sql: "CALL my_proc(1)", pin: pinCall},
		{sql: "SELECT 'a' AS s INTO TEMP t", pin: pinTemp},
		{sql: "select * into temporary table t from x", pin: pinTemp},
		{sql: "select 1 into local temp t", pin: pinTemp},
		{sql: "insert into temp values (1)"},
		{sql: "select 'into temp x'"},
		{sql: "create table pg_temp.t(a int)", pin: pinTemp},
		{sql: "CREATE FUNCTION pg_temp.f() RETURNS int AS 'select 1' LANGUAGE sql", pin: pinTemp},
		{sql: "create view \"pg_temp\".v as select 1", pin: pinTemp},
		{sql: "select 1, set_config('application_name', 'x', false), set_config('role', 'r', false)", track: []string{"application_name"}, pin: pinSetConfig},
		{sql: "select my_func(1)", dirty: "call of my_func"},
		{sql: "select public.f()", dirty: "call of public.f"},
		{sql: "select \"F\"()", dirty: "call of F"},
		{sql: "select count(*), now(), coalesce(a, 1), pg_catalog.lower(b) from t where a in (1, 2)"},
		{sql: "insert into t (a, b) values (1, 2) on conflict (a) do nothing"},
		{sql: "create table t (a varchar(10), b numeric(10, 2))"},
		{sql: "with x (a) as (select 1) select * from x join y using (a)"},
		{sql: "select * from generate_series(1, 3)"},
		{sql: "select nextval('s')", dirty: "call of nextval"},
		{sql: "select pg_advisory_unlock_all()", dirty: "call of pg_advisory_unlock_all"},
		{sql: "create index i on t using btree (a)"},
		{sql: "select 'f(x)', $$g()$$ -- h()\n"},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			got := classify(tc.sql)
			if got.pin != tc.pin || !slices.Equal(got.track, tc.track) || got.deallocate != tc.deallocate || got.resetAll != tc.resetAll || got.dirty != tc.dirty {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func TestSCRAM_PBKDF2(t *testing.T) {
	// RFC 7914 §11 PBKDF2-HMAC-SHA256 test vector (first 32 bytes).
	got := pbkdf2SHA256([]byte("passwd"), []byte("salt"), 1)
	want := "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
	if hexs(got) != want {
		t.Fatalf("got %s", hexs(got))
	}
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

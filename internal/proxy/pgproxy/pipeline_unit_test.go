package pgproxy

import (
	"bytes"
	"testing"
)

func TestClassify_pipe(t *testing.T) {
	tests := []struct {
		sql  string
		want bool
	}{
		{"SELECT abalance FROM pgbench_accounts WHERE aid = 7", true},
		{"  select 1", true},
		{"/* c */ select 1", true},
		{"insert into t values (1)", true},
		{"UPDATE t SET a = 1", true},
		{"delete from t", true},
		{"with x as (select 1) select * from x", true},
		{"values (1)", true},
		{"select count(*), now() from t", true},
		{"select 1; select 2", false},
		{"begin", false},
		{"commit", false},
		{"set search_path = a", false},
		{"select set_config('search_path', 'x', false)", false},
		{"select my_func(1)", false},
		{"select nextval('s')", false},
		{"select pg_sleep(10)", false},
		{"select pg_advisory_lock(1)", false},
		{"select * into temp t from x", false},
		{"copy t from stdin", false},
		{"declare c cursor for select 1", false},
		{"fetch 1 from c", false},
		{"execute p", false},
		{"selectx 1", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			if got := classify(tc.sql).pipe; got != tc.want {
				t.Fatalf("pipe = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSession_pipeUnit(t *testing.T) {
	s := &session{srv: &Server{stmts: newStmtRegistry()}, stmts: map[string]*stmtInfo{}}
	s.stmts["clean"] = s.srv.stmts.get([]byte("select $1::int\x00\x00\x00"))
	s.stmts["dirty"] = s.srv.stmts.get([]byte("select f($1)\x00\x00\x00"))
	f := func(t byte, parts ...string) []byte {
		var b [][]byte
		for _, p := range parts {
			b = append(b, []byte(p))
		}
		return appendFrame(nil, t, b...)
	}
	cat := func(frames ...[]byte) []byte { return bytes.Join(frames, nil) }
	parse := func(q string) []byte { return f('P', "\x00", q, "\x00\x00\x00") }
	bind := func(stmt string) []byte { return f('B', "\x00", stmt, "\x00\x00\x00\x00\x00\x00\x00") }
	exec := f('E', "\x00\x00\x00\x00\x00")
	sync := f('S')
	tests := []struct {
		name string
		buf  []byte
		want bool
	}{
		{"simple", f('Q', "select 1\x00"), true},
		{"simple, not pipe", f('Q', "begin\x00"), false},
		{"simple, then more", cat(f('Q', "select 1\x00"), f('Q', "select 2\x00")), false},
		{"unnamed parse bind describe execute sync", cat(parse("select 1"), bind(""), f('D', "P\x00"), exec, sync), true},
		{"no sync", cat(parse("select 1"), bind(""), exec), false},
		{"after sync", cat(parse("select 1"), bind(""), exec, sync, f('H')), false},
		{"unnamed bind without parse", cat(bind(""), exec, sync), false},
		{"prepared", cat(bind("clean"), exec, sync), true},
		{"prepared, describe statement", cat(f('D', "Sclean\x00"), bind("clean"), exec, sync), true},
		{"prepared, function call", cat(bind("dirty"), exec, sync), false},
		{"unknown statement", cat(bind("nope"), exec, sync), false},
		{"named parse", cat(f('P', "n\x00", "select 1\x00", "\x00\x00"), sync), false},
		{"named portal", cat(parse("select 1"), f('B', "p\x00", "\x00", "\x00\x00\x00\x00\x00\x00"), sync), false},
		{"close", cat(f('C', "Sclean\x00"), sync), false},
		{"parse of a transaction", cat(parse("begin"), bind(""), exec, sync), false},
		{"truncated", f('Q', "select 1\x00")[:6], false},
		{"sync alone", sync, false},
		{"empty", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.pipeUnit(tc.buf); got != tc.want {
				t.Fatalf("pipeUnit = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzPipeUnit: any bytes, framed or not, are judged without a panic,
// and a unit judged pipeable ends with its one Query or Sync.
func FuzzPipeUnit(f *testing.F) {
	f.Add(appendFrame(nil, 'Q', []byte("select 1"), []byte{0}))
	f.Add(append(appendFrame(nil, 'P', []byte{0}, []byte("select 1"), []byte{0, 0, 0}), 'S', 0, 0, 0, 4))
	f.Add([]byte{'B', 0, 0, 0, 3})
	f.Fuzz(func(t *testing.T, buf []byte) {
		s := &session{srv: &Server{stmts: newStmtRegistry()}, stmts: map[string]*stmtInfo{}}
		if s.pipeUnit(buf) {
			if last := buf[len(buf)-5:]; last[0] != 'S' && buf[0] != 'Q' {
				t.Fatalf("pipeable unit not ending in Sync: %q", buf)
			}
		}
	})
}

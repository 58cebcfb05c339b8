package pgproxy

import (
	"reflect"
	"testing"

	"github.com/sqlgate/sqlgate/internal/sqlshape/sqlshapetest"
)

func TestSameShape(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"SELECT abalance FROM pgbench_accounts WHERE aid = 4242;", "SELECT abalance FROM pgbench_accounts WHERE aid = 17;", true},
		{"SELECT abalance FROM pgbench_accounts WHERE aid = 4242;", "SELECT abalance FROM pgbench_accounts WHERE aid = 4242;", true},
		{"update t set a = a + -12 where id = 3", "update t set a = a + -7 where id = 30000", true},
		{"select 1.5, 2e10, x-1", "select 1.25, 3e10, x-19", true},
		{"select 1", "select 1 ", false},
		{"select 1", "select a", false},
		{"select 1", "select ", false},
		{"select * from t1", "select * from t2", false},            // a name
		{"select f_1()", "select f_2()", false},                    // a name
		{"select $1", "select $2", false},                          // a parameter
		{`select "a1"`, `select "a2"`, false},                      // a quoted name
		{"select '1'", "select '2'", false},                        // a string's first character
		{"select 1e5", "select 1e6", false},                        // an exponent: after a letter
		{"select \xc3\xa91", "select \xc3\xa92", false},            // a name's multi-byte letter
		{"select 12345678 from t", "select 12345679 from t", true}, // past the eight-byte step
		{"select 1 from t where a = 12345678901234567890", "select 2 from t where a = 1", true},
	} {
		if got := sameShape([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("sameShape(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := sameShape([]byte(c.b), []byte(c.a)); got != c.want {
			t.Errorf("sameShape(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

func TestSameShapeStrings(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"select * from t where status = 'open' limit 20", "select * from t where status = 'closed' limit 5", true},
		{"select * from t where s = 'it''s'", "select * from t where s = ''", true},
		{"select * from t where s = 'a' and n = 1", "select * from t where s = 'b''c' and n = 22", true},
		{"select * from t where s = 'a'", "select * from t where s = 'b' and 1=1", false},
		{"select * from t where s = 'a'", "select * from t where s = 'pg_sleep(1)'", false}, // a mark
		{"select * from t where s = 'a'", "select * from t where s = 'a;b'", false},         // a semicolon
		{"select * from t where s = 'a'", `select * from t where s = 'a\'`, false},          // a backslash
		{"select * from t where s = 'a'", "select * from t where s = 'a", false},            // unterminated
		{"select * from t where s = 'a'", "select * from t where s = 1", false},
		{"select 'a' -- 'b'", "select 'c' -- 'b'", true},
		{"select 'a' -- 'b'", "select 'a' -- 'c'", false}, // a comment is matched as it is
		{"select \"x'y\", 'a'", "select \"x'y\", 'b'", true},
	} {
		spans := stringSpans([]byte(c.a), nil)
		if got := sameShapeStrings([]byte(c.a), []byte(c.b), spans); got != c.want {
			t.Errorf("sameShapeStrings(%q, %q, %v) = %v, want %v", c.a, c.b, spans, got, c.want)
		}
	}
	for _, s := range []string{"select E'a'", "select U&'a'", "select $$a$$, 'b'", "select 'a\\'", "select 'a", "select 'pg_sleep'",
		"/* 'a'", "select \"a"} {
		if spans := stringSpans([]byte(s), nil); len(spans) != 0 {
			t.Errorf("stringSpans(%q) = %v, want none", s, spans)
		}
	}
}

// The session answers a text of the last one's shape with its class
// only for a plain statement; anything else is classified again.
func TestClassifyQueryShape(t *testing.T) {
	s := &session{}
	a := s.classifyQuery([]byte("SELECT abalance FROM pgbench_accounts WHERE aid = 4242;"))
	if !a.pipe {
		t.Fatalf("the pgbench statement classifies as %+v, want pipe", a)
	}
	if b := s.classifyQuery([]byte("SELECT abalance FROM pgbench_accounts WHERE aid = 7;")); !reflect.DeepEqual(a, b) {
		t.Fatalf("same shape, class %+v, want %+v", b, a)
	}
	set := s.classifyQuery([]byte("SET statement_timeout = 1000"))
	if len(set.track) == 0 {
		t.Fatalf("SET classifies as %+v, want a tracked parameter", set)
	}
	if got := s.classifyQuery([]byte("SET statement_timeout = 2000")); !reflect.DeepEqual(got, set) {
		t.Fatalf("SET again: %+v, want %+v", got, set)
	}
}

// FuzzSameShapeClass: a text that the session's shortcut pairs with a
// plain statement classifies as that statement does. The pair is made
// from the fuzzer's text by rewriting its numbers and the text of its
// string literals with the fuzzer's values wherever the shortcut would
// accept the change.
func FuzzSameShapeClass(f *testing.F) {
	for _, s := range []string{"SELECT abalance FROM pgbench_accounts WHERE aid = 1;", "select 1 from t where a = 2 -- 3",
		"select '1' || 2, $$3$$, \"4\" from t5 where x=-6.7e8", "select f(1), 2", "select 1 into t", "select 1; set x = 2",
		"select pg_sleep(1)", "select E'\\1', U&'\\0041' from t", "select x::int4 from t limit 10 offset 2",
		"select * from orders where customer_id = 17 and status = 'open' order by created_at desc limit 20",
		"update t set name = 'it''s', n = 2 where id = 3 /* 'x' */ -- 'y'", "select 'a' \"b'c\" 'd'", "select ''"} {
		f.Add(s, "90817", "o'k pg_sleep(;) \\ into")
	}
	f.Fuzz(func(t *testing.T, s, digits, text string) {
		a := classify(s)
		if !a.shapeCacheable() {
			return
		}
		b := rewriteStrings(sqlshapetest.RewriteNumbers(pgNumbers, s, digits), text)
		sess := &session{}
		sess.classifyQuery([]byte(s))
		if !sess.lastShape([]byte(b)) {
			t.Fatalf("%q is not of the shape of %q, a rewrite of its values (strings at %v)", b, s, sess.lastStrings)
		}
		if got := classify(b); !reflect.DeepEqual(got, a) {
			t.Fatalf("classify(%q) = %+v, but its shape's %q gives %+v", b, got, s, a)
		}
	})
}

// rewriteStrings replaces the text of each string literal stringSpans
// finds in s by a plain text made of pieces of text.
func rewriteStrings(s, text string) string {
	spans := stringSpans([]byte(s), nil)
	var out []byte
	prev := 0
	for k := 0; k+1 < len(spans); k += 2 {
		out = append(out, s[prev:spans[k]]...)
		lit := []byte{'\''}
		for _, c := range []byte(text[min(k, len(text)):]) {
			if c == '\'' {
				lit = append(lit, c)
			}
			lit = append(lit, c)
			if len(lit) > 12 {
				break
			}
		}
		lit = append(lit, '\'')
		if plainStringEnd(lit, 0) != len(lit) {
			lit = []byte("'v'")
		}
		out = append(out, lit...)
		prev = int(spans[k+1])
	}
	return string(append(out, s[prev:]...))
}

package mysql

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScanStatement(t *testing.T) {
	tests := []struct {
		sql      string
		markers  int
		stateful bool
	}{
		{"SELECT ?", 1, false},
		{"select * from t where a = ? and b = '?' and c = \"?\" and `?` = 1 -- ?\n and d = ? # ?", 2, false},
		{"SELECT /* ? */ ?, '\\' ?', 'it''s ?'", 1, false},
		{"  (SELECT 1) UNION (SELECT 2)", 0, false},
		{"INSERT INTO t VALUES (?)", 1, false},
		{"SELECT @@version, @@session.sql_mode", 0, false},
		{"SELECT '@v', \"@w\", `@x` FROM t", 0, false},
		{"SELECT @v", 0, true},
		{"SELECT 1 INTO @v", 0, true},
		{"SET NAMES gbk", 0, true},
		{"set @a = ?", 1, true},
		{"USE db", 0, true},
		{"CREATE TEMPORARY TABLE t (i int)", 0, true},
		{"create table t (i int)", 0, false},
		{"DROP DATABASE d", 0, true},
		{"DROP TABLE t", 0, false},
		{"SELECT GET_LOCK('x', 1)", 0, true},
		{"SELECT get_lock ('x', 1)", 0, true},
		{"SELECT NEXT VALUE FOR s", 0, true},
		{"SELECT last_insert_id(5)", 0, true},
		{"SELECT 'GET_LOCK', \"TEMPORARY\" -- LAST_INSERT_ID\n", 0, false},
		{"CALL p()", 0, true},
		{"LOCK TABLES t READ", 0, true},
		{"/*!40101 SET @x = 1 */", 0, true},
		{"BEGIN", 0, true},
		{"PREPARE s FROM 'SELECT 1'", 0, true},
		{"HANDLER t OPEN", 0, true},
		{"", 0, false},
		{"-- just a comment", 0, true}, // no verb: unknown counts as stateful
		{"; ", 0, true},
	}
	for _, tt := range tests {
		s := scanStatement(tt.sql, false, nil)
		if len(s.markers) != tt.markers || s.stateful != tt.stateful {
			t.Errorf("scan(%q) = %d markers, stateful %v; want %d, %v", tt.sql, len(s.markers), s.stateful, tt.markers, tt.stateful)
		}
	}
	// NO_BACKSLASH_ESCAPES: a backslash does not escape the quote.
	if s := scanStatement(`SELECT 'a\' , ?`, true, nil); len(s.markers) != 1 {
		t.Errorf("no-backslash scan found %d markers", len(s.markers))
	}
	if s := scanStatement(`SELECT 'a\' , ?`, false, nil); len(s.markers) != 0 {
		t.Errorf("backslash scan found %d markers", len(s.markers))
	}
}

// FuzzInterpolate checks that every literal interpolate writes is one
// closed token: scanning the result finds no marker left, and a string
// argument reads back unchanged.
func FuzzInterpolate(f *testing.F) {
	f.Add("SELECT ?, '?' -- ?\n, ?", "丁' OR 1=1 -- ", []byte{0, '\\', '\''}, uint8(0))
	f.Add("INSERT INTO t VALUES (?, ?) # x", "a\\", []byte(nil), uint8(1))
	f.Add("SELECT `?`, \"?\", /* ? */ ?, ?", "''", []byte("x"), uint8(2))
	f.Fuzz(func(t *testing.T, sql, s string, b []byte, m uint8) {
		mode := literalMode(m % 3)
		noBackslash := mode == quoteDouble
		st := scanStatement(sql, noBackslash, nil)
		args := make([]arg, len(st.markers))
		for i := range args {
			switch i % 3 {
			case 0:
				args[i] = arg{i + 1, s}
			case 1:
				args[i] = arg{i + 1, b}
			default:
				args[i] = arg{i + 1, int64(-i)}
			}
		}
		out := string(interpolate(nil, sql, st.markers, args, mode))
		if again := scanStatement(out, noBackslash, nil); len(again.markers) != 0 {
			t.Fatalf("interpolated %q → %q still has markers at %v", sql, out, again.markers)
		}
		if mode != quoteHex && utf8.ValidString(s) {
			lit := string(appendLiteral(nil, s, mode))
			if got := unquote(lit, mode); got != s {
				t.Fatalf("literal %q reads back as %q, want %q", lit, got, s)
			}
		}
	})
}

// unquote reads a quoted literal as the server does.
func unquote(lit string, mode literalMode) string {
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case mode == quoteDouble && c == '\'':
			i++
			b.WriteByte('\'')
		case mode == quoteBackslash && c == '\\':
			i++
			b.WriteByte(map[byte]byte{'0': 0, 'n': '\n', 'r': '\r', 'Z': 0x1a}[body[i]] | keep(body[i]))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func keep(c byte) byte {
	if c == '0' || c == 'n' || c == 'r' || c == 'Z' {
		return 0
	}
	return c
}

func TestUpperWord(t *testing.T) {
	for _, w := range []string{"select", "Insert", "LAST_INSERT_ID", "get_lock", "$x9", "ünïcode", "temporäry",
		"a_word_longer_than_the_thirty_two_byte_buffer"} {
		var buf [32]byte
		if got, want := string(upperWord(buf[:0], w)), strings.ToUpper(w); got != want {
			t.Errorf("upperWord(%q) = %q, want %q", w, got, want)
		}
	}
}

package engine

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestRewrite(t *testing.T) {
	my, pg, lite := DialectMySQL, DialectPostgres, DialectSQLite
	tests := []struct {
		name  string
		d     Dialect
		sql   string
		want  string
		names []string
		multi bool
	}{
		{"no params", my, "SELECT 1", "SELECT 1", nil, false},
		{"simple mysql", my, "SELECT * FROM t WHERE id = :id", "SELECT * FROM t WHERE id = ?", []string{"id"}, false},
		{"simple pg", pg, "SELECT * FROM t WHERE id = :id", "SELECT * FROM t WHERE id = $1", []string{"id"}, false},
		{"simple sqlite", lite, "SELECT :a, :b", "SELECT ?, ?", []string{"a", "b"}, false},
		{"repeat mysql", my, "SELECT :a, :b, :a", "SELECT ?, ?, ?", []string{"a", "b", "a"}, false},
		{"repeat pg", pg, "SELECT :a, :b, :a", "SELECT $1, $2, $1", []string{"a", "b"}, false},
		{"numeric names", my, "INSERT INTO t VALUES (:1, :2, :0)", "INSERT INTO t VALUES (?, ?, ?)", []string{"1", "2", "0"}, false},
		{"underscore digits", pg, "SELECT :first_name2,:_x", "SELECT $1,$2", []string{"first_name2", "_x"}, false},
		{"unicode name", my, "SELECT :naïve", "SELECT ?", []string{"naïve"}, false},
		{"adjacent", my, "SELECT :a||:b", "SELECT ?||?", []string{"a", "b"}, false},
		{"at end", pg, "SELECT :a", "SELECT $1", []string{"a"}, false},
		{"lone colon", my, "SELECT ':' , a : b", "SELECT ':' , a : b", nil, false},
		{"colon at end", my, "SELECT 1:", "SELECT 1:", nil, false},
		{"mysql assign", my, "SET @x := :v", "SET @x := ?", []string{"v"}, false},
		// string literals
		{"single quoted", my, "SELECT ':a', :b", "SELECT ':a', ?", []string{"b"}, false},
		{"doubled quote", pg, "SELECT 'it''s :a', :b", "SELECT 'it''s :a', $1", []string{"b"}, false},
		{"mysql backslash", my, `SELECT 'x\' :a', :b`, `SELECT 'x\' :a', ?`, []string{"b"}, false},
		{"pg no backslash", pg, `SELECT 'x\', :b`, `SELECT 'x\', $1`, []string{"b"}, false},
		{"pg E string", pg, `SELECT E'x\' :a', :b`, `SELECT E'x\' :a', $1`, []string{"b"}, false},
		{"pg e string lower", pg, `SELECT e'x\' :a', :b`, `SELECT e'x\' :a', $1`, []string{"b"}, false},
		{"pg name ending in e", pg, `SELECT type'x\', :b`, `SELECT type'x\', $1`, []string{"b"}, false},
		{"sqlite no backslash", lite, `SELECT 'x\', :b`, `SELECT 'x\', ?`, []string{"b"}, false},
		{"unterminated string", my, "SELECT ':a", "SELECT ':a", nil, false},
		// quoted identifiers / double-quoted strings
		{"pg dq ident", pg, `SELECT ":a" FROM "t""x:y", :b`, `SELECT ":a" FROM "t""x:y", $1`, []string{"b"}, false},
		{"mysql dq string", my, `SELECT ":a\" :c", :b`, `SELECT ":a\" :c", ?`, []string{"b"}, false},
		{"mysql backtick", my, "SELECT `a:b``:c` FROM t WHERE x=:x", "SELECT `a:b``:c` FROM t WHERE x=?", []string{"x"}, false},
		{"sqlite backtick", lite, "SELECT `:a`, :b", "SELECT `:a`, ?", []string{"b"}, false},
		{"sqlite bracket", lite, "SELECT [x:y], :b", "SELECT [x:y], ?", []string{"b"}, false},
		{"pg bracket is slice", pg, "SELECT a[1:n]", "SELECT a[1$1]", []string{"n"}, false},
		{"pg backtick plain", pg, "SELECT `:a`", "SELECT `$1`", []string{"a"}, false},
		// comments
		{"line comment", pg, "SELECT :a -- :b\n, :c", "SELECT $1 -- :b\n, $2", []string{"a", "c"}, false},
		{"mysql dashdash needs space", my, "SELECT 1--:a", "SELECT 1--?", []string{"a"}, false},
		{"mysql dashdash space", my, "SELECT 1-- :a\n,:b", "SELECT 1-- :a\n,?", []string{"b"}, false},
		{"mysql dashdash eof", my, "SELECT 1--", "SELECT 1--", nil, false},
		{"mysql hash", my, "SELECT 1 # :a\n, :b", "SELECT 1 # :a\n, ?", []string{"b"}, false},
		{"pg hash operator", pg, "SELECT 1 # :a", "SELECT 1 # $1", []string{"a"}, false},
		{"block comment", my, "SELECT /* :a ' */ :b", "SELECT /* :a ' */ ?", []string{"b"}, false},
		{"pg nested comment", pg, "SELECT /* /* :a */ :b */ :c", "SELECT /* /* :a */ :b */ $1", []string{"c"}, false},
		{"mysql comment no nest", my, "SELECT /* /* :a */ :b */", "SELECT /* /* :a */ ? */", []string{"b"}, false},
		{"unterminated comment", my, "SELECT :a /* :b", "SELECT ? /* :b", []string{"a"}, false},
		// casts
		{"pg cast", pg, "SELECT :value::date", "SELECT $1::date", []string{"value"}, false},
		{"pg array cast", pg, "SELECT :literal::text[], x::int", "SELECT $1::text[], x::int", []string{"literal"}, false},
		{"triple colon", pg, "SELECT x:::a", "SELECT x::$1", []string{"a"}, false},
		{"cast mysql", my, "SELECT :a::b", "SELECT ?::b", []string{"a"}, false},
		// dollar quotes
		{"dollar quote", pg, "SELECT $$ :a ' $$, :b", "SELECT $$ :a ' $$, $1", []string{"b"}, false},
		{"tagged dollar", pg, "SELECT $fn$ :a $$ :c $fn$, :b", "SELECT $fn$ :a $$ :c $fn$, $1", []string{"b"}, false},
		{"positional dollar", pg, "SELECT $1, :b", "SELECT $1, $1", []string{"b"}, false},
		{"dollar in ident", pg, "SELECT a$b$, :c", "SELECT a$b$, $1", []string{"c"}, false},
		{"unterminated dollar", pg, "SELECT $x$ :a", "SELECT $x$ :a", nil, false},
		{"dollar mysql", my, "SELECT '$$', :a", "SELECT '$$', ?", []string{"a"}, false},
		// multi statements
		{"trailing semicolon", my, "SELECT :a;", "SELECT ?;", []string{"a"}, false},
		{"trailing semicolons ws comments", pg, "SELECT 1; ;\n -- x\n /* y */ ", "SELECT 1; ;\n -- x\n /* y */ ", nil, false},
		{"two statements", my, "SELECT 1; SELECT 2", "SELECT 1; SELECT 2", nil, true},
		{"semicolon in string", my, "SELECT ';x'", "SELECT ';x'", nil, false},
		{"semicolon in comment", pg, "SELECT 1 /* ; x */", "SELECT 1 /* ; x */", nil, false},
		{"semicolon in dollar", pg, "DO $$ BEGIN; END $$", "DO $$ BEGIN; END $$", nil, false},
		{"string after semicolon", pg, "SELECT 1;'x'", "SELECT 1;'x'", nil, true},
		{"mysql hash after semicolon", my, "SELECT 1; # c", "SELECT 1; # c", nil, false},
		{"pg hash after semicolon", pg, "SELECT 1; # c", "SELECT 1; # c", nil, true},
		{"multi with params", my, "UPDATE t SET a=:a; DELETE FROM t", "UPDATE t SET a=?; DELETE FROM t", []string{"a"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Rewrite(tt.sql, tt.d)
			if err != nil {
				t.Fatalf("Rewrite: %v", err)
			}
			if got.SQL != tt.want || !reflect.DeepEqual(got.Names, tt.names) || got.Multi != tt.multi {
				t.Errorf("Rewrite(%q) = %q %q multi=%v, want %q %q multi=%v",
					tt.sql, got.SQL, got.Names, got.Multi, tt.want, tt.names, tt.multi)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	a, b := Param{Name: "a", Value: Long(1)}, Param{Name: "b", Value: String("x")}
	unused := Param{Name: "zz", Value: Null()}
	tests := []struct {
		name    string
		st      Statement
		params  []Param
		want    []Param
		wantErr string
	}{
		{"none", Statement{SQL: "SELECT 1"}, nil, nil, ""},
		{"unused ignored", Statement{SQL: "SELECT 1"}, []Param{unused}, []Param{}, ""},
		{"in marker order", Statement{Names: []string{"b", "a", "b"}}, []Param{a, b, unused}, []Param{b, a, b}, ""},
		{"missing", Statement{Names: []string{"a", "c"}}, []Param{a}, nil, "No value specified for parameter: c"},
		{"duplicate", Statement{Names: []string{"a"}}, []Param{a, a}, nil, "Duplicate parameter name: a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Order(tt.st, tt.params)
			if tt.wantErr != "" {
				var pe *ParamError
				if !errors.As(err, &pe) || pe.Msg != tt.wantErr || pe.Validation {
					t.Fatalf("Order err = %#v, want ParamError %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Order: %v", err)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
				t.Errorf("Order = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzRewrite(f *testing.F) {
	seeds := []string{
		"SELECT :a, :b::date FROM t WHERE x = ':c' -- :d\n",
		"SELECT $tag$ :x $tag$, E'\\' :y', \"q:z\", `m:n`, [s:t] # :u\n; ",
		"SELECT 1; SELECT 2", "/* /* */ :a */", ":", "::", ":::", "$", "$$", "'", "\"", "--", "-- ",
		"SELECT :1, :0, :naïve", "\xff:\xfe", "e'\\", "$a", "$1$",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		for _, d := range []Dialect{DialectMySQL, DialectPostgres, DialectSQLite} {
			st, err := Rewrite(sql, d)
			if err != nil {
				t.Fatalf("Rewrite(%q, %d): %v", sql, d, err)
			}
			if !strings.Contains(sql, ":") && (st.SQL != sql || len(st.Names) != 0) {
				t.Fatalf("Rewrite(%q, %d) changed a text without ':' to %q %q", sql, d, st.SQL, st.Names)
			}
			if len(st.Names) == 0 && st.SQL != sql {
				t.Fatalf("Rewrite(%q, %d) changed text without placeholders to %q", sql, d, st.SQL)
			}
			if !strings.ContainsAny(sql, "?$") {
				if d != DialectPostgres {
					if got := strings.Count(st.SQL, "?"); got != len(st.Names) {
						t.Fatalf("Rewrite(%q, %d) = %q: %d markers, want %d (names %q)", sql, d, st.SQL, got, len(st.Names), st.Names)
					}
				} else if err := checkDollarMarkers(st.SQL, len(st.Names)); err != nil {
					t.Fatalf("Rewrite(%q, pg) = %q (names %q): %v", sql, st.SQL, st.Names, err)
				}
			}
			if d == DialectPostgres {
				seen := map[string]bool{}
				for _, n := range st.Names {
					if seen[n] {
						t.Fatalf("Rewrite(%q, pg) repeats name %q", sql, n)
					}
					seen[n] = true
				}
			}
			ordered, err := Order(st, nil)
			if len(st.Names) > 0 && err == nil {
				t.Fatalf("Order with no params for %q: no error", sql)
			}
			if len(st.Names) == 0 && (err != nil || len(ordered) != 0) {
				t.Fatalf("Order(%q) = %v, %v", sql, ordered, err)
			}
		}
	})
}

// checkDollarMarkers checks that the $n markers of a PostgreSQL rewrite
// (whose source had no '$') number exactly 1..names.
func checkDollarMarkers(sql string, names int) error {
	seen := map[int]bool{}
	for i := 0; i < len(sql); i++ {
		if sql[i] != '$' {
			continue
		}
		j := i + 1
		for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(sql[i+1 : j])
		if err != nil || n < 1 || n > names {
			return fmt.Errorf("bad marker %q", sql[i:j])
		}
		seen[n] = true
	}
	if len(seen) != names {
		return fmt.Errorf("%d distinct markers, want %d", len(seen), names)
	}
	return nil
}

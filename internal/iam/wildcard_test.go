package iam

import (
	"strings"
	"testing"
	"time"
)

func TestPattern_Match(t *testing.T) {
	tests := []struct {
		pat, s string
		fold   bool
		want   bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"*", "", false, true},
		{"*", "anything:at/all", false, true},
		{"abc", "abc", false, true},
		{"abc", "abC", false, false},
		{"abc", "abC", true, true},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"a?c", "abbc", false, false},
		{"a?c", "aéc", false, true}, // ? is one character, not one byte
		{"?", "é", false, true},
		{"??", "é", false, false},
		{"a*", "a", false, true},
		{"*a", "ba", false, true},
		{"*a", "ab", false, false},
		{"a*b*c", "abc", false, true},
		{"a*b*c", "axxbyyc", false, true},
		{"a*b*c", "axxbyy", false, false},
		{"a*b?c", "abbxc", false, true},
		{"a*?", "a", false, false},
		{"a*?", "ab", false, true},
		{"*?*", "", false, false},
		{"*ab*ab*", "abab", false, true},
		{"*ab*ab*", "aba", false, false},
		{"ab*ba", "aba", false, false}, // prefix and suffix must not overlap
		{"arn:aws:rds:*:*:cluster:maria", "arn:aws:rds:us-east-1:000000000000:cluster:maria", false, true},
		{"arn:aws:secretsmanager:*:secret:x", "arn:aws:secretsmanager:us-east-1:000000000000:secret:x", false, true}, // * spans colons
		{"rds-data:execute*", "RDS-DATA:ExecuteStatement", true, true},
		{"rds-data:*transaction", "rds-data:BeginTransaction", true, true},
		{"rds-data:?eginTransaction", "rds-data:BeginTransaction", true, true},
		{"rds-data:execute*", "rds-data:BatchExecuteStatement", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.pat+"~"+tt.s, func(t *testing.T) {
			p := compilePattern(tt.pat, tt.fold)
			if got := p.match(tt.s); got != tt.want {
				t.Errorf("match(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
			}
		})
	}
}

func TestPattern_MatchLiteralPieces(t *testing.T) {
	// Substituted variable values are literal: '*' in a user name is no wildcard.
	p := compilePieces([]piece{{text: "user/", wild: true}, {text: "bo*"}, {text: "/*", wild: true}}, false)
	for s, want := range map[string]bool{"user/bo*/x": true, "user/bob/x": false} {
		if got := p.match(s); got != want {
			t.Errorf("match(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestPattern_MatchPathological checks that hostile patterns cost linear-ish
// time: a backtracking matcher takes exponential time here.
func TestPattern_MatchPathological(t *testing.T) {
	pat := strings.Repeat("a*", 200) + "b"
	s := strings.Repeat("a", 100_000)
	q := strings.Repeat("?*", 100) + "b"
	start := time.Now()
	for _, c := range []struct{ pat, s string }{{pat, s}, {q, s}, {pat, s + "b"}} {
		p := compilePattern(c.pat, false)
		want := strings.HasSuffix(c.s, "b")
		if got := p.match(c.s); got != want {
			t.Errorf("match = %v, want %v", got, want)
		}
		pf := compilePattern(c.pat, true)
		if got := pf.match(c.s); got != want {
			t.Errorf("folded match = %v, want %v", got, want)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("pathological patterns took %v", d)
	}
}

func TestMatchARN(t *testing.T) {
	tests := []struct {
		pat, arn string
		want     bool
	}{
		{"arn:aws:iam::000000000000:user/*", "arn:aws:iam::000000000000:user/bob", true},
		{"arn:aws:iam::*:user/bob", "arn:aws:iam::000000000000:user/bob", true},
		{"arn:aws:iam::0000*:user/bob", "arn:aws:iam::000000000000:user/bob", true},
		{"arn:aws:iam::*", "arn:aws:iam::000000000000:user/bob", true}, // short pattern: last part takes the rest
		{"arn:aws:iam::*", "not-an-arn", false},
		{"arn:aws:rds:*:*:cluster:*", "arn:aws:rds:us-east-1:000000000000:cluster:maria", true},
		// Per-component: '*' in the region may not swallow the account.
		{"arn:aws:rds:*:cluster:maria", "arn:aws:rds:us-east-1:000000000000:cluster:maria", false},
		{"arn:aws:rds:us-east-1:000000000000:cluster:m?ria", "arn:aws:rds:us-east-1:000000000000:cluster:maria", true},
	}
	for _, tt := range tests {
		t.Run(tt.pat, func(t *testing.T) {
			pats := compileARN([]piece{{text: tt.pat, wild: true}})
			if got := matchARN(pats, tt.arn); got != tt.want {
				t.Errorf("matchARN(%q, %q) = %v, want %v", tt.pat, tt.arn, got, tt.want)
			}
		})
	}
}

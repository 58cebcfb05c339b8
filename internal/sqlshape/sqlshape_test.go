package sqlshape

import "testing"

// notWord: the test rule's bytes that may stand before and after a number.
func notWord(c byte) bool {
	return !(c == '_' || IsDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'z' || c >= 0x80)
}

func TestSame(t *testing.T) {
	r := NewRule(notWord, notWord)
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"select * from t where id = 4242", "select * from t where id = 7", true},
		{"select * from t where id = 4242", "select * from t where id = 4242", true},
		{"insert into t values (1, -22, 3.5)", "insert into t values (100, -2, 3.25)", true},
		{"select 12345678 from t", "select 12345679 from t", true}, // past the eight-byte step
		{"select 1 from t where a = 12345678901234567890", "select 2 from t where a = 1", true},
		{"1", "2", true}, // the text's start leads, its end follows
		{"select 1", "select 1 ", false},
		{"select 1", "select a", false},
		{"select 1", "select ", false},
		{"select * from t1", "select * from t2", false}, // a name
		{"select 1e5", "select 2e5", false},             // followed by a name's byte
		{"select 0x1f", "select 0x2f", false},           // in a name's bytes
		{"select 0x1f", "select 1x1f", false},           // followed by a name's byte
		{"select \xc3\xa91", "select \xc3\xa92", false},
	} {
		if got := r.Same([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("Same(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := r.Same([]byte(c.b), []byte(c.a)); got != c.want {
			t.Errorf("Same(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

// Match stops at the end of a, takes the rest of a run of digits there,
// and honours lead at a[0].
func TestMatch(t *testing.T) {
	r := NewRule(notWord, notWord)
	for _, c := range []struct {
		a, b  string
		lead  bool
		n     int
		match bool
	}{
		{"x = 1", "x = 1'a'", true, 5, true},
		{"x = 1", "x = 123'a'", true, 7, true},
		{"x = ", "x = 5", true, 0, false}, // digits in b only
		{"1 and", "22 and", false, 0, false},
		{"1 and", "22 and", true, 6, true},
	} {
		n, ok := r.Match([]byte(c.a), []byte(c.b), c.lead)
		if ok != c.match || ok && n != c.n {
			t.Errorf("Match(%q, %q, %v) = %d, %v; want %d, %v", c.a, c.b, c.lead, n, ok, c.n, c.match)
		}
	}
}

func TestCommonPrefix(t *testing.T) {
	a := []byte("0123456789abcdefghij")
	for i := range len(a) + 1 {
		b := append([]byte(nil), a...)
		if i < len(b) {
			b[i] = '!'
		}
		if got := CommonPrefix(a, b); got != i {
			t.Errorf("CommonPrefix differing at %d = %d", i, got)
		}
		if got := CommonPrefix(a[:i], a); got != i {
			t.Errorf("CommonPrefix of a prefix of length %d = %d", i, got)
		}
	}
}

// FuzzSame: Same never panics, is symmetric, and holds for a text and
// itself.
func FuzzSame(f *testing.F) {
	f.Add("select 1 from t where a = 22", "select 333 from t where a = 4")
	f.Add("", "1")
	r := NewRule(notWord, notWord)
	f.Fuzz(func(t *testing.T, a, b string) {
		if !r.Same([]byte(a), []byte(a)) {
			t.Fatalf("Same(%q, itself) = false", a)
		}
		if r.Same([]byte(a), []byte(b)) != r.Same([]byte(b), []byte(a)) {
			t.Fatalf("Same(%q, %q) is not symmetric", a, b)
		}
	})
}

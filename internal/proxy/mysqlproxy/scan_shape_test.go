package mysqlproxy

import (
	"reflect"
	"testing"

	"github.com/sqlgate/sqlgate/internal/sqlshape/sqlshapetest"
)

func TestScanQueryShape(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"SELECT c FROM sbtest1 WHERE id=4242", "SELECT c FROM sbtest1 WHERE id=17", true},
		{"INSERT INTO t (a, b) VALUES (1, -2.5)", "INSERT INTO t (a, b) VALUES (100, -2.75)", true},
		{"SELECT c FROM sbtest1 WHERE id=4242", "SELECT c FROM sbtest2 WHERE id=4242", false}, // a name
		{"SELECT 1abc FROM t", "SELECT 2abc FROM t", false},                                   // a name that starts with a digit
		{"SELECT 1e5", "SELECT 2e5", false},
		{"SELECT /*!40101 1 */ 2", "SELECT /*!50101 1 */ 2", false}, // an executable comment's version
		{"SELECT @1", "SELECT @2", false},
		{"SELECT '\\1'", "SELECT '\\2'", false},
	} {
		if got := mysqlNumbers.Same([]byte(c.a), []byte(c.b)); got != c.same {
			t.Errorf("same shape (%q, %q) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
	// The session answers a text of the last one's shape from the last
	// scan only for a plain statement.
	s := &session{}
	a := s.scanQuery([]byte("SELECT c FROM sbtest1 WHERE id=4242"))
	if !a.pipeable() {
		t.Fatalf("the sysbench statement scans as %+v, want pipeable", a)
	}
	if b := s.scanQuery([]byte("SELECT c FROM sbtest1 WHERE id=17")); !reflect.DeepEqual(a, b) {
		t.Fatalf("same shape: %+v, want %+v", b, a)
	}
	if got := s.scanQuery([]byte("SELECT SLEEP(1)")); got.pipeable() {
		t.Fatalf("SLEEP scans as %+v, want not pipeable", got)
	}
	if got := s.scanQuery([]byte("SELECT SLEEP(2)")); got.pipeable() || !got.noPipe {
		t.Fatalf("SLEEP again scans as %+v", got)
	}
}

// FuzzScanShape: a text that the shortcut pairs with a plain statement
// scans as that statement does. The pair is the fuzzer's text with its
// numbers rewritten wherever the rule accepts a change.
func FuzzScanShape(f *testing.F) {
	for _, s := range []string{"SELECT c FROM sbtest1 WHERE id=4242", "SELECT DISTINCT c FROM sbtest3 WHERE id BETWEEN 1 AND 100 ORDER BY c",
		"INSERT INTO t VALUES (1, '2', `3`, @4, 5e6, 0x7, 8.9)", "SELECT /*!40101 1 */ 2 -- 3\n, 4 # 5", "SELECT a.1b, 2 FROM t",
		"UPDATE t SET a = a + 1 WHERE id = 2; SELECT 3", "SELECT LOG2(8), SHA1('1'), 1"} {
		f.Add(s, "90817")
	}
	f.Fuzz(func(t *testing.T, s, digits string) {
		a := scanSQL([]byte(s))
		if !a.pipeable() {
			return
		}
		b := sqlshapetest.RewriteNumbers(mysqlNumbers, s, digits)
		if !mysqlNumbers.Same([]byte(s), []byte(b)) {
			t.Fatalf("%q is not of the shape of %q, a rewrite of its numbers", b, s)
		}
		if got := scanSQL([]byte(b)); !reflect.DeepEqual(got, a) {
			t.Fatalf("scanSQL(%q) = %+v, but its shape's %q gives %+v", b, got, s, a)
		}
	})
}

// BenchmarkScanQueryShape: a session scanning the same statement with
// other numbers each time, against a scan of each text.
func BenchmarkScanQueryShape(b *testing.B) {
	texts := [][]byte{[]byte("SELECT c FROM sbtest1 WHERE id=4242"), []byte("SELECT c FROM sbtest1 WHERE id=17")}
	b.Run("scan", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = scanSQL(texts[i&1])
		}
	})
	b.Run("shape", func(b *testing.B) {
		s := &session{}
		for i := 0; b.Loop(); i++ {
			_ = s.scanQuery(texts[i&1])
		}
	})
}

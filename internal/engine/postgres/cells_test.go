package postgres

import (
	"strconv"
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// FuzzCellsText checks the text a cells hands out (engine.TextCells) against
// the Value it decodes, for arbitrary text of every supported type: when
// Text answers, it must say exactly what Value says.
func FuzzCellsText(f *testing.F) {
	for _, s := range []string{"0", "-0", "007", "42", "-9223372036854775808", "123456789012345678", "1234567890123456789",
		"t", "f", "1", "0", "1010", "12:00:00.5", "2024-01-02 03:04:05.1+00", "0044-03-15 12:00:00+00 BC", "abc", "", "1.5e10", "NaN"} {
		for _, oid := range supportedOIDs() {
			f.Add(oid, s)
		}
	}
	f.Fuzz(func(t *testing.T, oid uint32, s string) {
		ti, ok := builtinTypes[oid]
		if !ok {
			return
		}
		elem, _ := lookupStatic(ti.elem)
		cs := &cells{text: s, cells: []engine.Span{{Off: 0, End: int32(len(s))}, {Off: -1, End: -1}}, nrows: 2, infos: []typeInfo{ti}, elems: []typeInfo{elem},
			cols: []engine.Column{{Name: "c"}}, shortest: true}
		for row := range 2 {
			want, err := cs.Value(row, 0)
			k, got, ok := cs.Text(row, 0)
			if !ok {
				continue
			}
			if err != nil {
				t.Fatalf("%s %q: Text answered %v %q where Value fails: %v", ti.name, s, k, got, err)
			}
			if !sameText(k, got, want) {
				t.Fatalf("%s %q: Text %v %q, Value %+v", ti.name, s, k, got, want)
			}
		}
	})
}

// sameText reports whether the text form (k, s) is what v encodes to.
func sameText(k engine.Kind, s string, v engine.Value) bool {
	if k != v.Kind {
		return false
	}
	switch k {
	case engine.KindNull:
		return s == ""
	case engine.KindLong:
		return s == strconv.FormatInt(v.Long, 10)
	case engine.KindBool:
		return s == strconv.FormatBool(v.Bool)
	case engine.KindString:
		return s == v.String
	case engine.KindDouble: // the digits are the server's to get right
		f, err := strconv.ParseFloat(s, 64)
		return err == nil && (f == v.Double || (f != f && v.Double != v.Double))
	}
	return false
}

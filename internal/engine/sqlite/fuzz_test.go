package sqlite

import (
	"math"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// FuzzValue maps arbitrary declared types and scanned values to column
// metadata and Fields: never a panic, NULL stays NULL, BOOLEAN columns give
// booleanValue for numbers, DECIMAL and date/time columns give stringValue,
// and times print in the Data API's format.
func FuzzValue(f *testing.F) {
	f.Add("BOOLEAN", uint8(1), int64(2), 0.0, "", []byte(nil), int64(0), int64(0))
	f.Add("DECIMAL(10, 2)", uint8(2), int64(0), 1.25, "", []byte(nil), int64(0), int64(0))
	f.Add("DATE", uint8(6), int64(0), 0.0, "", []byte(nil), int64(86400), int64(0))
	f.Add("DATETIME", uint8(6), int64(0), 0.0, "", []byte(nil), int64(-62135596800), int64(123456789))
	f.Add("varchar(x", uint8(3), int64(0), 0.0, "s", []byte(nil), int64(0), int64(0))
	f.Add("BLOB", uint8(4), int64(0), 0.0, "", []byte(nil), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, decl string, kind uint8, i int64, fl float64, s string, b []byte, sec, nsec int64) {
		col := column("c", decl)
		name, _ := declared(decl)
		if col.TypeName != name || col.Type != jdbcType(name) {
			t.Fatalf("column(%q) = %+v", decl, col)
		}
		var v any
		switch kind % 7 {
		case 1:
			v = i
		case 2:
			v = fl
		case 3:
			v = s
		case 4:
			v = b
		case 5:
			v = i%2 == 0
		case 6:
			v = time.Unix(sec%(1<<40), nsec%int64(time.Second)).In(time.FixedZone("z", int(i%50000)))
		}
		cl := classOf(name)
		got := value(v, cl, name == "DATE")
		checkValue(t, v, cl, got)
	})
}

func checkValue(t *testing.T, v any, cl class, got engine.Value) {
	t.Helper()
	want := engine.KindString
	switch v := v.(type) {
	case nil:
		want = engine.KindNull
	case int64, float64:
		switch cl {
		case classBool:
			want = engine.KindBool
		case classValue:
			want = engine.KindLong
			if _, ok := v.(float64); ok {
				want = engine.KindDouble
			}
		}
	case []byte:
		want = engine.KindBlob
	case bool:
		want = engine.KindBool
	case time.Time:
		if s := got.String; len(s) != 10 && len(s) != 19 && len(s) != 23 && len(s) != 26 && !(v.UTC().Year() > 9999 || v.UTC().Year() < 0) {
			t.Fatalf("time %v printed as %q", v, s)
		}
	}
	if got.Kind != want {
		t.Fatalf("%T %v (class %d) → %+v, want kind %d", v, v, cl, got, want)
	}
	if f, ok := v.(float64); ok && cl == classValue && !(got.Double == f || math.IsNaN(f)) {
		t.Fatalf("double %v → %v", f, got.Double)
	}
}

package mysql

import (
	"strconv"
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// FuzzValue feeds arbitrary bytes of every column type through the value
// mapping and the metadata: no panic, and a value of the kind the type maps to.
func FuzzValue(f *testing.F) {
	f.Add(uint8(typeTiny), uint32(1), uint16(0), uint8(0), uint8(63), []byte("1"))
	f.Add(uint8(typeLongLong), uint32(20), uint16(flagUnsigned), uint8(0), uint8(63), []byte("18446744073709551615"))
	f.Add(uint8(typeFloat), uint32(12), uint16(0), uint8(31), uint8(63), []byte("1.1"))
	f.Add(uint8(typeBlob), uint32(65535), uint16(0), uint8(0), uint8(45), []byte("t"))
	f.Add(uint8(typeBit), uint32(8), uint16(0), uint8(0), uint8(63), []byte{5})
	f.Fuzz(func(t *testing.T, typ uint8, length uint32, flags uint16, decimals, collation uint8, v []byte) {
		fl := field{typ: int(typ), length: length, flags: flags, decimals: decimals, collation: collation}
		_ = column(&fl)
		got, n := value(&fl, v, nil)
		if n <= 0 {
			t.Fatalf("size %d", n)
		}
		if v == nil && got.Kind != engine.KindNull {
			t.Fatalf("NULL mapped to %+v", got)
		}
		if fl.isBool() && v != nil && got.Kind != engine.KindBool {
			t.Fatalf("boolean column mapped to %+v", got)
		}
	})
}

// FuzzCellsText checks the text a cells hands out (engine.TextCells) against
// the Value it decodes, for arbitrary bytes of every column type: when Text
// answers, it must say exactly what Value says.
func FuzzCellsText(f *testing.F) {
	for _, s := range []string{"0", "-0", "007", "42", "-9223372036854775808", "18446744073709551615", "1234567890123456789", "abc", ""} {
		for _, typ := range []int{typeTiny, typeShort, typeInt24, typeLong, typeLongLong, typeYear, typeBit, typeFloat, typeDouble,
			typeNewDecimal, typeVarString, typeBlob, typeDateTime, typeJSON, typeNull} {
			f.Add(uint8(typ), uint32(11), uint16(0), uint8(33), s)
			f.Add(uint8(typ), uint32(1), uint16(flagUnsigned), uint8(binaryCollation), s)
		}
	}
	f.Fuzz(func(t *testing.T, typ uint8, length uint32, flags uint16, collation uint8, s string) {
		fl := field{typ: int(typ), length: length, flags: flags, collation: collation}
		cs := &cells{text: s, cells: []cell{{0, len(s)}, {-1, -1}}, nrows: 2, fields: []field{fl}}
		for row := range 2 {
			want, _ := cs.Value(row, 0)
			k, got, ok := cs.Text(row, 0)
			if !ok {
				continue
			}
			var same bool
			switch k {
			case engine.KindNull:
				same = want.Kind == engine.KindNull && got == ""
			case engine.KindLong:
				same = want.Kind == engine.KindLong && got == strconv.FormatInt(want.Long, 10)
			case engine.KindString:
				same = want.Kind == engine.KindString && got == want.String
			}
			if !same {
				t.Fatalf("type %d %q: Text %v %q, Value %+v", typ, s, k, got, want)
			}
		}
	})
}

package mysql

import (
	"math"
	"strconv"
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/mysqlwire"
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
		cs := &cells{text: s, cells: []engine.Span{{Off: 0, End: int32(len(s))}, {Off: -1, End: -1}}, nrows: 2, fields: []field{fl}}
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

// FuzzRawValue checks the numbers a binary-protocol result keeps raw
// (read.go: rawValue) against the text mapping they replace: for every column
// type binaryMode keeps raw, rawValue and rawSize of arbitrary bytes must
// give exactly what decode and valueSize give for the value rendered as
// mysqlwire renders it.
func FuzzRawValue(f *testing.F) {
	for _, typ := range []int{typeTiny, typeShort, typeYear, typeInt24, typeLong, typeLongLong, typeDouble, typeFloat, typeDateTime} {
		f.Add(uint8(typ), uint32(11), uint16(0), uint8(0), []byte{0x80, 0, 0, 0x80, 0, 0, 0, 0x80})
		f.Add(uint8(typ), uint32(1), uint16(flagUnsigned), uint8(31), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		f.Add(uint8(typ), uint32(20), uint16(flagUnsigned), uint8(39), []byte{0, 0, 0, 0, 0, 0, 0xe8, 0x8a})
	}
	f.Add(uint8(typeDouble), uint32(22), uint16(0), uint8(31), []byte{0, 0x30, 0x30, 0x30, 0x30, 0x30, 0xff, 0xff}) // a NaN payload
	f.Fuzz(func(t *testing.T, typ uint8, length uint32, flags uint16, decimals uint8, raw []byte) {
		col := mysqlwire.Column{Type: typ, Flags: flags, Length: length, Decimals: decimals, Charset: binaryCollation}
		if binaryMode(&col) != colRaw {
			return
		}
		row := make([]byte, 3, 3+len(raw))
		row = append(row, raw...)
		vals := make([][]byte, 1)
		if mysqlwire.SplitBinaryRow(row, []mysqlwire.Column{col}, vals) != nil {
			return
		}
		text, err := mysqlwire.AppendBinaryText(nil, &col, vals[0])
		if err != nil {
			t.Fatal(err)
		}
		fl := fieldOf(&col)
		got, want := rawValue(&fl, string(vals[0])), decode(&fl, string(text))
		if got.Kind != want.Kind || got.Long != want.Long || got.Bool != want.Bool || got.String != want.String ||
			math.Float64bits(got.Double) != math.Float64bits(want.Double) {
			t.Fatalf("type %d flags %d %x (%q): rawValue %+v, decode %+v", typ, flags, vals[0], text, got, want)
		}
		if g, w := rawSize(&fl, string(vals[0])), valueSize(&fl, text); g != w {
			t.Fatalf("type %d flags %d %x (%q): rawSize %d, valueSize %d", typ, flags, vals[0], text, g, w)
		}
	})
}

// BenchmarkRawValue decodes the raw integers and doubles of a binary
// result (rawValue) against their rendering and text decoding, which the
// raw path replaces.
func BenchmarkRawValue(b *testing.B) {
	cols := []mysqlwire.Column{{Type: mysqlwire.TypeLong, Length: 11}, {Type: mysqlwire.TypeLongLong, Length: 20},
		{Type: mysqlwire.TypeDouble, Length: 22, Decimals: notFixedDecimals}, {Type: mysqlwire.TypeTiny, Length: 1}}
	raws := [][]byte{{0x2a, 1, 0, 0}, {0x39, 0x30, 0x80, 2, 0, 0, 0, 0}, {0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x2d, 0x40}, {1}}
	fields := make([]field, len(cols))
	for i := range cols {
		fields[i] = fieldOf(&cols[i])
	}
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := range raws {
				_ = rawValue(&fields[i], string(raws[i]))
			}
		}
	})
	b.Run("text", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			for i := range raws {
				buf, _ = mysqlwire.AppendBinaryText(buf[:0], &cols[i], raws[i])
				_ = decode(&fields[i], string(buf))
			}
		}
	})
}

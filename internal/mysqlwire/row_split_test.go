package mysqlwire

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"testing"
)

// rawCols is the column list FuzzSplitBinaryRow decodes against: the
// fuzzer's type bytes, UNSIGNED on every other column, and decimals that
// include the "not fixed" 31 and MySQL's 39.
func rawCols(types []byte) []Column {
	cols := binaryCols(types)
	for i := range cols {
		cols[i].Decimals = []byte{0, 2, 6, notFixedDec, 39, 3}[i%6]
	}
	return cols
}

// FuzzSplitBinaryRow: SplitBinaryRow accepts exactly the rows
// ParseBinaryRow accepts, AppendBinaryText renders each value as
// ParseBinaryRow does.
func FuzzSplitBinaryRow(f *testing.F) {
	f.Add([]byte{TypeLong, TypeVarString, TypeDateTime, TypeTime}, []byte{0, 0, 1, 0, 0, 0, 2, 'h', 'i', 7, 0xe5, 0x07, 1, 2, 3, 4, 5, 0})
	f.Add([]byte{TypeDouble, TypeNull}, []byte{0, 0x08, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f})
	f.Add([]byte{TypeTimestamp, TypeTime}, []byte{0, 0, 11, 0xe5, 0x07, 1, 2, 3, 4, 5, 1, 0, 0, 0, 12, 1, 1, 0, 0, 0, 2, 3, 4, 5, 0, 0, 0})
	f.Add([]byte{TypeTiny, TypeTiny, TypeShort, TypeYear, TypeInt24, TypeLongLong, TypeLongLong, TypeFloat, TypeDouble},
		[]byte{0, 0, 0, 0xff, 0xff, 0xfe, 0xff, 0xe5, 0x07, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0x80,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xcd, 0xcc, 0x8c, 0x3f, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f})
	f.Fuzz(func(t *testing.T, types, p []byte) {
		cols := rawCols(types)
		want := make([][]byte, len(cols))
		_, werr := ParseBinaryRow(p, cols, want, nil)
		raw := make([][]byte, len(cols))
		err := SplitBinaryRow(p, cols, raw)
		if (err == nil) != (werr == nil) {
			t.Fatalf("SplitBinaryRow: %v, ParseBinaryRow: %v", err, werr)
		}
		if err != nil {
			return
		}
		for i := range cols {
			if (raw[i] == nil) != (want[i] == nil) {
				t.Fatalf("column %d: NULL %v, want %v", i, raw[i] == nil, want[i] == nil)
			}
			if raw[i] == nil {
				continue
			}
			got, err := AppendBinaryText(nil, &cols[i], raw[i])
			if err != nil || !bytes.Equal(got, want[i]) {
				t.Fatalf("column %d (type %d): %q, %v; want %q", i, cols[i].Type, got, err, want[i])
			}
		}
	})
}

func BenchmarkBinaryRow(b *testing.B) {
	cols := []Column{{Type: TypeLong}, {Type: TypeLong}, {Type: TypeLongLong}, {Type: TypeVarString}, {Type: TypeVarString},
		{Type: TypeDouble, Decimals: notFixedDec}, {Type: TypeNewDecimal}, {Type: TypeDateTime}, {Type: TypeTiny}, {Type: TypeBlob}}
	p := []byte{0, 0, 0}
	p = binary.LittleEndian.AppendUint32(p, 42)
	p = binary.LittleEndian.AppendUint32(p, 294)
	p = binary.LittleEndian.AppendUint64(p, 42000126)
	p = append(p, 7, 'n', 'a', 'm', 'e', '-', '4', '2')
	p = append(p, 32)
	p = append(p, bytes.Repeat([]byte{'a'}, 32)...)
	p = binary.LittleEndian.AppendUint64(p, math.Float64bits(14.0/3))
	p = append(p, 5, '5', '2', '.', '5', '0')
	p = append(p, 7, 0xe8, 0x07, 1, 2, 3, 46, 5)
	p = append(p, 1)
	p = append(p, 2, 'x', 'x')
	dst := make([][]byte, len(cols))
	b.Run("ParseBinaryRow", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = ParseBinaryRow(p, cols, dst, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SplitBinaryRow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := SplitBinaryRow(p, cols, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestClient_ColumnCache: a definition seen before is reused without
// parsing (or allocating) again, a malformed one is never cached, and the
// cache stays bounded.
func TestClient_ColumnCache(t *testing.T) {
	c := &Client{}
	want := Column{Schema: "db", Table: "t", OrgTable: "t", Name: "id", OrgName: "id", Charset: 63, Length: 11, Type: TypeLong, Flags: FlagUnsigned}
	p := want.Encode(nil)
	for range 2 {
		got, err := c.column(p)
		if err != nil || got != want {
			t.Fatalf("column: %+v, %v; want %+v", got, err, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = c.column(p) }); n != 0 {
		t.Errorf("a cached definition costs %v allocations", n)
	}
	if _, err := c.column(p[:5]); err == nil {
		t.Fatal("a truncated definition parsed")
	}
	if _, ok := c.cols[string(p[:5])]; ok {
		t.Fatal("a malformed definition was cached")
	}
	for i := range 3 * maxColumnCache {
		col := want
		col.Name = strconv.Itoa(i)
		if got, err := c.column(col.Encode(nil)); err != nil || got != col {
			t.Fatalf("column %d: %+v, %v", i, got, err)
		}
		if len(c.cols) > maxColumnCache {
			t.Fatalf("%d cached definitions, bound %d", len(c.cols), maxColumnCache)
		}
	}
}

// BenchmarkColumn parses a column definition, and takes it from the
// client's cache as a prepared statement's executions do.
func BenchmarkColumn(b *testing.B) {
	p := (&Column{Schema: "sqlgate_test", Table: "dapi_rows", OrgTable: "dapi_rows", Name: "s1", OrgName: "s1",
		Charset: 45, Length: 128, Type: TypeVarString}).Encode(nil)
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseColumn(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		c := &Client{}
		for b.Loop() {
			if _, err := c.column(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

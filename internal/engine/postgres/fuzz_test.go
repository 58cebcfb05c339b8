package postgres

import (
	"sort"
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// supportedOIDs lists the built-in types the Data API returns, in order.
func supportedOIDs() []uint32 {
	var oids []uint32
	for oid := range builtinTypes {
		oids = append(oids, oid)
	}
	sort.Slice(oids, func(i, j int) bool { return oids[i] < oids[j] })
	return oids
}

// kindOf is the Field kind a successfully decoded scalar of codec c has.
func kindOf(c codec, v engine.Value) bool {
	switch c {
	case codecInt:
		return v.Kind == engine.KindLong
	case codecFloat:
		return v.Kind == engine.KindDouble
	case codecBool:
		return v.Kind == engine.KindBool
	case codecBit:
		return v.Kind == engine.KindBool || v.Kind == engine.KindString
	case codecBytea:
		return v.Kind == engine.KindBlob
	}
	return v.Kind == engine.KindString
}

// FuzzDecode converts arbitrary text-format values of every supported type
// into Fields and builds the column metadata for any type modifier: never
// a panic, NULL stays NULL, and a decoded value has the kind its type maps to.
func FuzzDecode(f *testing.F) {
	f.Add(uint16(0), int32(-1), []byte("t"), false)
	f.Add(uint16(3), int32(-1), []byte(`\x00ff`), false)
	f.Add(uint16(5), int32(0x40006), []byte("1.50"), false)
	f.Add(uint16(7), int32(-1), []byte(`{1,NULL,"a\"b"}`), false)
	f.Add(uint16(9), int32(3), []byte("2024-01-02 03:04:05.12+00 BC"), false)
	f.Add(uint16(11), int32(-1), []byte("[0:1]={NaN,-Infinity}"), false)
	f.Add(uint16(0), int32(-1), []byte(nil), true)
	oids := supportedOIDs()
	f.Fuzz(func(t *testing.T, i uint16, typmod int32, raw []byte, null bool) {
		oid := oids[int(i)%len(oids)]
		ti, _ := lookupStatic(oid)
		_ = column("c", oid, typmod, ti)
		elem, _ := lookupStatic(ti.elem)
		if null {
			raw = nil
		} else if raw == nil {
			raw = []byte{}
		}
		v, err := decode(ti, elem, raw)
		switch {
		case err != nil:
			return
		case raw == nil:
			if v.Kind != engine.KindNull {
				t.Fatalf("NULL %s decoded as %+v", ti.name, v)
			}
		case ti.codec == codecArray:
			if v.Kind != engine.KindArray || v.ElemKind != elemKind(elem) {
				t.Fatalf("%s %q decoded as %+v", ti.name, raw, v)
			}
			for _, e := range v.Array {
				if e.Kind != engine.KindNull && !kindOf(elem.codec, e) {
					t.Fatalf("%s %q: element %+v", ti.name, raw, e)
				}
			}
		case !kindOf(ti.codec, v):
			t.Fatalf("%s %q decoded as %+v", ti.name, raw, v)
		}
	})
}

package mysql

import (
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

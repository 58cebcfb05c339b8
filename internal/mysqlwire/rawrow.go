package mysqlwire

// Binary rows without rendering.
//
// ParseBinaryRow renders every value as the text protocol would, so one
// value mapping serves both protocols. A reader that maps numbers itself
// can skip that round trip (an integer printed in decimal only to be
// parsed again): SplitBinaryRow cuts a row into its values' raw protocol
// bytes, and AppendBinaryText renders one of them exactly as
// ParseBinaryRow does, for the values the reader keeps as text.

// SplitBinaryRow cuts a binary-protocol row of cols into dst (one entry
// per column, aliasing p): nil for NULL, else the value's raw bytes —
// little-endian for the integer types (1, 2, 4 or 8 bytes by type), FLOAT
// (4) and DOUBLE (8); the length byte and the fields for the temporal
// types; the bytes of the string for the rest.
func SplitBinaryRow(p []byte, cols []Column, dst [][]byte) error {
	nullLen := (len(cols) + 7 + 2) / 8
	if len(p) < 1+nullLen || p[0] != HdrOK || len(dst) != len(cols) {
		return ErrMalformed
	}
	nulls := p[1 : 1+nullLen]
	p = p[1+nullLen:]
	for i := range cols {
		if nulls[(i+2)/8]&(1<<((i+2)%8)) != 0 {
			dst[i] = nil
			continue
		}
		n := fixedWidth(cols[i].Type)
		switch {
		case n > 0:
			if len(p) < n {
				return ErrMalformed
			}
			dst[i], p = p[:n:n], p[n:]
		case n < 0: // temporal: a length byte, then that many
			if len(p) < 1 || len(p) < 1+int(p[0]) || !temporalLen(cols[i].Type, p[0]) {
				return ErrMalformed
			}
			n = 1 + int(p[0])
			dst[i], p = p[:n:n], p[n:]
		default:
			s, rest, ok := ReadLenencString(p)
			if !ok {
				return ErrMalformed
			}
			if s == nil {
				s = []byte{}
			}
			dst[i], p = s, rest
		}
	}
	if len(p) != 0 {
		return ErrMalformed
	}
	return nil
}

// fixedWidth is the size of a binary value of type t: > 0 for the fixed
// numeric types, -1 for the temporal ones (length-prefixed), 0 for the
// length-encoded strings.
func fixedWidth(t byte) int {
	switch t {
	case TypeTiny:
		return 1
	case TypeShort, TypeYear:
		return 2
	case TypeLong, TypeInt24, TypeFloat:
		return 4
	case TypeLongLong, TypeDouble:
		return 8
	case TypeDate, TypeNewDate, TypeDateTime, TypeTimestamp, TypeTime:
		return -1
	}
	return 0
}

// temporalLen reports whether n is a length ParseBinaryRow accepts for a
// temporal value of type t.
func temporalLen(t, n byte) bool {
	if t == TypeTime {
		return n == 0 || n == 8 || n == 12
	}
	return n == 0 || n == 4 || n == 7 || n == 11
}

// AppendBinaryText appends raw, one value of c as SplitBinaryRow cut it,
// as ParseBinaryRow renders it.
func AppendBinaryText(buf []byte, c *Column, raw []byte) ([]byte, error) {
	if fixedWidth(c.Type) == 0 {
		return append(buf, raw...), nil
	}
	_, buf, rest, err := binaryValue(c, raw, buf)
	if err == nil && len(rest) != 0 {
		err = ErrMalformed
	}
	return buf, err
}

// BinaryIsText reports whether the raw bytes SplitBinaryRow cuts for a
// value of type t are already its text (the string types: everything but
// the integer, floating-point and temporal types).
func BinaryIsText(t byte) bool { return fixedWidth(t) == 0 }

package mysqlwire

// Result rows:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_row.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_binary_resultset.html

import (
	"encoding/binary"
	"math"
	"strconv"
)

// ParseTextRow decodes a text-protocol row into dst (one entry per
// column): nil for NULL, else the value's bytes, aliasing p.
func ParseTextRow(p []byte, dst [][]byte) error {
	for i := range dst {
		if len(p) > 0 && p[0] == 0xfb {
			dst[i], p = nil, p[1:]
			continue
		}
		v, rest, ok := ReadLenencString(p)
		if !ok {
			return ErrMalformed
		}
		if v == nil {
			v = []byte{}
		}
		dst[i], p = v, rest
	}
	if len(p) != 0 {
		return ErrMalformed
	}
	return nil
}

// ParseBinaryRow decodes a binary-protocol row of cols into dst, rendering
// every value as the text protocol would send it (integers and floats in
// decimal, temporal values as 'YYYY-MM-DD hh:mm:ss[.ffffff]' with the
// column's decimals), so one value mapping serves both protocols. Strings
// alias p; rendered values are appended to buf, which is returned for
// reuse (dst entries alias it, so keep it until dst is consumed).
func ParseBinaryRow(p []byte, cols []Column, dst [][]byte, buf []byte) ([]byte, error) {
	nullLen := (len(cols) + 7 + 2) / 8
	if len(p) < 1+nullLen || p[0] != HdrOK || len(dst) != len(cols) {
		return buf, ErrMalformed
	}
	nulls := p[1 : 1+nullLen]
	p = p[1+nullLen:]
	buf = buf[:0]
	// Offsets into buf, turned into slices at the end (buf may grow); on
	// the stack for up to 32 rendered values.
	var spanArr [32][2]int
	spans := spanArr[:0]
	for i := range cols {
		if nulls[(i+2)/8]&(1<<((i+2)%8)) != 0 {
			dst[i] = nil
			continue
		}
		start := len(buf)
		var raw []byte
		var err error
		raw, buf, p, err = binaryValue(&cols[i], p, buf)
		if err != nil {
			return buf, err
		}
		if raw != nil {
			dst[i] = raw
			continue
		}
		dst[i] = []byte{} // placeholder, filled from spans
		spans = append(spans, [2]int{i, start})
	}
	if len(p) != 0 {
		return buf, ErrMalformed
	}
	for k, sp := range spans {
		end := len(buf)
		if k+1 < len(spans) {
			end = spans[k+1][1]
		}
		dst[sp[0]] = buf[sp[1]:end:end]
	}
	return buf, nil
}

// binaryValue decodes one value. Strings come back as raw (aliasing p);
// rendered values are appended to buf and raw is nil.
func binaryValue(c *Column, p, buf []byte) (raw, out, rest []byte, err error) {
	unsigned := c.Flags&FlagUnsigned != 0
	need := func(n int) bool { return len(p) >= n }
	switch c.Type {
	case TypeTiny:
		if !need(1) {
			return nil, buf, nil, ErrMalformed
		}
		if unsigned {
			return nil, strconv.AppendUint(buf, uint64(p[0]), 10), p[1:], nil
		}
		return nil, strconv.AppendInt(buf, int64(int8(p[0])), 10), p[1:], nil
	case TypeShort, TypeYear:
		if !need(2) {
			return nil, buf, nil, ErrMalformed
		}
		v := binary.LittleEndian.Uint16(p)
		if unsigned || c.Type == TypeYear {
			return nil, strconv.AppendUint(buf, uint64(v), 10), p[2:], nil
		}
		return nil, strconv.AppendInt(buf, int64(int16(v)), 10), p[2:], nil
	case TypeLong, TypeInt24:
		if !need(4) {
			return nil, buf, nil, ErrMalformed
		}
		v := binary.LittleEndian.Uint32(p)
		if unsigned {
			return nil, strconv.AppendUint(buf, uint64(v), 10), p[4:], nil
		}
		return nil, strconv.AppendInt(buf, int64(int32(v)), 10), p[4:], nil
	case TypeLongLong:
		if !need(8) {
			return nil, buf, nil, ErrMalformed
		}
		v := binary.LittleEndian.Uint64(p)
		if unsigned {
			return nil, strconv.AppendUint(buf, v, 10), p[8:], nil
		}
		return nil, strconv.AppendInt(buf, int64(v), 10), p[8:], nil
	case TypeFloat:
		if !need(4) {
			return nil, buf, nil, ErrMalformed
		}
		f := math.Float32frombits(binary.LittleEndian.Uint32(p))
		return nil, appendFloat(buf, float64(f), c.Decimals, 32), p[4:], nil
	case TypeDouble:
		if !need(8) {
			return nil, buf, nil, ErrMalformed
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(p))
		return nil, appendFloat(buf, f, c.Decimals, 64), p[8:], nil
	case TypeDate, TypeNewDate, TypeDateTime, TypeTimestamp:
		return binaryDateTime(c, p, buf)
	case TypeTime:
		return binaryTime(c, p, buf)
	}
	s, rest, ok := ReadLenencString(p)
	if !ok {
		return nil, buf, nil, ErrMalformed
	}
	if s == nil {
		s = []byte{}
	}
	return s, buf, rest, nil
}

// notFixedDec is the decimals of a FLOAT or DOUBLE column without a
// fixed scale (MariaDB 31, MySQL 39).
const notFixedDec = 31

// appendFloat renders a FLOAT (bits 32) or DOUBLE as the server's text
// protocol does, to the same value: a column with fixed decimals in
// fixed point with that many; else a DOUBLE shortest, and a FLOAT, which
// the server prints with FLT_DIG (6) significant digits, rounded to those.
func appendFloat(buf []byte, f float64, decimals byte, bits int) []byte {
	switch {
	case decimals < notFixedDec:
		return strconv.AppendFloat(buf, f, 'f', int(decimals), bits)
	case bits == 32:
		return strconv.AppendFloat(buf, f, 'g', 6, 64)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, 64)
}

func binaryDateTime(c *Column, p, buf []byte) (raw, out, rest []byte, err error) {
	if len(p) < 1 || len(p) < 1+int(p[0]) {
		return nil, buf, nil, ErrMalformed
	}
	n := int(p[0])
	d := p[1 : 1+n]
	rest = p[1+n:]
	var y, mo, da, h, mi, s int
	var us uint32
	switch n {
	case 0:
	case 4, 7, 11:
		y, mo, da = int(binary.LittleEndian.Uint16(d)), int(d[2]), int(d[3])
		if n >= 7 {
			h, mi, s = int(d[4]), int(d[5]), int(d[6])
		}
		if n == 11 {
			us = binary.LittleEndian.Uint32(d[7:])
		}
	default:
		return nil, buf, nil, ErrMalformed
	}
	buf = appendPadded(buf, y, 4)
	buf = append(buf, '-')
	buf = appendPadded(buf, mo, 2)
	buf = append(buf, '-')
	buf = appendPadded(buf, da, 2)
	if c.Type == TypeDate || c.Type == TypeNewDate {
		return nil, buf, rest, nil
	}
	buf = append(buf, ' ')
	buf = appendClock(buf, h, mi, s)
	return nil, appendFraction(buf, us, c.Decimals), rest, nil
}

func binaryTime(c *Column, p, buf []byte) (raw, out, rest []byte, err error) {
	if len(p) < 1 || len(p) < 1+int(p[0]) {
		return nil, buf, nil, ErrMalformed
	}
	n := int(p[0])
	d := p[1 : 1+n]
	rest = p[1+n:]
	var neg bool
	var hours, mi, s int
	var us uint32
	switch n {
	case 0:
	case 8, 12:
		neg = d[0] == 1
		hours = int(binary.LittleEndian.Uint32(d[1:]))*24 + int(d[5])
		mi, s = int(d[6]), int(d[7])
		if n == 12 {
			us = binary.LittleEndian.Uint32(d[8:])
		}
	default:
		return nil, buf, nil, ErrMalformed
	}
	if neg {
		buf = append(buf, '-')
	}
	buf = appendClock(buf, hours, mi, s)
	return nil, appendFraction(buf, us, c.Decimals), rest, nil
}

func appendClock(buf []byte, h, m, s int) []byte {
	buf = appendPadded(buf, h, 2)
	buf = append(buf, ':')
	buf = appendPadded(buf, m, 2)
	buf = append(buf, ':')
	return appendPadded(buf, s, 2)
}

// appendFraction appends ".ffffff" cut to decimals digits (none for 0 or
// the "not fixed" 31).
func appendFraction(buf []byte, us uint32, decimals byte) []byte {
	if decimals == 0 || decimals > 6 {
		return buf
	}
	var f [6]byte
	v := us % 1000000
	for i := 5; i >= 0; i-- {
		f[i] = byte('0' + v%10)
		v /= 10
	}
	buf = append(buf, '.')
	return append(buf, f[:decimals]...)
}

func appendPadded(buf []byte, v, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}

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

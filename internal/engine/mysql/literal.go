package mysql

// Client-side parameter interpolation, as Connector/J does it by default
// (useServerPrepStmts=false): one COM_QUERY, one round trip.
//
// A quoted literal is only safe while the server reads the statement in a
// character set where no multi-byte character can end in a quote or
// backslash byte: a session switched to GBK, Big5, SJIS, … (SET NAMES)
// would read the bytes of "丁'" (UTF-8 E4 B8 81 27) as a two-byte character
// and a closing quote. The login character set (utf8mb4) is safe; once the
// session's state may have changed (Conn.state), strings and bytes are sent
// as hexadecimal literals instead, which no character set can re-read:
// _utf8mb4 X'…' for strings, X'…' for bytes.

import (
	"encoding/hex"
	"strconv"
)

var backslashEscapes = [256]byte{0: '0', '\n': 'n', '\r': 'r', 0x1a: 'Z', '\'': '\'', '"': '"', '\\': '\\'}

// literalMode selects how strings are written.
type literalMode uint8

const (
	quoteBackslash literalMode = iota // '…' with backslash escapes
	quoteDouble                       // '…' with '' (NO_BACKSLASH_ESCAPES)
	quoteHex                          // _utf8mb4 X'…'
)

// interpolate appends sql with each marker (byte offsets in markers)
// replaced by the literal of the matching arg.
func interpolate(b []byte, sql string, markers []int, args []arg, mode literalMode) []byte {
	last := 0
	for i, at := range markers {
		b = append(b, sql[last:at]...)
		b = appendLiteral(b, args[i].Value, mode)
		last = at + 1
	}
	return append(b, sql[last:]...)
}

func appendLiteral(b []byte, v any, mode literalMode) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "NULL"...)
	case bool:
		if x {
			return append(b, '1')
		}
		return append(b, '0')
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case string:
		if mode == quoteHex {
			return appendHex(append(b, "_utf8mb4 "...), x)
		}
		return appendQuoted(append(b, '\''), x, mode)
	case []byte:
		if mode == quoteHex {
			return appendHex(b, string(x))
		}
		return appendQuoted(append(b, "_binary'"...), string(x), mode)
	}
	panic("BUG: unsupported arg type")
}

func appendQuoted(b []byte, s string, mode literalMode) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case mode == quoteDouble && c == '\'':
			b = append(b, '\'', '\'')
		case mode == quoteBackslash && backslashEscapes[c] != 0:
			b = append(b, '\\', backslashEscapes[c])
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}

func appendHex(b []byte, s string) []byte {
	b = append(b, "X'"...)
	b = hex.AppendEncode(b, []byte(s))
	return append(b, '\'')
}

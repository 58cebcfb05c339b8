package mysqlwire

// Basic data types and generic response packets:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_dt_integers.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html

import (
	"encoding/binary"
	"errors"
)

// ErrMalformed is returned by decoders for truncated or inconsistent packets.
var ErrMalformed = errors.New("malformed mysql packet")

// Capability flags.
const (
	CapLongPassword     uint32 = 1 << 0
	CapFoundRows        uint32 = 1 << 1
	CapLongFlag         uint32 = 1 << 2
	CapConnectWithDB    uint32 = 1 << 3
	CapNoSchema         uint32 = 1 << 4
	CapCompress         uint32 = 1 << 5
	CapLocalFiles       uint32 = 1 << 7
	CapIgnoreSpace      uint32 = 1 << 8
	CapProtocol41       uint32 = 1 << 9
	CapInteractive      uint32 = 1 << 10
	CapSSL              uint32 = 1 << 11
	CapTransactions     uint32 = 1 << 13
	CapSecureConn       uint32 = 1 << 15
	CapMultiStatements  uint32 = 1 << 16
	CapMultiResults     uint32 = 1 << 17
	CapPSMultiResults   uint32 = 1 << 18
	CapPluginAuth       uint32 = 1 << 19
	CapConnectAttrs     uint32 = 1 << 20
	CapPluginAuthLenenc uint32 = 1 << 21
	CapSessionTrack     uint32 = 1 << 23
	CapDeprecateEOF     uint32 = 1 << 24
	CapOptionalMetadata uint32 = 1 << 25
	CapQueryAttributes  uint32 = 1 << 27
	CapSSLVerifyCert    uint32 = 1 << 30
	CapRememberOptions  uint32 = 1 << 31
)

// Server status flags.
const (
	StatusInTrans           uint16 = 0x0001
	StatusAutocommit        uint16 = 0x0002
	StatusMoreResults       uint16 = 0x0008
	StatusNoGoodIndexUsed   uint16 = 0x0010
	StatusNoIndexUsed       uint16 = 0x0020
	StatusCursorExists      uint16 = 0x0040
	StatusLastRowSent       uint16 = 0x0080
	StatusDBDropped         uint16 = 0x0100
	StatusNoBackslashEscape uint16 = 0x0200
	StatusMetadataChanged   uint16 = 0x0400
	StatusInTransReadonly   uint16 = 0x2000
	StatusStateChanged      uint16 = 0x4000
)

// Command bytes.
const (
	ComQuit             byte = 0x01
	ComInitDB           byte = 0x02
	ComQuery            byte = 0x03
	ComFieldList        byte = 0x04
	ComStatistics       byte = 0x09
	ComProcessInfo      byte = 0x0a
	ComProcessKill      byte = 0x0c
	ComDebug            byte = 0x0d
	ComPing             byte = 0x0e
	ComChangeUser       byte = 0x11
	ComStmtPrepare      byte = 0x16
	ComStmtExecute      byte = 0x17
	ComStmtSendLongData byte = 0x18
	ComStmtClose        byte = 0x19
	ComStmtReset        byte = 0x1a
	ComSetOption        byte = 0x1b
	ComStmtFetch        byte = 0x1c
	ComResetConnection  byte = 0x1f
)

// Packet header bytes.
const (
	HdrOK          byte = 0x00
	HdrAuthMore    byte = 0x01
	HdrLocalInfile byte = 0xfb
	HdrEOF         byte = 0xfe
	HdrERR         byte = 0xff
)

// ReadLenenc decodes a length-encoded integer. ok is false when b is
// truncated or starts with 0xfb (NULL) or 0xff (ERR).
func ReadLenenc(b []byte) (v uint64, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, nil, false
	}
	switch c := b[0]; {
	case c < 0xfb:
		return uint64(c), b[1:], true
	case c == 0xfc && len(b) >= 3:
		return uint64(binary.LittleEndian.Uint16(b[1:])), b[3:], true
	case c == 0xfd && len(b) >= 4:
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, b[4:], true
	case c == 0xfe && len(b) >= 9:
		return binary.LittleEndian.Uint64(b[1:]), b[9:], true
	}
	return 0, nil, false
}

// ReadLenencString decodes a length-encoded string; s aliases b.
func ReadLenencString(b []byte) (s, rest []byte, ok bool) {
	n, rest, ok := ReadLenenc(b)
	if !ok || n > uint64(len(rest)) {
		return nil, nil, false
	}
	return rest[:n], rest[n:], true
}

// ReadNulString decodes a NUL-terminated string; s aliases b.
func ReadNulString(b []byte) (s, rest []byte, ok bool) {
	for i, c := range b {
		if c == 0 {
			return b[:i], b[i+1:], true
		}
	}
	return nil, nil, false
}

// AppendLenenc appends v as a length-encoded integer.
func AppendLenenc(b []byte, v uint64) []byte {
	switch {
	case v < 0xfb:
		return append(b, byte(v))
	case v < 1<<16:
		return append(b, 0xfc, byte(v), byte(v>>8))
	case v < 1<<24:
		return append(b, 0xfd, byte(v), byte(v>>8), byte(v>>16))
	}
	b = append(b, 0xfe)
	return binary.LittleEndian.AppendUint64(b, v)
}

// AppendLenencString appends s as a length-encoded string.
func AppendLenencString(b []byte, s []byte) []byte {
	return append(AppendLenenc(b, uint64(len(s))), s...)
}

// OK is a decoded OK packet (header 0x00, or 0xfe when it ends a result
// set under CLIENT_DEPRECATE_EOF). Byte fields alias the packet.
type OK struct {
	Header       byte
	AffectedRows uint64
	LastInsertID uint64
	Status       uint16
	Warnings     uint16
	Info         []byte
	// SessionState is the raw session_state_info, present when Status has
	// StatusStateChanged (decode it with ParseSessionState).
	SessionState []byte
}

// ParseOK decodes an OK packet sent to a connection that negotiated
// CLIENT_PROTOCOL_41 and, when track is set, CLIENT_SESSION_TRACK.
func ParseOK(p []byte, track bool) (OK, error) {
	var ok OK
	if len(p) < 1 {
		return ok, ErrMalformed
	}
	ok.Header = p[0]
	var good bool
	rest := p[1:]
	if ok.AffectedRows, rest, good = ReadLenenc(rest); !good {
		return ok, ErrMalformed
	}
	if ok.LastInsertID, rest, good = ReadLenenc(rest); !good {
		return ok, ErrMalformed
	}
	if len(rest) < 4 {
		return ok, ErrMalformed
	}
	ok.Status = binary.LittleEndian.Uint16(rest)
	ok.Warnings = binary.LittleEndian.Uint16(rest[2:])
	rest = rest[4:]
	if !track {
		// The info (e.g. "Rows matched: 1 …") is length-encoded, as MySQL
		// and MariaDB send it; anything else is taken as the bare text.
		if info, tail, good := ReadLenencString(rest); good && len(tail) == 0 {
			rest = info
		}
		ok.Info = rest
		return ok, nil
	}
	if len(rest) == 0 {
		return ok, nil
	}
	if ok.Info, rest, good = ReadLenencString(rest); !good {
		return ok, ErrMalformed
	}
	if ok.Status&StatusStateChanged != 0 && len(rest) > 0 {
		if ok.SessionState, _, good = ReadLenencString(rest); !good {
			return ok, ErrMalformed
		}
	}
	return ok, nil
}

// Encode appends ok in the format a client with caps expects.
func (ok OK) Encode(b []byte, caps uint32) []byte {
	b = append(b, ok.Header)
	b = AppendLenenc(b, ok.AffectedRows)
	b = AppendLenenc(b, ok.LastInsertID)
	status := ok.Status
	if caps&CapSessionTrack == 0 || ok.SessionState == nil {
		status &^= StatusStateChanged
	}
	b = binary.LittleEndian.AppendUint16(b, status)
	b = binary.LittleEndian.AppendUint16(b, ok.Warnings)
	if caps&CapSessionTrack == 0 {
		if len(ok.Info) == 0 {
			return b
		}
		return AppendLenencString(b, ok.Info) // as the server: libmysqlclient reads a length first
	}
	if len(ok.Info) == 0 && status&StatusStateChanged == 0 {
		return b
	}
	b = AppendLenencString(b, ok.Info)
	if status&StatusStateChanged != 0 {
		b = AppendLenencString(b, ok.SessionState)
	}
	return b
}

// EOFPacket builds a (pre-DEPRECATE_EOF) EOF packet.
func EOFPacket(warnings, status uint16) []byte { return AppendEOF(nil, warnings, status) }

// AppendEOF appends a (pre-DEPRECATE_EOF) EOF packet to b.
func AppendEOF(b []byte, warnings, status uint16) []byte {
	status &^= StatusStateChanged
	return append(b, HdrEOF, byte(warnings), byte(warnings>>8), byte(status), byte(status>>8))
}

// IsEOF reports whether a packet is an EOF (or the OK that replaces it
// under CLIENT_DEPRECATE_EOF) rather than a row whose first column starts
// with a 0xfe length prefix. more is the ReadFrame flag (false for a
// whole packet shorter than MaxFrame).
func IsEOF(p []byte, more bool) bool {
	return len(p) > 0 && p[0] == HdrEOF && !more && len(p) < MaxFrame
}

// ParseEOF returns the status of an old-style EOF packet.
func ParseEOF(p []byte) (warnings, status uint16, err error) {
	if len(p) < 5 || p[0] != HdrEOF {
		return 0, 0, ErrMalformed
	}
	return binary.LittleEndian.Uint16(p[1:]), binary.LittleEndian.Uint16(p[3:]), nil
}

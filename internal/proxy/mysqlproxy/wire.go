package mysqlproxy

// Basic data types and generic response packets:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_dt_integers.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html

import (
	"encoding/binary"
	"errors"
)

// errMalformed is returned by decoders for truncated or inconsistent packets.
var errMalformed = errors.New("malformed mysql packet")

// Capability flags (spec proxy.md §5.1).
const (
	capLongPassword      uint32 = 1 << 0
	capFoundRows         uint32 = 1 << 1
	capLongFlag          uint32 = 1 << 2
	capConnectWithDB     uint32 = 1 << 3
	capNoSchema          uint32 = 1 << 4
	capCompress          uint32 = 1 << 5
	capLocalFiles        uint32 = 1 << 7
	capIgnoreSpace       uint32 = 1 << 8
	capProtocol41        uint32 = 1 << 9
	capInteractive       uint32 = 1 << 10
	capSSL               uint32 = 1 << 11
	capTransactions      uint32 = 1 << 13
	capSecureConn        uint32 = 1 << 15
	capMultiStatements   uint32 = 1 << 16
	capMultiResults      uint32 = 1 << 17
	capPSMultiResults    uint32 = 1 << 18
	capPluginAuth        uint32 = 1 << 19
	capConnectAttrs      uint32 = 1 << 20
	capPluginAuthLenenc  uint32 = 1 << 21
	capSessionTrack      uint32 = 1 << 23
	capDeprecateEOF      uint32 = 1 << 24
	capOptionalMetadata  uint32 = 1 << 25
	capQueryAttributes   uint32 = 1 << 27
	capSSLVerifyCert     uint32 = 1 << 30
	capRememberOptions   uint32 = 1 << 31
	capNeedsProtocol41   uint32 = capProtocol41 | capSecureConn
	capClientUnsupported uint32 = capCompress | capLocalFiles | capOptionalMetadata | capQueryAttributes
)

// Server status flags.
const (
	statusInTrans         uint16 = 0x0001
	statusAutocommit      uint16 = 0x0002
	statusMoreResults     uint16 = 0x0008
	statusCursorExists    uint16 = 0x0040
	statusLastRowSent     uint16 = 0x0080
	statusInTransReadonly uint16 = 0x2000
	statusStateChanged    uint16 = 0x4000
)

// Command bytes.
const (
	comQuit             byte = 0x01
	comInitDB           byte = 0x02
	comQuery            byte = 0x03
	comFieldList        byte = 0x04
	comStatistics       byte = 0x09
	comProcessInfo      byte = 0x0a
	comProcessKill      byte = 0x0c
	comDebug            byte = 0x0d
	comPing             byte = 0x0e
	comChangeUser       byte = 0x11
	comStmtPrepare      byte = 0x16
	comStmtExecute      byte = 0x17
	comStmtSendLongData byte = 0x18
	comStmtClose        byte = 0x19
	comStmtReset        byte = 0x1a
	comSetOption        byte = 0x1b
	comStmtFetch        byte = 0x1c
	comResetConnection  byte = 0x1f
)

// Packet header bytes.
const (
	hdrOK          byte = 0x00
	hdrLocalInfile byte = 0xfb
	hdrEOF         byte = 0xfe
	hdrERR         byte = 0xff
	hdrAuthMore    byte = 0x01
)

// readLenenc decodes a length-encoded integer. ok is false when b is
// truncated or starts with 0xfb (NULL) or 0xff (ERR).
func readLenenc(b []byte) (v uint64, rest []byte, ok bool) {
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

// readLenencString decodes a length-encoded string; s aliases b.
func readLenencString(b []byte) (s, rest []byte, ok bool) {
	n, rest, ok := readLenenc(b)
	if !ok || n > uint64(len(rest)) {
		return nil, nil, false
	}
	return rest[:n], rest[n:], true
}

// readNulString decodes a NUL-terminated string; s aliases b.
func readNulString(b []byte) (s, rest []byte, ok bool) {
	for i, c := range b {
		if c == 0 {
			return b[:i], b[i+1:], true
		}
	}
	return nil, nil, false
}

func appendLenenc(b []byte, v uint64) []byte {
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

func appendLenencString(b []byte, s []byte) []byte {
	return append(appendLenenc(b, uint64(len(s))), s...)
}

// okPacket is a decoded OK packet (header 0x00, or 0xfe when it ends a
// result set under CLIENT_DEPRECATE_EOF). Byte fields alias the packet.
type okPacket struct {
	header       byte
	affectedRows uint64
	lastInsertID uint64
	status       uint16
	warnings     uint16
	info         []byte
	sessionState []byte // present when status has statusStateChanged
}

// parseOK decodes an OK packet sent to a connection that negotiated
// CLIENT_PROTOCOL_41 and, when track is set, CLIENT_SESSION_TRACK.
func parseOK(p []byte, track bool) (okPacket, error) {
	var ok okPacket
	if len(p) < 1 {
		return ok, errMalformed
	}
	ok.header = p[0]
	var good bool
	rest := p[1:]
	if ok.affectedRows, rest, good = readLenenc(rest); !good {
		return ok, errMalformed
	}
	if ok.lastInsertID, rest, good = readLenenc(rest); !good {
		return ok, errMalformed
	}
	if len(rest) < 4 {
		return ok, errMalformed
	}
	ok.status = binary.LittleEndian.Uint16(rest)
	ok.warnings = binary.LittleEndian.Uint16(rest[2:])
	rest = rest[4:]
	if !track {
		ok.info = rest
		return ok, nil
	}
	if len(rest) == 0 {
		return ok, nil
	}
	if ok.info, rest, good = readLenencString(rest); !good {
		return ok, errMalformed
	}
	if ok.status&statusStateChanged != 0 && len(rest) > 0 {
		if ok.sessionState, _, good = readLenencString(rest); !good {
			return ok, errMalformed
		}
	}
	return ok, nil
}

// encode appends ok in the format a client with caps expects.
func (ok okPacket) encode(b []byte, caps uint32) []byte {
	b = append(b, ok.header)
	b = appendLenenc(b, ok.affectedRows)
	b = appendLenenc(b, ok.lastInsertID)
	status := ok.status
	if caps&capSessionTrack == 0 || ok.sessionState == nil {
		status &^= statusStateChanged
	}
	b = binary.LittleEndian.AppendUint16(b, status)
	b = binary.LittleEndian.AppendUint16(b, ok.warnings)
	if caps&capSessionTrack == 0 {
		return append(b, ok.info...)
	}
	if len(ok.info) == 0 && status&statusStateChanged == 0 {
		return b
	}
	b = appendLenencString(b, ok.info)
	if status&statusStateChanged != 0 {
		b = appendLenencString(b, ok.sessionState)
	}
	return b
}

// eofPacket builds a (pre-DEPRECATE_EOF) EOF packet.
func eofPacket(warnings, status uint16) []byte {
	return []byte{hdrEOF, byte(warnings), byte(warnings >> 8), byte(status &^ statusStateChanged), byte((status &^ statusStateChanged) >> 8)}
}

// isEOF reports whether a single-frame packet is an EOF (or the OK that
// replaces it under CLIENT_DEPRECATE_EOF) rather than a row whose first
// column starts with a 0xfe length prefix.
func isEOF(p []byte, more bool) bool {
	return len(p) > 0 && p[0] == hdrEOF && !more && len(p) < maxFrame
}

// parseEOF returns the status of an old-style EOF packet.
func parseEOF(p []byte) (warnings, status uint16, err error) {
	if len(p) < 5 || p[0] != hdrEOF {
		return 0, 0, errMalformed
	}
	return binary.LittleEndian.Uint16(p[1:]), binary.LittleEndian.Uint16(p[3:]), nil
}

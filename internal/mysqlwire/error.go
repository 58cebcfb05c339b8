package mysqlwire

// ERR packets: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html

import (
	"encoding/binary"
	"fmt"
)

// Error is an error a server reported in an ERR packet (or one a proxy
// sends to its clients).
type Error struct {
	Code  uint16
	State string // SQLSTATE, 5 characters
	Msg   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("mysql error %d (%s): %s", e.Code, e.State, e.Msg)
}

// Packet encodes e as an ERR packet for a CLIENT_PROTOCOL_41 client.
func (e *Error) Packet() []byte {
	b := make([]byte, 0, 9+len(e.Msg))
	b = append(b, HdrERR)
	b = binary.LittleEndian.AppendUint16(b, e.Code)
	state := e.State
	if len(state) != 5 {
		state = "HY000"
	}
	b = append(b, '#')
	b = append(b, state...)
	return append(b, e.Msg...)
}

// ParseErr decodes an ERR packet from a CLIENT_PROTOCOL_41 server. A
// packet too short to be one decodes as CR_SERVER_LOST.
func ParseErr(p []byte) *Error {
	if len(p) < 3 || p[0] != HdrERR {
		return &Error{Code: 2013, State: "HY000", Msg: "malformed error packet"}
	}
	e := &Error{Code: binary.LittleEndian.Uint16(p[1:]), State: "HY000"}
	rest := p[3:]
	if len(rest) >= 6 && rest[0] == '#' {
		e.State, rest = string(rest[1:6]), rest[6:]
	}
	e.Msg = string(rest)
	return e
}

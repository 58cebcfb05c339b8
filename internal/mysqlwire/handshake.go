package mysqlwire

// Connection phase packets:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_response.html

import (
	"encoding/binary"
	"sort"
)

// Auth plugin names and connection-phase constants.
const (
	PluginNative    = "mysql_native_password"
	PluginSHA2      = "caching_sha2_password"
	PluginClear     = "mysql_clear_password"
	PluginED25519   = "client_ed25519"
	ScrambleLen     = 20
	DefaultCharset  = 45 // utf8mb4_general_ci
	SSLRequestLen   = 32
	handshakeFiller = 23
)

// Greeting is the server's initial handshake (protocol version 10).
type Greeting struct {
	Version  string
	ConnID   uint32
	Scramble []byte // 20 bytes from a modern server
	Caps     uint32
	Charset  byte
	Status   uint16
	Plugin   string
}

// Encode builds the greeting packet (Scramble must hold 20 bytes).
func (g *Greeting) Encode() []byte {
	b := make([]byte, 0, 128)
	b = append(b, 10)
	b = append(b, g.Version...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, g.ConnID)
	b = append(b, g.Scramble[:8]...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(g.Caps))
	b = append(b, g.Charset)
	b = binary.LittleEndian.AppendUint16(b, g.Status)
	b = binary.LittleEndian.AppendUint16(b, uint16(g.Caps>>16))
	b = append(b, ScrambleLen+1)
	b = append(b, make([]byte, 10)...)
	b = append(b, g.Scramble[8:]...)
	b = append(b, 0)
	b = append(b, g.Plugin...)
	return append(b, 0)
}

// ParseGreeting decodes a server's initial handshake. An ERR packet (the
// server refusing the connection) comes back as *Error.
func ParseGreeting(p []byte) (*Greeting, error) {
	if len(p) < 1 {
		return nil, ErrMalformed
	}
	if p[0] == HdrERR {
		return nil, ParseErr(p)
	}
	if p[0] != 10 {
		return nil, ErrMalformed
	}
	g := &Greeting{}
	v, rest, ok := ReadNulString(p[1:])
	if !ok || len(rest) < 4+8+1+2 {
		return nil, ErrMalformed
	}
	g.Version = string(v)
	g.ConnID = binary.LittleEndian.Uint32(rest)
	g.Scramble = append([]byte(nil), rest[4:12]...)
	rest = rest[13:]
	g.Caps = uint32(binary.LittleEndian.Uint16(rest))
	rest = rest[2:]
	if len(rest) < 16 {
		return g, nil // pre-4.1 style server: no more fields
	}
	g.Charset = rest[0]
	g.Status = binary.LittleEndian.Uint16(rest[1:])
	g.Caps |= uint32(binary.LittleEndian.Uint16(rest[3:])) << 16
	authLen := int(rest[5])
	rest = rest[16:]
	if g.Caps&CapSecureConn != 0 {
		n := max(13, authLen-8)
		if len(rest) < n {
			return nil, ErrMalformed
		}
		part := rest[:n]
		if part[n-1] == 0 {
			part = part[:n-1]
		}
		g.Scramble = append(g.Scramble, part...)
		rest = rest[n:]
	}
	if g.Caps&CapPluginAuth != 0 {
		if name, _, ok := ReadNulString(rest); ok {
			g.Plugin = string(name)
		} else {
			g.Plugin = string(rest)
		}
	}
	return g, nil
}

// HandshakeResponse is a client's HandshakeResponse41.
type HandshakeResponse struct {
	Caps      uint32
	MaxPacket uint32
	Charset   byte
	User      string
	Auth      []byte
	DB        string
	Plugin    string
	Attrs     map[string]string
}

// ParseHandshakeResponse decodes HandshakeResponse41. It returns
// ErrMalformed for anything else, including pre-4.1 clients.
func ParseHandshakeResponse(p []byte) (*HandshakeResponse, error) {
	if len(p) < SSLRequestLen {
		return nil, ErrMalformed
	}
	r := &HandshakeResponse{
		Caps:      binary.LittleEndian.Uint32(p),
		MaxPacket: binary.LittleEndian.Uint32(p[4:]),
		Charset:   p[8],
	}
	if r.Caps&CapProtocol41 == 0 {
		return nil, ErrMalformed
	}
	rest := p[SSLRequestLen:]
	user, rest, ok := ReadNulString(rest)
	if !ok {
		return nil, ErrMalformed
	}
	r.User = string(user)
	switch {
	case r.Caps&CapPluginAuthLenenc != 0:
		r.Auth, rest, ok = ReadLenencString(rest)
	case r.Caps&CapSecureConn != 0:
		if ok = len(rest) >= 1 && len(rest) >= 1+int(rest[0]); ok {
			r.Auth, rest = rest[1:1+int(rest[0])], rest[1+int(rest[0]):]
		}
	default:
		r.Auth, rest, ok = ReadNulString(rest)
	}
	if !ok {
		return nil, ErrMalformed
	}
	r.Auth = append([]byte(nil), r.Auth...)
	return r, r.parseTail(rest)
}

// parseTail decodes the optional database, plugin and attributes.
func (r *HandshakeResponse) parseTail(rest []byte) error {
	if r.Caps&CapConnectWithDB != 0 && len(rest) > 0 {
		db, rest2, ok := ReadNulString(rest)
		if !ok {
			return ErrMalformed
		}
		r.DB, rest = string(db), rest2
	}
	if r.Caps&CapPluginAuth != 0 && len(rest) > 0 {
		name, rest2, ok := ReadNulString(rest)
		if !ok {
			name, rest2 = rest, nil
		}
		r.Plugin, rest = string(name), rest2
	}
	if r.Caps&CapConnectAttrs != 0 && len(rest) > 0 {
		attrs, err := ParseAttrs(rest)
		if err != nil {
			return err
		}
		r.Attrs = attrs
	}
	return nil
}

// ParseAttrs decodes connection attributes (at most 64 are kept).
func ParseAttrs(p []byte) (map[string]string, error) {
	all, _, ok := ReadLenencString(p)
	if !ok {
		return nil, ErrMalformed
	}
	attrs := map[string]string{}
	for len(all) > 0 {
		k, rest, ok := ReadLenencString(all)
		if !ok {
			return nil, ErrMalformed
		}
		v, rest, ok := ReadLenencString(rest)
		if !ok {
			return nil, ErrMalformed
		}
		if len(attrs) < 64 {
			attrs[string(k)] = string(v)
		}
		all = rest
	}
	return attrs, nil
}

// Encode builds the response packet; an SSLRequest is its first
// SSLRequestLen bytes. Attributes are written in name order.
func (r *HandshakeResponse) Encode() []byte {
	b := make([]byte, 0, 128+len(r.Auth))
	b = binary.LittleEndian.AppendUint32(b, r.Caps)
	b = binary.LittleEndian.AppendUint32(b, r.MaxPacket)
	b = append(b, r.Charset)
	b = append(b, make([]byte, handshakeFiller)...)
	b = append(b, r.User...)
	b = append(b, 0)
	b = AppendLenencString(b, r.Auth)
	if r.Caps&CapConnectWithDB != 0 {
		b = append(b, r.DB...)
		b = append(b, 0)
	}
	b = append(b, r.Plugin...)
	b = append(b, 0)
	if r.Caps&CapConnectAttrs != 0 {
		b = appendAttrs(b, r.Attrs)
	}
	return b
}

// appendAttrs appends connection attributes in name order.
func appendAttrs(b []byte, attrs map[string]string) []byte {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var kv []byte
	for _, k := range keys {
		kv = AppendLenencString(kv, []byte(k))
		kv = AppendLenencString(kv, []byte(attrs[k]))
	}
	return AppendLenencString(b, kv)
}

// AuthSwitchRequest builds an AuthSwitchRequest packet.
func AuthSwitchRequest(plugin string, data []byte) []byte {
	b := make([]byte, 0, 2+len(plugin)+len(data)+1)
	b = append(b, HdrEOF)
	b = append(b, plugin...)
	b = append(b, 0)
	b = append(b, data...)
	return append(b, 0)
}

// ParseAuthSwitch decodes an AuthSwitchRequest sent by a server.
func ParseAuthSwitch(p []byte) (plugin string, data []byte, err error) {
	if len(p) < 1 || p[0] != HdrEOF {
		return "", nil, ErrMalformed
	}
	name, rest, ok := ReadNulString(p[1:])
	if !ok {
		return string(p[1:]), nil, nil
	}
	if n := len(rest); n > 0 && rest[n-1] == 0 {
		rest = rest[:n-1]
	}
	return string(name), append([]byte(nil), rest...), nil
}

package mysqlproxy

// Connection phase packets:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_response.html

import (
	"encoding/binary"
)

// Auth plugin names.
const (
	pluginNative    = "mysql_native_password"
	pluginSHA2      = "caching_sha2_password"
	pluginClear     = "mysql_clear_password"
	pluginED25519   = "client_ed25519"
	scrambleLen     = 20
	defaultCharset  = 45 // utf8mb4_general_ci
	sslRequestLen   = 32
	handshakeFiller = 23
)

// greeting is the server's initial handshake (protocol version 10).
type greeting struct {
	version  string
	connID   uint32
	scramble []byte // 20 bytes
	caps     uint32
	charset  byte
	status   uint16
	plugin   string
}

// encode builds the greeting packet.
func (g *greeting) encode() []byte {
	b := make([]byte, 0, 128)
	b = append(b, 10)
	b = append(b, g.version...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, g.connID)
	b = append(b, g.scramble[:8]...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(g.caps))
	b = append(b, g.charset)
	b = binary.LittleEndian.AppendUint16(b, g.status)
	b = binary.LittleEndian.AppendUint16(b, uint16(g.caps>>16))
	b = append(b, scrambleLen+1)
	b = append(b, make([]byte, 10)...)
	b = append(b, g.scramble[8:]...)
	b = append(b, 0)
	b = append(b, g.plugin...)
	return append(b, 0)
}

// parseGreeting decodes a server's initial handshake.
func parseGreeting(p []byte) (*greeting, error) {
	if len(p) < 1 {
		return nil, errMalformed
	}
	if p[0] == hdrERR {
		return nil, parseErr(p)
	}
	if p[0] != 10 {
		return nil, errMalformed
	}
	g := &greeting{}
	v, rest, ok := readNulString(p[1:])
	if !ok || len(rest) < 4+8+1+2 {
		return nil, errMalformed
	}
	g.version = string(v)
	g.connID = binary.LittleEndian.Uint32(rest)
	g.scramble = append([]byte(nil), rest[4:12]...)
	rest = rest[13:]
	g.caps = uint32(binary.LittleEndian.Uint16(rest))
	rest = rest[2:]
	if len(rest) < 16 {
		return g, nil // pre-4.1 style server: no more fields
	}
	g.charset = rest[0]
	g.status = binary.LittleEndian.Uint16(rest[1:])
	g.caps |= uint32(binary.LittleEndian.Uint16(rest[3:])) << 16
	authLen := int(rest[5])
	rest = rest[16:]
	if g.caps&capSecureConn != 0 {
		n := max(13, authLen-8)
		if len(rest) < n {
			return nil, errMalformed
		}
		part := rest[:n]
		if part[n-1] == 0 {
			part = part[:n-1]
		}
		g.scramble = append(g.scramble, part...)
		rest = rest[n:]
	}
	if g.caps&capPluginAuth != 0 {
		if name, _, ok := readNulString(rest); ok {
			g.plugin = string(name)
		} else {
			g.plugin = string(rest)
		}
	}
	return g, nil
}

// handshakeResponse is a client's HandshakeResponse41.
type handshakeResponse struct {
	caps      uint32
	maxPacket uint32
	charset   byte
	user      string
	auth      []byte
	db        string
	plugin    string
	attrs     map[string]string
}

// parseHandshakeResponse decodes HandshakeResponse41. It returns
// errMalformed for anything else, including pre-4.1 clients.
func parseHandshakeResponse(p []byte) (*handshakeResponse, error) {
	if len(p) < sslRequestLen {
		return nil, errMalformed
	}
	r := &handshakeResponse{
		caps:      binary.LittleEndian.Uint32(p),
		maxPacket: binary.LittleEndian.Uint32(p[4:]),
		charset:   p[8],
	}
	if r.caps&capProtocol41 == 0 {
		return nil, errMalformed
	}
	rest := p[sslRequestLen:]
	user, rest, ok := readNulString(rest)
	if !ok {
		return nil, errMalformed
	}
	r.user = string(user)
	switch {
	case r.caps&capPluginAuthLenenc != 0:
		r.auth, rest, ok = readLenencString(rest)
	case r.caps&capSecureConn != 0:
		if ok = len(rest) >= 1 && len(rest) >= 1+int(rest[0]); ok {
			r.auth, rest = rest[1:1+int(rest[0])], rest[1+int(rest[0]):]
		}
	default:
		r.auth, rest, ok = readNulString(rest)
	}
	if !ok {
		return nil, errMalformed
	}
	r.auth = append([]byte(nil), r.auth...)
	if r.caps&capConnectWithDB != 0 && len(rest) > 0 {
		db, rest2, ok := readNulString(rest)
		if !ok {
			return nil, errMalformed
		}
		r.db, rest = string(db), rest2
	}
	if r.caps&capPluginAuth != 0 && len(rest) > 0 {
		name, rest2, ok := readNulString(rest)
		if !ok {
			name, rest2 = rest, nil
		}
		r.plugin, rest = string(name), rest2
	}
	if r.caps&capConnectAttrs != 0 && len(rest) > 0 {
		attrs, err := parseAttrs(rest)
		if err != nil {
			return nil, err
		}
		r.attrs = attrs
	}
	return r, nil
}

func parseAttrs(p []byte) (map[string]string, error) {
	all, _, ok := readLenencString(p)
	if !ok {
		return nil, errMalformed
	}
	attrs := map[string]string{}
	for len(all) > 0 {
		k, rest, ok := readLenencString(all)
		if !ok {
			return nil, errMalformed
		}
		v, rest, ok := readLenencString(rest)
		if !ok {
			return nil, errMalformed
		}
		if len(attrs) < 64 {
			attrs[string(k)] = string(v)
		}
		all = rest
	}
	return attrs, nil
}

// encode builds the response the proxy sends to a backend; an SSLRequest
// is its 32-byte prefix.
func (r *handshakeResponse) encode() []byte {
	b := make([]byte, 0, 128+len(r.auth))
	b = binary.LittleEndian.AppendUint32(b, r.caps)
	b = binary.LittleEndian.AppendUint32(b, r.maxPacket)
	b = append(b, r.charset)
	b = append(b, make([]byte, handshakeFiller)...)
	b = append(b, r.user...)
	b = append(b, 0)
	b = appendLenencString(b, r.auth)
	if r.caps&capConnectWithDB != 0 {
		b = append(b, r.db...)
		b = append(b, 0)
	}
	b = append(b, r.plugin...)
	b = append(b, 0)
	if r.caps&capConnectAttrs != 0 {
		var kv []byte
		for k, v := range r.attrs {
			kv = appendLenencString(kv, []byte(k))
			kv = appendLenencString(kv, []byte(v))
		}
		b = appendLenencString(b, kv)
	}
	return b
}

// authSwitchRequest builds an AuthSwitchRequest packet.
func authSwitchRequest(plugin string, data []byte) []byte {
	b := make([]byte, 0, 2+len(plugin)+len(data)+1)
	b = append(b, hdrEOF)
	b = append(b, plugin...)
	b = append(b, 0)
	b = append(b, data...)
	return append(b, 0)
}

// parseAuthSwitch decodes an AuthSwitchRequest sent by a backend.
func parseAuthSwitch(p []byte) (plugin string, data []byte, err error) {
	if len(p) < 1 || p[0] != hdrEOF {
		return "", nil, errMalformed
	}
	name, rest, ok := readNulString(p[1:])
	if !ok {
		return string(p[1:]), nil, nil
	}
	if n := len(rest); n > 0 && rest[n-1] == 0 {
		rest = rest[:n-1]
	}
	return string(name), append([]byte(nil), rest...), nil
}

package pgproxy

// Connection start-up and client authentication,
// https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP.

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sqlgate/sqlgate/internal/framebuf"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

const (
	protocol30     = 196608
	sslRequestCode = 80877103
	gssRequestCode = 80877104
	cancelCode     = 80877102
	// startupTimeout bounds TLS handshake and authentication (the
	// default of PostgreSQL's authentication_timeout): a client starved
	// of CPU while it computes its SCRAM proof, as in a connection storm,
	// may take long.
	startupTimeout = time.Minute
	maxStartupLen  = 10000
)

// startupConn reads length-prefixed start-up packets.
type startupConn struct{ br *framebuf.Reader }

func startupReader(c net.Conn) *startupConn { return &startupConn{br: newClientReader(c)} }

// read returns the request code and the packet after it.
func (st *startupConn) read() (code uint32, body []byte, err error) {
	var hdr [8]byte
	if _, err := io.ReadFull(st.br, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr[:4]))
	if n < 8 || n > maxStartupLen {
		return 0, nil, fmt.Errorf("invalid startup packet length %d", n)
	}
	body = make([]byte, n-8)
	if _, err := io.ReadFull(st.br, body); err != nil {
		return 0, nil, unexpectedEOF(err)
	}
	return binary.BigEndian.Uint32(hdr[4:]), body, nil
}

// errCancelRequest ends a connection that carried a CancelRequest.
var errCancelRequest = errors.New("cancel request")

// startup negotiates TLS and reads the StartupMessage parameters.
func (s *session) startup() (map[string]string, error) {
	st := startupReader(s.ps.Conn)
	for {
		code, body, err := st.read()
		if err != nil {
			return nil, err
		}
		switch code {
		case sslRequestCode:
			if s.ps.TLS() || st.br.Buffered() > 0 {
				return nil, fatal("08P01", "unexpected SSLRequest", nil)
			}
			if _, err := s.ps.Conn.Write([]byte{'S'}); err != nil {
				return nil, err
			}
			tc := tls.Server(s.ps.Conn, s.srv.core.TLSConfig())
			if err := tc.Handshake(); err != nil {
				return nil, fmt.Errorf("tls handshake: %w", err)
			}
			s.ps.UpgradeTLS(tc)
			st = startupReader(tc)
		case gssRequestCode:
			if _, err := s.ps.Conn.Write([]byte{'N'}); err != nil {
				return nil, err
			}
		case cancelCode:
			if len(body) >= 8 {
				s.srv.cancel(binary.BigEndian.Uint32(body), body[4:])
			}
			return nil, errCancelRequest
		case protocol30:
			s.cr = msgReader{br: st.br}
			return parseStartup(body)
		default:
			if code>>16 == 3 { // 3.x newer than 3.0: offer 3.0
				if err := s.negotiate(body); err != nil {
					return nil, err
				}
				s.cr = msgReader{br: st.br}
				return parseStartup(body)
			}
			return nil, fatal("0A000", fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0", code>>16, code&0xffff), nil)
		}
	}
}

// negotiate answers a 3.x (x>0) StartupMessage with NegotiateProtocolVersion.
func (s *session) negotiate(body []byte) error {
	params, err := parseStartup(body)
	if err != nil {
		return err
	}
	var unknown []string
	for k := range params {
		if strings.HasPrefix(k, "_pq_.") {
			unknown = append(unknown, k)
		}
	}
	b, _ := (&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown}).Encode(nil)
	_, err = s.ps.Conn.Write(b)
	return err
}

// parseStartup decodes "name\0value\0...\0"; options' "-c name=value" and
// "--name=value" entries become parameters.
func parseStartup(body []byte) (map[string]string, error) {
	params := map[string]string{}
	for len(body) > 0 && body[0] != 0 {
		k, rest, ok := cstring(body)
		if !ok {
			return nil, fatal("08P01", "invalid startup packet layout", nil)
		}
		v, rest, ok := cstring(rest)
		if !ok {
			return nil, fatal("08P01", "invalid startup packet layout", nil)
		}
		params[string(k)] = string(v)
		body = rest
	}
	if len(body) != 1 { // like PostgreSQL: the empty name ends the packet
		return nil, fatal("08P01", "invalid startup packet layout: expected terminator as last byte", nil)
	}
	if opts, ok := params["options"]; ok {
		delete(params, "options")
		f := strings.Fields(opts)
		for i := 0; i < len(f); i++ {
			kv := f[i]
			switch {
			case kv == "-c" && i+1 < len(f):
				i++
				kv = f[i]
			case strings.HasPrefix(kv, "-c"):
				kv = kv[2:]
			case strings.HasPrefix(kv, "--"):
				kv = kv[2:]
			default:
				return nil, fatal("42704", fmt.Sprintf("unsupported startup option %q", kv), nil)
			}
			name, val, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fatal("42704", fmt.Sprintf("invalid startup option %q", kv), nil)
			}
			params[strings.ReplaceAll(name, "-", "_")] = val
		}
	}
	return params, nil
}

// authenticate runs the client authentication exchange and returns the
// backend login. Mode choice (docs/proxy.md "Authentication"): iam_auth
// required → cleartext password carrying the token (TLS or loopback only);
// optional → cleartext over TLS (token or password), SCRAM-SHA-256 in
// plaintext; disabled → SCRAM-SHA-256.
func (s *session) authenticate(ctx context.Context, user string) (proxy.Login, error) {
	auth := s.srv.core.Auth()
	mode := auth.IAMMode()
	if mode == proxy.IAMRequired && !s.ps.TLS() && !s.ps.Loopback() {
		return proxy.Login{}, fatal("28000", "IAM authentication requires an SSL connection", nil)
	}
	failed := fatal("28P01", fmt.Sprintf("password authentication failed for user %q", user), proxy.ErrAuthFailed)
	if mode == proxy.IAMRequired || mode == proxy.IAMOptional && s.ps.TLS() {
		s.writeNow(mustEncode(&pgproto3.AuthenticationCleartextPassword{}))
		body, err := s.readAuth()
		if err != nil {
			return proxy.Login{}, err
		}
		pw, _, _ := cstring(body)
		login, err := auth.CheckPassword(ctx, user, string(pw))
		if err != nil {
			failed.Err = err
			return proxy.Login{}, failed
		}
		return login, nil
	}
	cands, err := auth.Passwords(ctx, user)
	if err != nil && !errors.Is(err, proxy.ErrAuthFailed) {
		return proxy.Login{}, fatal("XX000", "could not read the authentication secret", err)
	}
	known := err == nil
	passwords := make([]string, len(cands))
	for i, c := range cands {
		passwords[i] = c.Password
	}
	if !known {
		passwords = []string{"unknown user: " + user} // mock exchange, fails at the proof
	}
	matched, err := s.scramExchange(passwords)
	if err != nil {
		if errors.Is(err, errSCRAM) || !known {
			failed.Err = err
			return proxy.Login{}, failed
		}
		return proxy.Login{}, err
	}
	if !known {
		return proxy.Login{}, failed
	}
	return cands[matched].Login, nil
}

// scramExchange runs SCRAM-SHA-256 accepting any of passwords and returns
// the index of the one the client proved.
func (s *session) scramExchange(passwords []string) (int, error) {
	sc := &scramServer{salt: s.srv.scram.salt}
	for _, pw := range passwords {
		sc.keys = append(sc.keys, s.srv.scram.get(pw))
	}
	s.writeNow(mustEncode(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scramMechanism}}))
	body, err := s.readAuth()
	if err != nil {
		return 0, err
	}
	var init pgproto3.SASLInitialResponse
	if err := init.Decode(body); err != nil || init.AuthMechanism != scramMechanism {
		return 0, fmt.Errorf("%w: unsupported mechanism", errSCRAM)
	}
	first, err := sc.first(init.Data)
	if err != nil {
		return 0, err
	}
	s.writeNow(mustEncode(&pgproto3.AuthenticationSASLContinue{Data: []byte(first)}))
	if body, err = s.readAuth(); err != nil {
		return 0, err
	}
	final, err := sc.final(body)
	if err != nil {
		return 0, err
	}
	s.writeNow(mustEncode(&pgproto3.AuthenticationSASLFinal{Data: []byte(final)}))
	return sc.matched, nil
}

// readAuth reads one 'p' message body.
func (s *session) readAuth() ([]byte, error) {
	frame, err := s.cr.next()
	if err != nil {
		return nil, err
	}
	if frame[0] != 'p' {
		return nil, fatal("08P01", fmt.Sprintf("expected password response, got message type %q", frame[0]), nil)
	}
	return append([]byte(nil), frame[5:]...), nil
}

func mustEncode(m pgproto3.BackendMessage) []byte {
	b, err := m.Encode(nil)
	if err != nil {
		panic("BUG: encode " + fmt.Sprintf("%T", m) + ": " + err.Error())
	}
	return b
}

// greet sends AuthenticationOk, ParameterStatus, BackendKeyData and
// ReadyForQuery. Server parameters come from the first backend connection
// (one is opened if none exists yet), overlaid with the client's own.
func (s *session) greet(ctx context.Context) error {
	sp := s.srv.dial.serverParams()
	if sp == nil {
		b, err := s.srv.pool.Get(ctx, s.login)
		if err != nil {
			return borrowError(err)
		}
		s.srv.pool.Put(b)
		sp = s.srv.dial.serverParams()
	}
	out := mustEncode(&pgproto3.AuthenticationOk{})
	for k, v := range sp {
		if cv, ok := s.params[strings.ToLower(k)]; ok {
			v = cv
		}
		out = append(out, mustEncode(&pgproto3.ParameterStatus{Name: k, Value: v})...)
	}
	out = append(out, backendKeyData(s.pid, s.key)...)
	out = append(out, readyForQuery('I')...)
	s.writeNow(out)
	return s.clientErr()
}

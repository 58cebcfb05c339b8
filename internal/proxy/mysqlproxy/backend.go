package mysqlproxy

// The proxy's client side of the protocol toward the database: a small
// handshake (mysql_native_password, caching_sha2_password, cleartext) and
// the few commands the proxy issues itself.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/sqlgate/sqlgate/internal/proxy"
)

// backendCaps are requested from every database connection: a fixed
// superset so pooled connections are interchangeable; the relay converts
// to each client's capabilities. Multi-statements stay off until a client
// that negotiated them needs them (COM_SET_OPTION).
const backendCaps = capLongPassword | capLongFlag | capProtocol41 | capTransactions | capSecureConn |
	capMultiResults | capPSMultiResults | capPluginAuth | capPluginAuthLenenc | capSessionTrack |
	capDeprecateEOF | capConnectAttrs

// backendRequired are capabilities the relay depends on.
const backendRequired = capProtocol41 | capSessionTrack | capDeprecateEOF | capSecureConn

// dialer opens backend connections.
type dialer struct {
	addr      string
	tls       *tls.Config // nil: plaintext
	initQuery string
	defaultDB string
	timeout   time.Duration
	// onVersion learns the server version for the greeting clients see.
	onVersion func(string)
}

// backendConn is one proxy→database connection, logged in with an auth
// secret's credentials and with session tracking on. It is owned by one
// client at a time; the pool owns it in between.
type backendConn struct {
	pc       *packetConn
	tls      bool
	threadID uint32
	status   uint16
	// schema is the current default database.
	schema string
	// defaultSchema is the schema it was opened with, restored on reset.
	defaultSchema string
	// vars are tracked variables set since the last reset; baseline holds
	// their values in a fresh session.
	vars, baseline vars
	lastInsertID   uint64
	multi          int8 // multi-statements: -1 unknown, 0 off, 1 on
	stmts          *stmtCache
	// dirty: the session holds state the proxy cannot replay (user
	// variables, temporary tables, locks); reset before reuse.
	dirty bool
	// tainted: a statement the proxy cannot see into (a stored routine
	// call) ran since the last reset; reset before another client uses it.
	tainted bool
	// owner is the proxy session that last borrowed the connection, 0
	// after a reset (a fresh session anyone may take without another).
	owner uint64
	// pending: a command was sent whose reply is not fully read (set
	// while the proxy runs one; left set if a panic unwinds through it,
	// so the connection is closed, never pooled).
	pending bool
	broken  bool
	// scrambleSeen is the greeting's scramble (COM_CHANGE_USER reuses it).
	scrambleSeen []byte
	// idleSince is when it was last returned to the pool.
	idleSince time.Time
}

var _ proxy.Conn = (*backendConn)(nil)

// Close closes the network connection without COM_QUIT.
func (b *backendConn) Close() error { return b.pc.close() }

// Broken reports that the connection must not be reused.
func (b *backendConn) Broken() bool { return b.broken }

// dial opens a pooled backend connection for login: logged in, with
// session tracking on. Network failures wrap proxy.ErrBackendDown so the
// pool fails fast.
func (d *dialer) dial(ctx context.Context, login proxy.Login) (*backendConn, error) {
	b, err := d.open(ctx, login)
	if err != nil {
		return nil, err
	}
	_ = b.pc.conn.SetDeadline(time.Now().Add(d.timeout))
	if err := b.setup(d.initQuery); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("set up database connection: %w", err)
	}
	_ = b.pc.conn.SetDeadline(time.Time{})
	return b, nil
}

// open opens and logs in a connection (also used for one-off KILLs).
func (d *dialer) open(ctx context.Context, login proxy.Login) (*backendConn, error) {
	nd := net.Dialer{Timeout: d.timeout}
	nc, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %w", proxy.ErrBackendDown, d.addr, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		_ = tc.SetKeepAlive(true)
	}
	b := &backendConn{pc: newPacketConn(nc), multi: 0, stmts: newStmtCache(), vars: vars{}, baseline: vars{}}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Now()) })
	defer stop()
	if d.timeout > 0 {
		_ = nc.SetDeadline(time.Now().Add(d.timeout))
	}
	if err := d.login(b, login); err != nil {
		_ = nc.Close()
		var me *Error
		if errors.As(err, &me) {
			return nil, fmt.Errorf("log in to database: %w", err)
		}
		return nil, fmt.Errorf("%w: log in to database: %w", proxy.ErrBackendDown, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return b, nil
}

func (d *dialer) login(b *backendConn, login proxy.Login) error {
	p, err := b.pc.readPacket()
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	g, err := parseGreeting(p)
	if err != nil {
		return err
	}
	if g.caps&backendRequired != backendRequired {
		return &Error{Code: erHandshake, State: "08S01", Msg: "database server too old for the proxy (needs CLIENT_SESSION_TRACK and CLIENT_DEPRECATE_EOF)"}
	}
	if d.onVersion != nil {
		d.onVersion(g.version)
	}
	b.threadID, b.scrambleSeen = g.connID, g.scramble
	resp := &handshakeResponse{caps: backendCaps & g.caps, maxPacket: maxPacket, charset: defaultCharset,
		user: login.User, attrs: map[string]string{"_client_name": "sqlgate", "program_name": "sqlgate-proxy"}}
	db := login.Database
	if db == "" {
		db = d.defaultDB
	}
	if db != "" {
		resp.caps |= capConnectWithDB
		resp.db = db
		b.schema, b.defaultSchema = db, db
	}
	if d.tls != nil {
		if g.caps&capSSL == 0 {
			return &Error{Code: erHandshake, State: "08S01", Msg: "database server does not offer TLS"}
		}
		resp.caps |= capSSL
		if err := b.pc.send(resp.encode()[:sslRequestLen]); err != nil {
			return err
		}
		tc := tls.Client(b.pc.conn, d.tls)
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("tls handshake: %w", err)
		}
		b.pc.reset(tc)
		b.tls = true
	}
	plugin := g.plugin
	if plugin == "" {
		plugin = pluginNative
	}
	if resp.auth, err = authData(plugin, g.scramble, login.Password, b.tls); err != nil {
		plugin, resp.auth = pluginNative, scrambleNative(g.scramble, login.Password)
	}
	resp.plugin = plugin
	if err := b.pc.send(resp.encode()); err != nil {
		return err
	}
	return b.authLoop(plugin, g.scramble, login.Password)
}

// authData computes the first auth response of plugin.
func authData(plugin string, scramble []byte, password string, secure bool) ([]byte, error) {
	if len(scramble) < scrambleLen && plugin != pluginClear {
		return nil, errMalformed
	}
	switch plugin {
	case pluginNative:
		return scrambleNative(scramble, password), nil
	case pluginSHA2:
		return scrambleSHA2(scramble, password), nil
	case pluginClear:
		if !secure {
			return nil, errors.New("refusing to send a cleartext password without TLS")
		}
		return append([]byte(password), 0), nil
	}
	return nil, fmt.Errorf("unsupported auth plugin %q", plugin)
}

// authLoop reads the server's answers until OK or ERR, following
// AuthSwitchRequests and the caching_sha2_password exchanges.
func (b *backendConn) authLoop(plugin string, scramble []byte, password string) error {
	for range 8 {
		p, err := b.pc.readPacket()
		if err != nil {
			return fmt.Errorf("read auth result: %w", err)
		}
		switch {
		case len(p) == 0:
			return errMalformed
		case p[0] == hdrOK:
			ok, err := parseOK(p, true)
			b.status = ok.status
			return err
		case p[0] == hdrERR:
			return parseErr(p)
		case p[0] == hdrEOF:
			if plugin, scramble, err = parseAuthSwitch(p); err != nil {
				return err
			}
			data, err := authData(plugin, scramble, password, b.tls)
			if err != nil {
				return err
			}
			if err := b.pc.send(data); err != nil {
				return err
			}
		case p[0] == hdrAuthMore && plugin == pluginSHA2 && len(p) >= 2:
			if err := b.sha2More(p, scramble, password); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected auth packet 0x%02x for %s", p[0], plugin)
		}
	}
	return errors.New("too many auth round trips")
}

func (b *backendConn) sha2More(p, scramble []byte, password string) error {
	switch p[1] {
	case 3: // fast auth succeeded; OK follows
		return nil
	case 4: // full auth
		if b.tls {
			return b.pc.send(append([]byte(password), 0))
		}
		if err := b.pc.send([]byte{2}); err != nil { // request public key
			return err
		}
		key, err := b.pc.readPacket()
		if err != nil || len(key) < 2 || key[0] != hdrAuthMore {
			return fmt.Errorf("read server public key: %w", errors.Join(err, errMalformed))
		}
		enc, err := encryptPassword(password, scramble, key[1:])
		if err != nil {
			return err
		}
		return b.pc.send(enc)
	}
	return fmt.Errorf("unexpected caching_sha2_password state %d", p[1])
}

// setup enables session tracking, runs init_query and records the
// baseline of the tracked variables.
func (b *backendConn) setup(initQuery string) error {
	if _, err := b.exec(trackSetup); err != nil {
		return err
	}
	if initQuery != "" {
		if _, err := b.exec(initQuery); err != nil {
			return fmt.Errorf("init_query: %w", err)
		}
	}
	rows, err := b.query(baselineQuery)
	if err != nil {
		return err
	}
	b.baseline, b.vars = vars{}, vars{}
	for _, r := range rows {
		if len(r) == 2 {
			b.baseline[r[0]] = r[1]
		}
	}
	b.dirty = false
	return nil
}

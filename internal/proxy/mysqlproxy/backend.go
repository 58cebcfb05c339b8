package mysqlproxy

// The proxy's connections to the database: logged in by mysqlwire.Dial,
// with session tracking on and the proxy's own bookkeeping of what the
// session holds.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// backendRequired are capabilities the relay depends on, on top of what
// mysqlwire.Dial requests (mysqlwire.ClientCaps: a fixed set, so pooled
// connections are interchangeable; the relay converts to each client's
// capabilities). Multi-statements stay off until a client that negotiated
// them needs them (COM_SET_OPTION).
const backendRequired = mysqlwire.CapProtocol41 | mysqlwire.CapSessionTrack | mysqlwire.CapDeprecateEOF | mysqlwire.CapSecureConn

// dialer opens backend connections.
type dialer struct {
	addr string
	// writer, when set, returns the address to dial instead of addr (a
	// replicated cluster's current writer).
	writer    func() string
	route     proxy.Route // a read-only endpoint's choice of instance
	tls       *tls.Config // nil: plaintext
	initQuery func() string
	defaultDB string
	timeout   time.Duration
	// onVersion learns the server version for the greeting clients see.
	onVersion func(string)
}

// backendConn is one proxy→database connection, logged in with an auth
// secret's credentials and with session tracking on. It is owned by one
// client at a time; the pool owns it in between.
type backendConn struct {
	cl *mysqlwire.Client
	// addr is the server dialled; writer, when set, the cluster's
	// current writer: once it is not addr the connection is broken.
	addr   string
	writer func() string
	// route, when set, is a read-only endpoint's: once it does not serve
	// addr the connection is broken.
	route  proxy.Route
	closed func() // tells route the connection closed (nil without one)
	// pc is cl's packet layer, which the relay reads frames from.
	pc       *mysqlwire.PacketConn
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
	// deadline: a read/write deadline is set on the connection.
	deadline bool
	// idleSince is when it was last returned to the pool.
	idleSince time.Time
}

var _ proxy.Conn = (*backendConn)(nil)

// Close closes the network connection without COM_QUIT.
func (b *backendConn) Close() error {
	if b.closed != nil {
		defer b.closed()
	}
	return b.pc.Close()
}

// setDeadline sets the read and write deadline d from now; zero clears
// it (a no-op when none is set, the common case on every borrow).
func (b *backendConn) setDeadline(d time.Duration) {
	if d <= 0 && !b.deadline {
		return
	}
	b.pc.SetDeadline(d)
	b.deadline = d > 0
}

// Broken reports that the connection must not be reused: its state is
// unknown, or its server is no longer the cluster's writer.
func (b *backendConn) Broken() bool {
	return b.broken || proxy.Stale(b.route, b.writer, b.addr)
}

// dial opens a pooled backend connection for login: logged in, with
// session tracking on. Network failures wrap proxy.ErrBackendDown so the
// pool fails fast.
func (d *dialer) dial(ctx context.Context, login proxy.Login) (*backendConn, error) {
	b, err := d.open(ctx, login, proxy.Target(login.Instance, d.writer, d.addr))
	if err != nil {
		return nil, err
	}
	if b.route = d.route; b.route != nil {
		b.closed = b.route.Connected(b.addr)
	}
	_ = b.pc.Conn().SetDeadline(time.Now().Add(d.timeout))
	if err := b.setup(d.initQuery()); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("set up database connection: %w", err)
	}
	_ = b.pc.Conn().SetDeadline(time.Time{})
	return b, nil
}

// options are the mysqlwire.Dial options for login at addr.
func (d *dialer) options(login proxy.Login, addr string) mysqlwire.Options {
	db := login.Database
	if db == "" {
		db = d.defaultDB
	}
	return mysqlwire.Options{Address: addr, User: login.User, Password: login.Password, Database: db,
		TLS: d.tls, Timeout: d.timeout, Attrs: map[string]string{"_client_name": "sqlgate", "program_name": "sqlgate-proxy"},
		OnGreeting: func(g *mysqlwire.Greeting) {
			if d.onVersion != nil {
				d.onVersion(g.Version)
			}
		}}
}

// open opens and logs in a connection to addr.
func (d *dialer) open(ctx context.Context, login proxy.Login, addr string) (*backendConn, error) {
	opts := d.options(login, addr)
	cl, err := mysqlwire.Dial(ctx, opts)
	if err != nil {
		var se *mysqlwire.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("log in to database: %w", fromWire(se))
		}
		return nil, fmt.Errorf("%w: %w", proxy.ErrBackendDown, err)
	}
	if cl.Caps()&backendRequired != backendRequired {
		_ = cl.Close()
		return nil, &Error{Code: erHandshake, State: "08S01", Msg: "database server too old for the proxy (needs CLIENT_SESSION_TRACK and CLIENT_DEPRECATE_EOF)"}
	}
	b := &backendConn{cl: cl, addr: opts.Address, writer: d.writer, pc: cl.Packets(), threadID: cl.ConnID(), status: cl.Status(),
		schema: opts.Database, defaultSchema: opts.Database, stmts: newStmtCache(), vars: vars{}, baseline: vars{}}
	cl.OnState = b.noteState
	return b, nil
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

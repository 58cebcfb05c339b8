package mysqlwire

// The client side of a connection: dial, TLS, login.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/sqlgate/sqlgate/internal/rawconn"
)

// ClientCaps are requested from every server (ANDed with what it offers):
// protocol 4.1, plugin auth, multi results for CALL, session tracking and
// OK packets instead of EOF. Multi-statements and LOCAL INFILE stay off.
const ClientCaps = CapLongPassword | CapLongFlag | CapProtocol41 | CapTransactions | CapSecureConn |
	CapMultiResults | CapPSMultiResults | CapPluginAuth | CapPluginAuthLenenc | CapSessionTrack |
	CapDeprecateEOF | CapConnectAttrs

// requiredCaps are the capabilities Client depends on.
const requiredCaps = CapProtocol41 | CapSecureConn

// Options configure Dial.
type Options struct {
	Address  string // host:port
	User     string
	Password string
	Database string // empty: no default database
	// TLS, when set, upgrades the connection before the credentials are sent.
	TLS *tls.Config
	// ExtraCaps are requested on top of ClientCaps (e.g. CapFoundRows).
	ExtraCaps uint32
	// Charset is the collation id of the session; 0 means DefaultCharset.
	Charset byte
	// Attrs are connection attributes (performance_schema.session_connect_attrs).
	Attrs map[string]string
	// Timeout bounds dialing and the login; 0 leaves it to ctx.
	Timeout time.Duration
	// OnGreeting, when set, sees the server's greeting before the login.
	OnGreeting func(*Greeting)
}

// ErrNetwork wraps failures to reach or talk to the server (as opposed to
// an *Error the server reported).
var ErrNetwork = errors.New("mysql connection failed")

// Client is one client connection. It is not safe for concurrent use,
// except Close, which may be called from another goroutine to abort a
// command in flight.
type Client struct {
	pc      *PacketConn
	caps    uint32
	connID  uint32
	version string
	status  uint16
	tls     bool
	// scramble is the greeting's; COM_CHANGE_USER answers it again.
	scramble []byte
	charset  byte
	attrs    map[string]string
	// OnState, when set, receives each session-state change the server
	// reports (in OK packets and the OK ending a result set).
	OnState func(StateChange)
	rows    Rows
	scratch []byte
	// cols are column definitions parsed before, by their packet: a
	// statement run again (above all a prepared one, whose definitions the
	// server sends with every execution) reuses them (column).
	cols map[string]Column
}

// maxColumnCache bounds Client.cols; when full it starts over.
const maxColumnCache = 128

// column parses a ColumnDefinition41 packet, or returns the Column parsed
// from the same bytes before: a definition is a pure function of its
// packet.
func (c *Client) column(p []byte) (Column, error) {
	if col, ok := c.cols[string(p)]; ok {
		return col, nil
	}
	col, err := ParseColumn(p)
	if err != nil {
		return col, err
	}
	if c.cols == nil || len(c.cols) >= maxColumnCache {
		c.cols = make(map[string]Column, 16)
	}
	c.cols[string(p)] = col
	return col, nil
}

// ConnID returns the server's thread id from the greeting (CONNECTION_ID()).
func (c *Client) ConnID() uint32 { return c.connID }

// ServerVersion returns the version string of the greeting.
func (c *Client) ServerVersion() string { return c.version }

// Status returns the server status flags of the last OK/EOF packet.
func (c *Client) Status() uint16 { return c.status }

// Caps returns the negotiated capabilities.
func (c *Client) Caps() uint32 { return c.caps }

// Conn returns the network connection (for deadlines).
func (c *Client) Conn() net.Conn { return c.pc.Conn() }

// Packets returns the packet layer, for callers that relay frames
// themselves (a proxy); they must leave it idle between commands.
func (c *Client) Packets() *PacketConn { return c.pc }

// Close closes the network connection without COM_QUIT (to abort).
func (c *Client) Close() error { return c.pc.Close() }

// Quit sends COM_QUIT (so the server does not count an aborted client)
// and closes the connection.
func (c *Client) Quit() error {
	_ = c.pc.Conn().SetWriteDeadline(time.Now().Add(time.Second))
	err := c.pc.Command([]byte{ComQuit})
	if cerr := c.pc.Close(); err == nil {
		err = cerr
	}
	return err
}

// Dial connects to opts.Address and logs in. Server-reported failures
// (access denied, unknown database) come back as *Error; everything else
// wraps ErrNetwork.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, "tcp", opts.Address)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %w", ErrNetwork, opts.Address, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		_ = tc.SetKeepAlive(true)
	}
	nc = rawconn.Wrap(nc)
	c := &Client{pc: NewPacketConn(nc)}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Now()) })
	err = c.login(opts)
	if !stop() {
		err = errors.Join(ctx.Err(), err)
	}
	if err != nil {
		_ = c.Close()
		var se *Error
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, fmt.Errorf("%w: log in to %s: %w", ErrNetwork, opts.Address, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

func (c *Client) login(opts Options) error {
	p, err := c.pc.ReadPacket()
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	g, err := ParseGreeting(p)
	if err != nil {
		return err
	}
	if g.Caps&requiredCaps != requiredCaps || len(g.Scramble) < ScrambleLen {
		return errors.New("server too old (needs protocol 4.1 with secure authentication)")
	}
	if opts.OnGreeting != nil {
		opts.OnGreeting(g)
	}
	charset := opts.Charset
	if charset == 0 {
		charset = DefaultCharset
	}
	c.connID, c.version, c.scramble, c.charset, c.attrs = g.ConnID, g.Version, g.Scramble, charset, opts.Attrs
	resp := &HandshakeResponse{Caps: (ClientCaps | opts.ExtraCaps) & g.Caps, MaxPacket: MaxPacket,
		Charset: charset, User: opts.User, Attrs: opts.Attrs, DB: opts.Database}
	if opts.Database != "" {
		resp.Caps |= CapConnectWithDB & g.Caps
	}
	if opts.TLS != nil {
		if err := c.startTLS(g, resp, opts.TLS); err != nil {
			return err
		}
	}
	c.caps = resp.Caps
	plugin := g.Plugin
	if plugin == "" {
		plugin = PluginNative
	}
	if resp.Auth, err = authData(plugin, g.Scramble, opts.Password, c.tls); err != nil {
		plugin, resp.Auth = PluginNative, ScrambleNative(g.Scramble, opts.Password)
	}
	resp.Plugin = plugin
	if err := c.pc.Send(resp.Encode()); err != nil {
		return err
	}
	return c.authLoop(plugin, g.Scramble, opts.Password)
}

func (c *Client) startTLS(g *Greeting, resp *HandshakeResponse, cfg *tls.Config) error {
	if g.Caps&CapSSL == 0 {
		return errors.New("server does not offer TLS")
	}
	resp.Caps |= CapSSL
	if err := c.pc.Send(resp.Encode()[:SSLRequestLen]); err != nil {
		return err
	}
	tc := tls.Client(c.pc.Conn(), cfg)
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("tls handshake: %w", err)
	}
	c.pc.Reset(tc)
	c.tls = true
	return nil
}

package mysqlproxy

// Server side of the connection phase: greeting, TLS upgrade,
// HandshakeResponse41, auth plugins and AuthSwitchRequest.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// serverCaps are offered to clients. Not offered: CLIENT_COMPRESS (as RDS
// Proxy), CLIENT_LOCAL_FILES (LOAD DATA LOCAL is refused), optional
// metadata and query attributes (per-connection modes the pool cannot
// share), CLIENT_FOUND_ROWS (changes affected-row counts per connection).
const serverCaps = mysqlwire.CapLongPassword | mysqlwire.CapLongFlag | mysqlwire.CapConnectWithDB | mysqlwire.CapProtocol41 | mysqlwire.CapTransactions |
	mysqlwire.CapSecureConn | mysqlwire.CapMultiStatements | mysqlwire.CapMultiResults | mysqlwire.CapPSMultiResults | mysqlwire.CapPluginAuth |
	mysqlwire.CapConnectAttrs | mysqlwire.CapPluginAuthLenenc | mysqlwire.CapSessionTrack | mysqlwire.CapDeprecateEOF | mysqlwire.CapInteractive |
	mysqlwire.CapIgnoreSpace | mysqlwire.CapNoSchema

// handshake runs the connection phase; on success the client is logged in
// and has been sent OK.
func (c *session) handshake(ctx context.Context) error {
	caps := serverCaps | mysqlwire.CapSSL
	g := mysqlwire.Greeting{Version: c.srv.serverVersion(), ConnID: c.id, Scramble: c.scramble[:], Caps: caps,
		Charset: mysqlwire.DefaultCharset, Status: mysqlwire.StatusAutocommit, Plugin: c.srv.greetPlugin}
	if c.srv.px.Auth().IAMMode() == proxy.IAMRequired {
		g.Plugin = mysqlwire.PluginClear
	}
	if err := c.cl.Send(g.Encode()); err != nil {
		return err
	}
	p, err := c.cl.ReadPacket()
	if err != nil {
		return fmt.Errorf("read handshake response: %w", err)
	}
	if len(p) == mysqlwire.SSLRequestLen && p[1]&byte(mysqlwire.CapSSL>>8) != 0 {
		tc := tls.Server(c.cl.UpgradeConn(), c.srv.px.TLSConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls handshake: %w", err)
		}
		c.ps.UpgradeTLS(tc)
		c.cl.Reset(tc)
		if p, err = c.cl.ReadPacket(); err != nil {
			return fmt.Errorf("read handshake response: %w", err)
		}
	}
	if c.srv.px.Config().RequireTLS && !c.ps.TLS() {
		_ = c.sendErr(newError(erSecureTransport, "08004", "Connections using insecure transport are prohibited by the proxy (require_tls)"))
		return errors.New("client without TLS refused (require_tls)")
	}
	r, err := mysqlwire.ParseHandshakeResponse(p)
	if err != nil {
		_ = c.sendErr(newError(erHandshake, "08S01", "Bad handshake"))
		return fmt.Errorf("parse handshake response: %w", err)
	}
	c.caps = r.Caps & caps
	c.charset, c.user = r.Charset, r.User
	c.multi = c.caps&mysqlwire.CapMultiStatements != 0
	c.ps.Identify(r.User, r.DB)
	login, err := c.authenticate(ctx, r.User, r.Plugin, r.Auth)
	if err != nil {
		c.ps.SetupDone("auth_failed")
		_ = c.sendErr(accessDenied(r.User, c.remoteHost(), len(r.Auth) > 0))
		return fmt.Errorf("authenticate %q: %w", r.User, err)
	}
	c.login = c.srv.pool.Canonical(login)
	c.schema = r.DB
	if c.schema == "" {
		c.schema = login.Database
		if c.schema == "" {
			c.schema = c.srv.dialer.defaultDB
		}
	}
	c.ps.SetupDone("ok")
	return c.writeOK(mysqlwire.OK{Status: mysqlwire.StatusAutocommit})
}

// authenticate verifies the client's auth response for plugin, switching
// plugins when needed. Challenge-response plugins are checked against the
// auth secret's password; cleartext (TLS or loopback only) also accepts
// IAM tokens.
func (c *session) authenticate(ctx context.Context, user, plugin string, resp []byte) (proxy.Login, error) {
	auth := c.srv.px.Auth()
	switch plugin {
	case mysqlwire.PluginSHA2:
		return c.authSHA2(ctx, user, resp)
	case mysqlwire.PluginClear:
		return c.checkClear(ctx, user, resp)
	case "", mysqlwire.PluginNative:
	default:
		var err error
		if resp, err = c.authSwitch(mysqlwire.PluginNative, c.scramble[:]); err != nil {
			return proxy.Login{}, err
		}
	}
	cands, _ := auth.Passwords(ctx, user)
	for _, cand := range cands {
		if mysqlwire.CheckScramble(resp, mysqlwire.ScrambleNative(c.scramble[:], cand.Password)) {
			return cand.Login, nil
		}
	}
	if auth.IAMMode() != proxy.IAMDisabled && c.secure() {
		// A user whose scramble did not match may hold an IAM token: ask
		// for it in cleartext — known or not, so that the exchange does not
		// tell which users exist. (Clients that do not allow cleartext
		// report that instead of 1045.)
		clear, err := c.authSwitch(mysqlwire.PluginClear, nil)
		if err != nil {
			return proxy.Login{}, err
		}
		return c.checkClear(ctx, user, clear)
	}
	return proxy.Login{}, proxy.ErrAuthFailed
}

// authSwitch sends AuthSwitchRequest and returns the client's answer.
func (c *session) authSwitch(plugin string, data []byte) ([]byte, error) {
	if c.caps&mysqlwire.CapPluginAuth == 0 {
		return nil, proxy.ErrAuthFailed
	}
	if err := c.cl.Send(mysqlwire.AuthSwitchRequest(plugin, data)); err != nil {
		return nil, err
	}
	p, err := c.cl.ReadPacket()
	if err != nil {
		return nil, fmt.Errorf("read auth switch response: %w", err)
	}
	return append([]byte(nil), p...), nil
}

func (c *session) checkClear(ctx context.Context, user string, resp []byte) (proxy.Login, error) {
	if !c.secure() {
		return proxy.Login{}, fmt.Errorf("%w: cleartext password without TLS", proxy.ErrAuthFailed)
	}
	return c.srv.px.Auth().CheckPassword(ctx, user, string(trimNul(resp)))
}

// authSHA2 is caching_sha2_password: fast auth when the user's digest is
// cached, else full auth with the password in cleartext over TLS or
// RSA-encrypted with the proxy's key.
func (c *session) authSHA2(ctx context.Context, user string, resp []byte) (proxy.Login, error) {
	cands, _ := c.srv.px.Auth().Passwords(ctx, user)
	for _, cand := range cands {
		if c.srv.sha2Cached(user, cand.Password) && mysqlwire.CheckScramble(resp, mysqlwire.ScrambleSHA2(c.scramble[:], cand.Password)) {
			return cand.Login, c.cl.Send([]byte{mysqlwire.HdrAuthMore, 3})
		}
	}
	if err := c.cl.Send([]byte{mysqlwire.HdrAuthMore, 4}); err != nil {
		return proxy.Login{}, err
	}
	p, err := c.cl.ReadPacket()
	if err != nil {
		return proxy.Login{}, fmt.Errorf("read full auth: %w", err)
	}
	var pw string
	if c.ps.TLS() {
		pw = string(trimNul(p))
	} else {
		key, err := c.srv.rsa()
		if err != nil {
			return proxy.Login{}, err
		}
		if len(p) == 1 && p[0] == 2 { // public key request
			if err := c.cl.Send(append([]byte{mysqlwire.HdrAuthMore}, mysqlwire.PublicKeyPEM(key)...)); err != nil {
				return proxy.Login{}, err
			}
			if p, err = c.cl.ReadPacket(); err != nil {
				return proxy.Login{}, fmt.Errorf("read encrypted password: %w", err)
			}
		}
		if pw, err = mysqlwire.DecryptPassword(key, p, c.scramble[:]); err != nil {
			return proxy.Login{}, fmt.Errorf("%w: %w", proxy.ErrAuthFailed, err)
		}
	}
	login, err := c.srv.px.Auth().CheckPassword(ctx, user, pw)
	if err == nil && !login.ViaIAM {
		c.srv.sha2Store(user, pw)
	}
	return login, err
}

// secure reports whether cleartext credentials may cross the client link.
func (c *session) secure() bool { return c.ps.TLS() || c.ps.Loopback() }

func trimNul(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == 0 {
		return b[:n-1]
	}
	return b
}

package mysqlproxy

// Server side of the connection phase: greeting, TLS upgrade,
// HandshakeResponse41, auth plugins and AuthSwitchRequest.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/proxy"
)

// serverCaps are offered to clients. Not offered: CLIENT_COMPRESS (as RDS
// Proxy), CLIENT_LOCAL_FILES (LOAD DATA LOCAL is refused), optional
// metadata and query attributes (per-connection modes the pool cannot
// share), CLIENT_FOUND_ROWS (changes affected-row counts per connection).
const serverCaps = capLongPassword | capLongFlag | capConnectWithDB | capProtocol41 | capTransactions |
	capSecureConn | capMultiStatements | capMultiResults | capPSMultiResults | capPluginAuth |
	capConnectAttrs | capPluginAuthLenenc | capSessionTrack | capDeprecateEOF | capInteractive |
	capIgnoreSpace | capNoSchema

// handshake runs the connection phase; on success the client is logged in
// and has been sent OK.
func (c *session) handshake(ctx context.Context) error {
	caps := serverCaps | capSSL
	g := greeting{version: c.srv.serverVersion(), connID: c.id, scramble: c.scramble, caps: caps,
		charset: defaultCharset, status: statusAutocommit, plugin: c.srv.greetPlugin}
	if c.srv.px.Auth().IAMMode() == proxy.IAMRequired {
		g.plugin = pluginClear
	}
	if err := c.cl.send(g.encode()); err != nil {
		return err
	}
	p, err := c.cl.readPacket()
	if err != nil {
		return fmt.Errorf("read handshake response: %w", err)
	}
	if len(p) == sslRequestLen && p[1]&byte(capSSL>>8) != 0 {
		tc := tls.Server(c.cl.upgradeConn(), c.srv.px.TLSConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls handshake: %w", err)
		}
		c.ps.UpgradeTLS(tc)
		c.cl.reset(tc)
		if p, err = c.cl.readPacket(); err != nil {
			return fmt.Errorf("read handshake response: %w", err)
		}
	}
	if c.srv.cfg.RequireTLS && !c.ps.TLS() {
		_ = c.sendErr(newError(erSecureTransport, "08004", "Connections using insecure transport are prohibited by the proxy (require_tls)"))
		return errors.New("client without TLS refused (require_tls)")
	}
	r, err := parseHandshakeResponse(p)
	if err != nil {
		_ = c.sendErr(newError(erHandshake, "08S01", "Bad handshake"))
		return fmt.Errorf("parse handshake response: %w", err)
	}
	c.caps = r.caps & caps
	c.charset, c.user = r.charset, r.user
	c.multi = c.caps&capMultiStatements != 0
	c.log = c.log.With("user", r.user)
	login, err := c.authenticate(ctx, r.user, r.plugin, r.auth)
	if err != nil {
		c.ps.SetupDone("auth_failed")
		_ = c.sendErr(accessDenied(r.user, c.remoteHost(), len(r.auth) > 0))
		return fmt.Errorf("authenticate %q: %w", r.user, err)
	}
	c.login = login
	c.schema = r.db
	if c.schema == "" {
		c.schema = login.Database
		if c.schema == "" {
			c.schema = c.srv.dialer.defaultDB
		}
	}
	c.ps.SetupDone("ok")
	return c.writeOK(okPacket{status: statusAutocommit})
}

// authenticate verifies the client's auth response for plugin, switching
// plugins when needed. Challenge-response plugins are checked against the
// auth secret's password; cleartext (TLS or loopback only) also accepts
// IAM tokens.
func (c *session) authenticate(ctx context.Context, user, plugin string, resp []byte) (proxy.Login, error) {
	auth := c.srv.px.Auth()
	switch plugin {
	case pluginSHA2:
		return c.authSHA2(ctx, user, resp)
	case pluginClear:
		return c.checkClear(ctx, user, resp)
	case "", pluginNative:
	default:
		var err error
		if resp, err = c.authSwitch(pluginNative, c.scramble); err != nil {
			return proxy.Login{}, err
		}
	}
	pw, login, err := auth.Secret(ctx, user)
	if err == nil && checkScramble(resp, scrambleNative(c.scramble, pw)) {
		return login, nil
	}
	if auth.IAMMode() != proxy.IAMDisabled && c.secure() {
		// A user whose scramble did not match may hold an IAM token: ask
		// for it in cleartext — known or not, so that the exchange does not
		// tell which users exist. (Clients that do not allow cleartext
		// report that instead of 1045.)
		clear, err := c.authSwitch(pluginClear, nil)
		if err != nil {
			return proxy.Login{}, err
		}
		return c.checkClear(ctx, user, clear)
	}
	return proxy.Login{}, proxy.ErrAuthFailed
}

// authSwitch sends AuthSwitchRequest and returns the client's answer.
func (c *session) authSwitch(plugin string, data []byte) ([]byte, error) {
	if c.caps&capPluginAuth == 0 {
		return nil, proxy.ErrAuthFailed
	}
	if err := c.cl.send(authSwitchRequest(plugin, data)); err != nil {
		return nil, err
	}
	p, err := c.cl.readPacket()
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
	if pw, login, err := c.srv.px.Auth().Secret(ctx, user); err == nil && c.srv.sha2Cached(user, pw) &&
		checkScramble(resp, scrambleSHA2(c.scramble, pw)) {
		return login, c.cl.send([]byte{hdrAuthMore, 3})
	}
	if err := c.cl.send([]byte{hdrAuthMore, 4}); err != nil {
		return proxy.Login{}, err
	}
	p, err := c.cl.readPacket()
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
			if err := c.cl.send(append([]byte{hdrAuthMore}, publicKeyPEM(key)...)); err != nil {
				return proxy.Login{}, err
			}
			if p, err = c.cl.readPacket(); err != nil {
				return proxy.Login{}, fmt.Errorf("read encrypted password: %w", err)
			}
		}
		if pw, err = decryptPassword(key, p, c.scramble); err != nil {
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

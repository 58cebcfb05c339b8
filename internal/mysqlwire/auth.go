package mysqlwire

// Client side of the authentication exchange:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html

import (
	"errors"
	"fmt"
)

// authData computes the first auth response of plugin.
func authData(plugin string, scramble []byte, password string, secure bool) ([]byte, error) {
	if len(scramble) < ScrambleLen && plugin != PluginClear {
		return nil, ErrMalformed
	}
	switch plugin {
	case PluginNative:
		return ScrambleNative(scramble, password), nil
	case PluginSHA2:
		return ScrambleSHA2(scramble, password), nil
	case PluginClear:
		if !secure {
			return nil, errors.New("refusing to send a cleartext password without TLS")
		}
		return append([]byte(password), 0), nil
	}
	return nil, fmt.Errorf("unsupported auth plugin %q", plugin)
}

// authLoop reads the server's answers until OK or ERR, following
// AuthSwitchRequests and the caching_sha2_password exchanges.
func (c *Client) authLoop(plugin string, scramble []byte, password string) error {
	for range 8 {
		p, err := c.pc.ReadPacket()
		if err != nil {
			return fmt.Errorf("read auth result: %w", err)
		}
		switch {
		case len(p) == 0:
			return ErrMalformed
		case p[0] == HdrOK:
			ok, err := ParseOK(p, c.caps&CapSessionTrack != 0)
			c.status = ok.Status
			return err
		case p[0] == HdrERR:
			return ParseErr(p)
		case p[0] == HdrEOF:
			if plugin, scramble, err = ParseAuthSwitch(p); err != nil {
				return err
			}
			data, err := authData(plugin, scramble, password, c.tls)
			if err != nil {
				return err
			}
			if err := c.pc.Send(data); err != nil {
				return err
			}
		case p[0] == HdrAuthMore && plugin == PluginSHA2 && len(p) >= 2:
			if err := c.sha2More(p, scramble, password); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected auth packet 0x%02x for %s", p[0], plugin)
		}
	}
	return errors.New("too many auth round trips")
}

// sha2More answers caching_sha2_password's AuthMoreData: fast auth done,
// or full auth (the password over TLS, else RSA-encrypted with the
// server's public key).
func (c *Client) sha2More(p, scramble []byte, password string) error {
	switch p[1] {
	case 3: // fast auth succeeded; OK follows
		return nil
	case 4: // full auth
		if c.tls {
			return c.pc.Send(append([]byte(password), 0))
		}
		if err := c.pc.Send([]byte{2}); err != nil { // request public key
			return err
		}
		key, err := c.pc.ReadPacket()
		if err != nil || len(key) < 2 || key[0] != HdrAuthMore {
			return fmt.Errorf("read server public key: %w", errors.Join(err, ErrMalformed))
		}
		enc, err := EncryptPassword(password, scramble, key[1:])
		if err != nil {
			return err
		}
		return c.pc.Send(enc)
	}
	return fmt.Errorf("unexpected caching_sha2_password state %d", p[1])
}

// ChangeUser sends COM_CHANGE_USER: a new login on the same connection,
// which also resets the whole session (variables, temporary tables,
// prepared statements, transaction) and selects db, or no database when
// db is empty. The password is scrambled with the greeting's scramble.
func (c *Client) ChangeUser(user, password, db string) error {
	plugin := PluginNative
	auth := ScrambleNative(c.scramble, password)
	b := append([]byte{ComChangeUser}, user...)
	b = append(b, 0, byte(len(auth)))
	b = append(b, auth...)
	b = append(b, db...)
	b = append(b, 0, c.charset, 0)
	b = append(b, plugin...)
	b = append(b, 0)
	if c.caps&CapConnectAttrs != 0 {
		b = appendAttrs(b, c.attrs)
	}
	if err := c.pc.Command(b); err != nil {
		return err
	}
	return c.authLoop(plugin, c.scramble, password)
}

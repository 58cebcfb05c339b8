package mysqlwire

// Commands: COM_QUERY, COM_PING, COM_INIT_DB, COM_RESET_CONNECTION and
// their responses.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response.html

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// ErrBadResponse is returned when a server answers out of protocol.
var ErrBadResponse = errors.New("unexpected mysql response")

// Query sends COM_QUERY and reads the response header: the result set's
// column definitions, or the OK of a statement without one. The Rows it
// returns belongs to c and is valid until the next command; read it to
// the end (or Close it) before issuing another command.
func (c *Client) Query(sql string) (*Rows, error) {
	c.scratch = append(append(c.scratch[:0], ComQuery), sql...)
	err := c.pc.Command(c.scratch)
	if cap(c.scratch) > 64<<10 {
		c.scratch = nil // do not pin a huge statement's buffer
	}
	if err != nil {
		return nil, err
	}
	return c.readResult(false)
}

// Ping sends COM_PING.
func (c *Client) Ping() error { return c.simple([]byte{ComPing}) }

// InitDB sends COM_INIT_DB (USE db).
func (c *Client) InitDB(db string) error { return c.simple(append([]byte{ComInitDB}, db...)) }

// ResetConnection sends COM_RESET_CONNECTION.
func (c *Client) ResetConnection() error { return c.simple([]byte{ComResetConnection}) }

// simple runs a command answered by OK or ERR.
func (c *Client) simple(cmd []byte) error {
	if err := c.pc.Command(cmd); err != nil {
		return err
	}
	return c.readOK()
}

// Pipeline sends several commands answered by OK or ERR in one write and
// reads every answer, returning the first error (after reading them all,
// so the connection stays in sync unless the network failed).
func (c *Client) Pipeline(cmds ...[]byte) error {
	for _, cmd := range cmds {
		if err := c.pc.QueueCommand(cmd); err != nil {
			return err
		}
	}
	if err := c.pc.Flush(); err != nil {
		return err
	}
	var first error
	for range cmds {
		err := c.readOK()
		var se *Error
		if err != nil && !errors.As(err, &se) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// QueryCommand, InitDBCommand and ResetCommand build command packets for
// Pipeline.
func QueryCommand(sql string) []byte { return append([]byte{ComQuery}, sql...) }

// InitDBCommand builds COM_INIT_DB.
func InitDBCommand(db string) []byte { return append([]byte{ComInitDB}, db...) }

// ResetCommand builds COM_RESET_CONNECTION.
func ResetCommand() []byte { return []byte{ComResetConnection} }

// readOK reads an OK or ERR packet.
func (c *Client) readOK() error {
	p, err := c.pc.ReadPacket()
	if err != nil {
		return unexpectedEOF(err)
	}
	switch {
	case len(p) > 0 && p[0] == HdrOK:
		_, err := c.parseOK(p)
		return err
	case len(p) > 0 && p[0] == HdrERR:
		return ParseErr(p)
	}
	return fmt.Errorf("%w: 0x%x", ErrBadResponse, first(p))
}

// parseOK decodes an OK packet and records its status and session state.
func (c *Client) parseOK(p []byte) (OK, error) {
	ok, err := ParseOK(p, c.caps&CapSessionTrack != 0)
	if err != nil {
		return ok, err
	}
	c.status = ok.Status
	if ok.SessionState != nil && c.OnState != nil {
		sc, err := ParseSessionState(ok.SessionState)
		if err != nil {
			return ok, err
		}
		c.OnState(sc)
	}
	return ok, nil
}

// readResult reads the first packet of a command's result.
func (c *Client) readResult(binary bool) (*Rows, error) {
	r := &c.rows
	*r = Rows{c: c, binary: binary, Columns: r.Columns[:0], values: r.values, buf: r.buf}
	for {
		p, err := c.pc.ReadPacket()
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		if len(p) == 0 {
			return nil, ErrMalformed
		}
		switch p[0] {
		case HdrOK:
			if r.OK, err = c.parseOK(p); err != nil {
				return nil, err
			}
			r.done = true
			return r, nil
		case HdrERR:
			return nil, ParseErr(p)
		case HdrLocalInfile:
			// Not requested; refuse with an empty file to stay in sync.
			if err := c.pc.Send(nil); err != nil {
				return nil, err
			}
			continue
		}
		n, _, ok := ReadLenenc(p)
		if !ok || n == 0 || n > 4096 {
			return nil, fmt.Errorf("%w: column count", ErrMalformed)
		}
		if err := r.readColumns(int(n)); err != nil {
			return nil, err
		}
		return r, nil
	}
}

func first(p []byte) []byte {
	if len(p) > 8 {
		return p[:8]
	}
	return p
}

// KillQuery stops the statement running on connection id with KILL QUERY,
// sent over a new connection logged in with opts (the running one is busy).
func KillQuery(ctx context.Context, opts Options, id uint64) error {
	c, err := Dial(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { _ = c.Quit() }()
	if d, ok := ctx.Deadline(); ok {
		_ = c.Conn().SetDeadline(d)
	}
	r, err := c.Query("KILL QUERY " + strconv.FormatUint(id, 10))
	if err != nil {
		return err
	}
	return r.Close()
}

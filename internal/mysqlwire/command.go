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
func (c *Client) Query(sql string) (*Rows, error) { return c.QueryThen(sql, nil) }

// QueryThen is Query with post, a command answered by a single OK or ERR
// packet (a DO or SET statement), sent right behind sql in the same write
// (nil: none). post's answer follows sql's result on the wire: once that
// result has been read to its end, call PacketConn.ExpectPrelude, so that
// answer is skipped before anything else is read (PreludeErr tells
// whether it failed).
func (c *Client) QueryThen(sql string, post []byte) (*Rows, error) {
	c.scratch = append(append(c.scratch[:0], ComQuery), sql...)
	err := c.pc.QueueCommand(c.scratch)
	if cap(c.scratch) > 64<<10 {
		c.scratch = nil // do not pin a huge statement's buffer
	}
	if err == nil && post != nil {
		// sql's answer continues sql's sequence ids, not post's.
		seq := c.pc.seq
		err = c.pc.QueueCommand(post)
		c.pc.seq = seq
	}
	if err == nil {
		err = c.pc.Flush()
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

// Pipeline sends several commands in one write and reads every answer
// (an OK, an ERR or whole result sets, which are discarded), returning the
// first server error after reading them all, so the connection stays in
// sync unless the network failed.
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
		err := c.discardResult()
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

// discardResult reads and drops one command's whole response.
func (c *Client) discardResult() error {
	r, err := c.readResult(false)
	if err != nil {
		return err
	}
	return r.Close()
}

// SetOptionCommand builds COM_SET_OPTION (0: multi-statements on, 1: off).
func SetOptionCommand(opt byte) []byte { return []byte{ComSetOption, opt, 0} }

// QueryCommand, InitDBCommand and ResetCommand build command packets for
// Pipeline.
func QueryCommand(sql string) []byte { return append([]byte{ComQuery}, sql...) }

// InitDBCommand builds COM_INIT_DB.
func InitDBCommand(db string) []byte { return append([]byte{ComInitDB}, db...) }

// ResetCommand builds COM_RESET_CONNECTION.
func ResetCommand() []byte { return []byte{ComResetConnection} }

// readOK reads an OK or ERR packet (or the EOF some commands, such as
// COM_SET_OPTION, are answered with).
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
	case IsEOF(p, false):
		_, err := c.parseEnd(p)
		return err
	}
	return fmt.Errorf("%w: 0x%x", ErrBadResponse, first(p))
}

// parseEnd decodes an EOF packet, or the OK with header 0xfe that
// replaces it under CLIENT_DEPRECATE_EOF, and records its status.
func (c *Client) parseEnd(p []byte) (OK, error) {
	if len(p) > 5 {
		return c.parseOK(p)
	}
	w, st, err := ParseEOF(p)
	if err != nil {
		return OK{}, err
	}
	c.status = st
	return OK{Header: HdrEOF, Warnings: w, Status: st}, nil
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
		case HdrEOF:
			// No column count starts with 0xfe (it would mean 2^24+ columns):
			// this is the EOF answering e.g. COM_SET_OPTION.
			if r.OK, err = c.parseEnd(p); err != nil {
				return nil, err
			}
			r.done = true
			return r, nil
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

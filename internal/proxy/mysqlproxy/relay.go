package mysqlproxy

import "github.com/sqlgate/sqlgate/internal/mysqlwire"

// Relaying command responses from a backend to a client, frame by frame
// (rows are never buffered whole), converting between the backend's fixed
// capabilities (CLIENT_DEPRECATE_EOF, CLIENT_SESSION_TRACK) and the
// client's, and reading the status flags and session-state trackers of
// every OK on the way.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response.html

// respKind is the shape of a command's response.
type respKind int

const (
	respResult    respKind = iota // OK, ERR or result sets (COM_QUERY, COM_STMT_EXECUTE, COM_INIT_DB…)
	respFieldList                 // column definitions then EOF (COM_FIELD_LIST)
	respSingle                    // one opaque packet (COM_STATISTICS)
	respRows                      // rows then EOF (COM_STMT_FETCH)
)

// relayResult summarises a relayed response.
type relayResult struct {
	err     bool // ended with ERR
	results int  // OKs and result sets
	changed bool // some OK flagged a session state change
}

// relay copies the response to the command just sent to be.
func (c *session) relay(be *backendConn, kind respKind) (res relayResult, err error) {
	defer func() {
		if c.holdReply && err == nil && !res.err {
			return // the loop sends it (sendHeld); an ERR goes now, before finish's ping
		}
		if ferr := c.cl.Flush(); ferr != nil && err == nil {
			err = c.clientErr(ferr)
		}
	}()
	switch kind {
	case respSingle:
		return res, c.copyPacket(be)
	case respRows:
		return res, c.relayRows(be, &res)
	}
	for {
		p, more, err := be.pc.ReadFrame()
		if err != nil {
			return res, be.fail(err)
		}
		switch {
		case more:
			return res, be.fail(mysqlwire.ErrMalformed)
		case len(p) == 0:
			return res, be.fail(mysqlwire.ErrMalformed)
		case p[0] == mysqlwire.HdrERR:
			res.err = true
			return res, c.out(p)
		case p[0] == mysqlwire.HdrOK:
			ok, err := c.noteOK(be, p, &res)
			if err != nil {
				return res, err
			}
			if err := c.writeBackendOK(p, ok); err != nil {
				return res, err
			}
			if ok.Status&mysqlwire.StatusMoreResults == 0 {
				return res, nil
			}
			continue
		case p[0] == mysqlwire.HdrLocalInfile:
			// Never requested (no CLIENT_LOCAL_FILES), refused anyway:
			// an empty packet ends the file; the server answers.
			if err := be.pc.Send(nil); err != nil {
				return res, be.fail(err)
			}
			continue
		case mysqlwire.IsEOF(p, false) && kind == respFieldList:
			return res, c.writeTerminator(be, p, &res)
		}
		if kind == respFieldList {
			if err := c.out(p); err != nil {
				return res, err
			}
			continue
		}
		if err := c.relayResultSet(be, p, &res); err != nil {
			return res, err
		}
		if res.err || be.status&mysqlwire.StatusMoreResults == 0 {
			return res, nil
		}
	}
}

// relayResultSet relays one result set whose column-count packet is p.
func (c *session) relayResultSet(be *backendConn, p []byte, res *relayResult) error {
	n, _, ok := mysqlwire.ReadLenenc(p)
	if !ok {
		return be.fail(mysqlwire.ErrMalformed)
	}
	if err := c.out(p); err != nil {
		return err
	}
	for range n {
		p, err := be.pc.ReadPacket()
		if err != nil {
			return be.fail(err)
		}
		if err := c.outPacket(p); err != nil {
			return err
		}
	}
	if c.caps&mysqlwire.CapDeprecateEOF != 0 {
		return c.relayRows(be, res)
	}
	// A classic client gets an EOF after the column definitions, which
	// the backend does not send. A COM_STMT_EXECUTE that opened a cursor
	// is answered by the terminator at once, flagging the cursor: a
	// classic server sends that EOF alone (the rows come by fetch).
	p, more, err := be.pc.ReadFrame()
	if err != nil {
		return be.fail(err)
	}
	if mysqlwire.IsEOF(p, more) && terminatorStatus(p)&mysqlwire.StatusCursorExists != 0 {
		return c.writeTerminator(be, p, res)
	}
	if err := c.out(mysqlwire.AppendEOF(c.eof[:0], 0, metaStatus(be.status))); err != nil {
		return err
	}
	return c.relayRowsFrom(be, p, more, res)
}

// sessionFlags are the status flags that describe the session rather
// than the last statement run on the backend.
const sessionFlags = mysqlwire.StatusInTrans | mysqlwire.StatusAutocommit | mysqlwire.StatusInTransReadonly |
	mysqlwire.StatusNoBackslashEscape

// metaStatus is the status of a packet the proxy makes up — an EOF
// before a statement's end (after column definitions), or the reply to a
// command it answers itself (PING, SET_OPTION, KILL, a statement reset) —
// from the last status st: its session flags only, not the flags another
// statement, maybe another client's, left there (no index used, cursor
// open, last row sent, more results), which a server clears at every
// command.
func metaStatus(st uint16) uint16 { return st & sessionFlags }

// terminatorStatus returns the status flags of a terminator, an EOF or an OK
// with header 0xfe (0 when malformed: writeTerminator reports it).
func terminatorStatus(p []byte) uint16 {
	if len(p) == 5 {
		_, st, _ := mysqlwire.ParseEOF(p)
		return st
	}
	ok, _ := mysqlwire.ParseOK(p, true)
	return ok.Status
}

// relayRows relays rows up to and including the terminator.
func (c *session) relayRows(be *backendConn, res *relayResult) error {
	p, more, err := be.pc.ReadFrame()
	if err != nil {
		return be.fail(err)
	}
	return c.relayRowsFrom(be, p, more, res)
}

// relayRowsFrom relays rows from the frame p already read (more: the
// packet continues) up to and including the terminator.
func (c *session) relayRowsFrom(be *backendConn, p []byte, more bool, res *relayResult) error {
	for {
		if mysqlwire.IsEOF(p, more) {
			return c.writeTerminator(be, p, res)
		}
		if !more && len(p) > 0 && p[0] == mysqlwire.HdrERR {
			res.err = true
			return c.out(p)
		}
		if err := c.out(p); err != nil {
			return err
		}
		var err error
		for more {
			if p, more, err = be.pc.ReadFrame(); err != nil {
				return be.fail(err)
			}
			if err := c.out(p); err != nil {
				return err
			}
		}
		if p, more, err = be.pc.ReadFrame(); err != nil {
			return be.fail(err)
		}
	}
}

// writeTerminator converts a result-set terminator: an OK with header 0xfe
// from the backend, sent as such to DEPRECATE_EOF clients and as a classic
// EOF packet to the others.
func (c *session) writeTerminator(be *backendConn, p []byte, res *relayResult) error {
	var ok mysqlwire.OK
	if len(p) == 5 {
		w, st, err := mysqlwire.ParseEOF(p)
		if err != nil {
			return be.fail(err)
		}
		ok = mysqlwire.OK{Header: mysqlwire.HdrEOF, Warnings: w, Status: st}
		be.status = st
		res.results++
	} else {
		var err error
		if ok, err = c.noteOK(be, p, res); err != nil {
			return err
		}
	}
	if c.caps&mysqlwire.CapDeprecateEOF == 0 {
		return c.out(mysqlwire.AppendEOF(c.eof[:0], ok.Warnings, ok.Status))
	}
	if len(p) > 5 {
		return c.writeBackendOK(p, ok)
	}
	return c.out(ok.Encode(nil, c.caps))
}

// noteOK decodes an OK from be and applies what it says to the backend and
// the client session: status, last insert id and tracked state; untracked
// state changes pin the session.
func (c *session) noteOK(be *backendConn, p []byte, res *relayResult) (mysqlwire.OK, error) {
	ok, err := mysqlwire.ParseOK(p, true)
	if err != nil {
		return ok, be.fail(err)
	}
	sc, err := be.note(ok)
	if err != nil {
		return ok, be.fail(err)
	}
	res.results++
	if ok.LastInsertID != 0 {
		c.lastInsertID = ok.LastInsertID
	}
	if ok.SessionState == nil {
		return ok, nil
	}
	c.vars.apply(sc)
	if sc.HasSchema {
		c.schema = sc.Schema
	}
	if sc.Changed {
		res.changed = true
	}
	switch {
	case untracked(sc) != "":
		c.pin("SET of untracked variable " + untracked(sc))
	case sc.Changed && !(c.explain && explained(sc)):
		c.pin("session state the proxy cannot track (user variable, temporary table or SQL prepared statement)")
	}
	if sc.HasTxChars {
		c.holdTx = sc.TxChars != "" && ok.Status&mysqlwire.StatusInTrans == 0
	}
	return ok, nil
}

// writeBackendOK sends a backend's OK packet p (decoded as ok) in the
// client's format; clients with session tracking get it unchanged.
func (c *session) writeBackendOK(p []byte, ok mysqlwire.OK) error {
	if c.caps&mysqlwire.CapSessionTrack != 0 {
		return c.out(p)
	}
	return c.out(ok.Encode(make([]byte, 0, len(p)), c.caps))
}

// copyPacket relays one logical packet unchanged.
func (c *session) copyPacket(be *backendConn) error {
	for {
		p, more, err := be.pc.ReadFrame()
		if err != nil {
			return be.fail(err)
		}
		if err := c.out(p); err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// out writes one frame to the client (buffered).
func (c *session) out(p []byte) error {
	c.ps.Counters.BytesOut += uint64(len(p)) + 4
	if err := c.cl.WriteFrame(p); err != nil {
		return c.clientErr(err)
	}
	return nil
}

// clientErr returns a failed client write's error, or keeps it in
// sinkErr and returns nil while the session's reply is read regardless.
func (c *session) clientErr(err error) error {
	if c.sink {
		if c.sinkErr == nil {
			c.sinkErr = err
		}
		return nil
	}
	return &clientGoneError{err}
}

// outPacket writes a logical packet, split as needed.
func (c *session) outPacket(p []byte) error {
	c.ps.Counters.BytesOut += uint64(len(p)) + 4
	if err := c.cl.WritePacket(p); err != nil {
		return c.clientErr(err)
	}
	return nil
}

package mysqlproxy

// Commands the proxy itself sends to a backend: replayed state, resets,
// pings, rollbacks and KILL. Text resultset format:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset.html

import (
	"encoding/binary"
	"fmt"
)

// note records what an OK (or result-set terminator) says about the
// backend session and returns the decoded state change.
func (b *backendConn) note(ok okPacket) (stateChange, error) {
	b.status = ok.status
	if ok.lastInsertID != 0 {
		b.lastInsertID = ok.lastInsertID
	}
	if ok.sessionState == nil {
		return stateChange{}, nil
	}
	sc, err := parseSessionState(ok.sessionState)
	if err != nil {
		return sc, err
	}
	b.vars.apply(sc)
	if sc.hasSchema {
		b.schema = sc.schema
	}
	if sc.changed && !sc.explained() {
		b.dirty = true
	}
	return sc, nil
}

// exec runs sql and discards any rows. It returns the final OK.
func (b *backendConn) exec(sql string) (okPacket, error) {
	var last okPacket
	err := b.run(sql, nil, &last)
	return last, err
}

// query runs sql and returns its rows as strings (NULL as "").
func (b *backendConn) query(sql string) ([][]string, error) {
	var rows [][]string
	err := b.run(sql, func(r []string) { rows = append(rows, r) }, nil)
	return rows, err
}

func (b *backendConn) run(sql string, row func([]string), last *okPacket) error {
	b.pending = true
	if err := b.pc.command(append([]byte{comQuery}, sql...)); err != nil {
		return b.fail(err)
	}
	err := b.readResult(row, last)
	b.pending = false
	return err
}

// readResult reads the whole response to a COM_QUERY: OKs and text result
// sets up to the last one, or an ERR. Every reply is consumed unless the
// connection fails (then it is marked broken).
func (b *backendConn) readResult(row func([]string), last *okPacket) error {
	for {
		p, err := b.pc.readPacket()
		if err != nil {
			return b.fail(err)
		}
		if len(p) == 0 {
			return b.fail(errMalformed)
		}
		switch p[0] {
		case hdrERR:
			return parseErr(p)
		case hdrOK:
		case hdrLocalInfile:
			return b.fail(fmt.Errorf("unexpected LOCAL INFILE request"))
		default:
			if p, err = b.skipRows(p, row); err != nil {
				return err
			}
		}
		ok, err := parseOK(p, true)
		if err != nil {
			return b.fail(err)
		}
		if _, err := b.note(ok); err != nil {
			return b.fail(err)
		}
		if last != nil {
			*last = ok
		}
		if ok.status&statusMoreResults == 0 {
			return nil
		}
	}
}

// skipRows reads a text resultset after its column-count packet p and
// returns the terminating OK packet.
func (b *backendConn) skipRows(p []byte, row func([]string)) ([]byte, error) {
	n, _, ok := readLenenc(p)
	if !ok {
		return nil, b.fail(errMalformed)
	}
	for range n {
		if _, err := b.pc.readPacket(); err != nil {
			return nil, b.fail(err)
		}
	}
	for {
		p, err := b.pc.readPacket()
		if err != nil {
			return nil, b.fail(err)
		}
		switch {
		case isEOF(p, false):
			return p, nil
		case len(p) > 0 && p[0] == hdrERR:
			return nil, parseErr(p)
		case row != nil:
			r, err := textRow(p, int(n))
			if err != nil {
				return nil, b.fail(err)
			}
			row(r)
		}
	}
}

func textRow(p []byte, n int) ([]string, error) {
	out := make([]string, 0, n)
	for range n {
		if len(p) > 0 && p[0] == 0xfb {
			out, p = append(out, ""), p[1:]
			continue
		}
		s, rest, ok := readLenencString(p)
		if !ok {
			return nil, errMalformed
		}
		out, p = append(out, string(s)), rest
	}
	return out, nil
}

// simple sends a command answered by a single OK or ERR (or an EOF for
// COM_SET_OPTION on old servers).
func (b *backendConn) simple(cmd []byte) error {
	b.pending = true
	if err := b.pc.command(cmd); err != nil {
		return b.fail(err)
	}
	err := b.readSimple()
	b.pending = false
	return err
}

// readSimple reads the single OK, ERR or EOF answering a command.
func (b *backendConn) readSimple() error {
	p, err := b.pc.readPacket()
	if err != nil {
		return b.fail(err)
	}
	switch {
	case len(p) == 0:
		return b.fail(errMalformed)
	case p[0] == hdrERR:
		return parseErr(p)
	case p[0] == hdrEOF && len(p) == 5:
		_, b.status, _ = parseEOF(p)
		return nil
	}
	ok, err := parseOK(p, true)
	if err != nil {
		return b.fail(err)
	}
	_, err = b.note(ok)
	return err
}

// initDB makes schema the default database.
func (b *backendConn) initDB(schema string) error {
	if err := b.simple(append([]byte{comInitDB}, schema...)); err != nil {
		return err
	}
	b.schema = schema
	return nil
}

// setMulti turns multi-statement support on or off.
func (b *backendConn) setMulti(on bool) error {
	want := int8(0)
	opt := uint16(1) // MYSQL_OPTION_MULTI_STATEMENTS_OFF
	if on {
		want, opt = 1, 0
	}
	if b.multi == want {
		return nil
	}
	if err := b.simple(binary.LittleEndian.AppendUint16([]byte{comSetOption}, opt)); err != nil {
		return err
	}
	b.multi = want
	return nil
}

// ping refreshes status (after an ERR, whose packet carries none).
func (b *backendConn) ping() error { return b.simple([]byte{comPing}) }

// rollback ends an open transaction.
func (b *backendConn) rollback() error {
	_, err := b.exec("ROLLBACK")
	return err
}

// fail marks the connection broken after an I/O or protocol error.
func (b *backendConn) fail(err error) error {
	b.broken = true
	return err
}

// inTrans reports whether the last status said a transaction is open.
func (b *backendConn) inTrans() bool { return b.status&statusInTrans != 0 }

package mysqlproxy

// Commands the proxy itself sends to a backend (replayed state, resets,
// pings, rollbacks), run through mysqlwire.Client; what their OK packets
// report about the session is recorded on the way.

import (
	"errors"
	"io"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// noteState applies a session-state change the backend reported (in an
// OK the proxy or a client caused): tracked variables, the schema, and
// state the proxy cannot replay.
func (b *backendConn) noteState(sc mysqlwire.StateChange) {
	b.vars.apply(sc)
	if sc.HasSchema {
		b.schema = sc.Schema
	}
	if sc.Changed && !explained(sc) {
		b.dirty = true
	}
}

// note records what an OK (or result-set terminator) relayed to a client
// says about the backend session and returns the decoded state change.
func (b *backendConn) note(ok mysqlwire.OK) (mysqlwire.StateChange, error) {
	b.status = ok.Status
	if ok.LastInsertID != 0 {
		b.lastInsertID = ok.LastInsertID
	}
	if ok.SessionState == nil {
		return mysqlwire.StateChange{}, nil
	}
	sc, err := mysqlwire.ParseSessionState(ok.SessionState)
	if err != nil {
		return sc, err
	}
	b.noteState(sc)
	return sc, nil
}

// exec runs sql and discards any rows. It returns the final OK.
func (b *backendConn) exec(sql string) (mysqlwire.OK, error) {
	var last mysqlwire.OK
	err := b.run(sql, nil, &last)
	return last, err
}

// query runs sql and returns its rows as strings (NULL as "").
func (b *backendConn) query(sql string) ([][]string, error) {
	var rows [][]string
	err := b.run(sql, func(r []string) { rows = append(rows, r) }, nil)
	return rows, err
}

// run sends COM_QUERY and reads the whole response: every result set (rows
// passed to row when set) up to the last OK, or an ERR.
func (b *backendConn) run(sql string, row func([]string), last *mysqlwire.OK) error {
	b.pending = true
	r, err := b.cl.Query(sql)
	if err == nil {
		err = readRows(r, row)
	}
	b.status = b.cl.Status()
	if err != nil {
		return b.check(err)
	}
	b.pending = false
	if last != nil {
		*last = r.OK
	}
	return nil
}

// readRows reads r and any further result sets to the end.
func readRows(r *mysqlwire.Rows, row func([]string)) error {
	if row != nil {
		for {
			vals, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			out := make([]string, len(vals))
			for i, v := range vals {
				out[i] = string(v)
			}
			row(out)
		}
	}
	return r.Close()
}

// check classifies an error of a command the proxy ran: one the server
// reported leaves the connection usable (and nothing pending); any other
// marks it broken.
func (b *backendConn) check(err error) error {
	var se *mysqlwire.Error
	if errors.As(err, &se) {
		b.pending = false
		return fromWire(se)
	}
	return b.fail(err)
}

// simple runs a command answered by one OK or ERR.
func (b *backendConn) simple(cmd []byte) error {
	b.pending = true
	err := b.cl.Pipeline(cmd)
	b.status = b.cl.Status()
	if err != nil {
		return b.check(err)
	}
	b.pending = false
	return nil
}

// initDB makes schema the default database.
func (b *backendConn) initDB(schema string) error {
	if err := b.simple(mysqlwire.InitDBCommand(schema)); err != nil {
		return err
	}
	b.schema = schema
	return nil
}

// setMulti turns multi-statement support on or off.
func (b *backendConn) setMulti(on bool) error {
	want, opt := int8(0), byte(1) // MYSQL_OPTION_MULTI_STATEMENTS_OFF
	if on {
		want, opt = 1, 0
	}
	if b.multi == want {
		return nil
	}
	if err := b.simple(mysqlwire.SetOptionCommand(opt)); err != nil {
		return err
	}
	b.multi = want
	return nil
}

// ping refreshes status (after an ERR, whose packet carries none).
func (b *backendConn) ping() error { return b.simple([]byte{mysqlwire.ComPing}) }

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
func (b *backendConn) inTrans() bool { return b.status&mysqlwire.StatusInTrans != 0 }

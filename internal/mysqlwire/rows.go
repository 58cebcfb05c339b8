package mysqlwire

import (
	"fmt"
	"io"
)

// Rows reads the result of one command: a result set (Columns non-empty)
// or just the OK of a statement without one.
type Rows struct {
	c       *Client
	binary  bool
	raw     bool // NextRaw is reading
	done    bool
	Columns []Column
	// OK is the packet that ended the result: the statement's OK when
	// there is no result set, else the OK/EOF after the last row (set once
	// Next has returned io.EOF).
	OK     OK
	values [][]byte
	buf    []byte
}

// HasResultSet reports whether the statement returned columns.
func (r *Rows) HasResultSet() bool { return len(r.Columns) > 0 }

func (r *Rows) readColumns(n int) error {
	for range n {
		p, err := r.c.pc.ReadPacket()
		if err != nil {
			return unexpectedEOF(err)
		}
		col, err := r.c.column(p)
		if err != nil {
			return err
		}
		r.Columns = append(r.Columns, col)
	}
	if r.c.caps&CapDeprecateEOF == 0 {
		if _, err := r.c.pc.ReadPacket(); err != nil {
			return unexpectedEOF(err)
		}
	}
	if cap(r.values) < n {
		r.values = make([][]byte, n)
	}
	r.values = r.values[:n]
	return nil
}

// Next returns the next row: one entry per column, nil for NULL. The
// slices are valid until the next call. At the end it returns io.EOF (and
// OK holds the closing packet); an ERR packet mid-result comes back as *Error.
func (r *Rows) Next() ([][]byte, error) {
	if r.done {
		return nil, io.EOF
	}
	p, more, err := r.c.pc.ReadFrame()
	if err != nil {
		return nil, unexpectedEOF(err)
	}
	if more {
		if p, err = r.joinFrames(p); err != nil {
			return nil, err
		}
	}
	switch {
	case IsEOF(p, more):
		r.done = true
		return nil, r.end(p)
	case len(p) > 0 && p[0] == HdrERR:
		r.done = true
		return nil, ParseErr(p)
	}
	switch {
	case r.raw:
		err = SplitBinaryRow(p, r.Columns, r.values)
	case r.binary:
		r.buf, err = ParseBinaryRow(p, r.Columns, r.values, r.buf)
	default:
		err = ParseTextRow(p, r.values)
	}
	if err != nil {
		return nil, fmt.Errorf("row: %w", err)
	}
	return r.values, nil
}

// NextRaw is Next for a reader that maps binary values itself: rows of
// the binary protocol come cut by SplitBinaryRow, not rendered as text
// (Binary reports which). Text-protocol rows are Next's.
func (r *Rows) NextRaw() ([][]byte, error) {
	if !r.binary {
		return r.Next()
	}
	r.raw = true
	v, err := r.Next()
	r.raw = false
	return v, err
}

// Binary reports whether the rows come in the binary protocol (a
// prepared statement's result).
func (r *Rows) Binary() bool { return r.binary }

// joinFrames completes a row split over several frames.
func (r *Rows) joinFrames(p []byte) ([]byte, error) {
	joined := append([]byte(nil), p...)
	for more := true; more; {
		var err error
		if p, more, err = r.c.pc.ReadFrame(); err != nil {
			return nil, unexpectedEOF(err)
		}
		if len(joined)+len(p) > MaxPacket {
			return nil, ErrPacketTooLarge
		}
		joined = append(joined, p...)
	}
	return joined, nil
}

// end decodes the packet that closes a result set.
func (r *Rows) end(p []byte) error {
	var err error
	r.OK, err = r.c.parseEnd(p)
	return eofOrErr(err)
}

func eofOrErr(err error) error {
	if err != nil {
		return err
	}
	return io.EOF
}

// Close reads the rest of the result and of any further result sets
// (a CALL's), leaving the connection ready for the next command. It
// returns the first server error met on the way.
func (r *Rows) Close() error {
	for {
		for !r.done {
			if _, err := r.Next(); err != nil && err != io.EOF {
				return err
			}
		}
		if r.c.status&StatusMoreResults == 0 {
			return nil
		}
		next, err := r.c.readResult(r.binary)
		if err != nil {
			return err
		}
		r = next
	}
}

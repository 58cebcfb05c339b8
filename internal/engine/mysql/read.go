package mysql

import (
	"io"
	"strings"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// read converts a statement's response: its result set, or the counts of
// the OK packet of a statement without one.
func (c *Conn) read(rows *mysqlwire.Rows, maxBytes int, abort func()) (*engine.Result, error) {
	if !rows.HasResultSet() {
		ok := rows.OK
		if err := rows.Close(); err != nil {
			return nil, c.fail(err)
		}
		c.noteOK(ok)
		res := &engine.Result{RowsAffected: int64(ok.AffectedRows), Generated: []engine.Value{}}
		if ok.LastInsertID > 0 {
			res.Generated = append(res.Generated, engine.Long(int64(ok.LastInsertID)))
		}
		return res, nil
	}
	fields := make([]field, len(rows.Columns))
	res := &engine.Result{
		HasResultSet: true,
		Columns:      make([]engine.Column, len(fields)),
		Rows:         [][]engine.Value{},
		Decimal:      make([]bool, len(fields)),
	}
	for i := range fields {
		fields[i] = fieldOf(&rows.Columns[i])
		res.Columns[i] = column(&fields[i])
		res.Decimal[i] = fields[i].typ == typeDecimal || fields[i].typ == typeNewDecimal
	}
	size := 0
	var slab rowSlab
	var text strings.Builder // the result's strings, one arena (see arenaString)
	text.Grow(c.textHint)    // as large as the previous result's
	for {
		raw, err := rows.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			_ = rows.Close()
			return nil, c.fail(err)
		}
		row := slab.next(len(fields))
		for i := range fields {
			v, n := value(&fields[i], raw[i], &text)
			row[i] = v
			size += n
		}
		size += 8
		if maxBytes > 0 && size > maxBytes {
			// Draining the rest could take long; drop the connection instead
			// (the Data API also ends the transaction).
			c.broken = true
			abort()
			return nil, engine.ErrResultTooLarge
		}
		res.Rows = append(res.Rows, row)
	}
	c.noteOK(rows.OK)
	if err := rows.Close(); err != nil {
		return nil, c.fail(err)
	}
	c.textHint = text.Len()
	return res, nil
}

// arenaString returns v as a string stored in text, the result's arena:
// one growing buffer instead of an allocation per value. A strings.Builder
// never changes bytes it has written, so every string returned stays valid
// as the arena grows. A nil text allocates the string alone.
func arenaString(text *strings.Builder, v []byte) string {
	if text == nil {
		return string(v)
	}
	off := text.Len()
	text.Write(v)
	return text.String()[off:]
}

// rowSlab hands out a result's rows from shared chunks of Values, each
// twice the last (up to maxSlabRows rows), rather than one allocation per row.
type rowSlab struct {
	free []engine.Value
	rows int // rows in the last chunk
}

const maxSlabRows = 256

func (s *rowSlab) next(n int) []engine.Value {
	if len(s.free) < n {
		s.rows = min(max(2*s.rows, 1), maxSlabRows)
		s.free = make([]engine.Value, n*s.rows)
	}
	row := s.free[:n:n]
	s.free = s.free[n:]
	return row
}

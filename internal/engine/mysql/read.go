package mysql

import (
	"io"

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
	for {
		raw, err := rows.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			_ = rows.Close()
			return nil, c.fail(err)
		}
		row := make([]engine.Value, len(fields))
		for i := range fields {
			v, n := value(&fields[i], raw[i])
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
	return res, nil
}

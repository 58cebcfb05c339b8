package mysql

import (
	"io"
	"math"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// read converts a statement's response: its result set, or the counts of
// the OK packet of a statement without one. The values are copied into one
// arena (engine.Arena: strings decoded from it share its memory) and
// decoded from there, all at once, or value by value while the caller
// encodes them when Exec's context asked for engine.Cells (c.lazy).
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
		Decimal:      make([]bool, len(fields)),
	}
	for i := range fields {
		fields[i] = fieldOf(&rows.Columns[i])
		res.Columns[i] = column(&fields[i])
		res.Decimal[i] = fields[i].typ == typeDecimal || fields[i].typ == typeNewDecimal
	}
	cs := cells{fields: fields}
	// A binary-protocol result keeps its numbers raw (binaryMode, rawValue).
	bin := rows.Binary()
	if bin {
		cs.modes = make([]uint8, len(fields))
		for i := range cs.modes {
			cs.modes[i] = binaryMode(&rows.Columns[i])
		}
	}
	size := 0
	// The result's values, one arena as large as the previous result's.
	a := engine.GetArena(c.textHint, c.cellHint)
	for {
		var raw [][]byte
		var err error
		if bin {
			raw, err = rows.NextRaw()
		} else {
			raw, err = rows.Next()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			_ = rows.Close()
			engine.PutArena(a)
			return nil, c.fail(err)
		}
		for i, v := range raw {
			if v == nil {
				size += valueSize(&fields[i], v)
				a.Spans = append(a.Spans, engine.Span{Off: -1})
				continue
			}
			switch {
			case bin && cs.modes[i] == colRaw:
				size += rawSize(&fields[i], string(v))
			case bin && cs.modes[i] == colRender:
				if c.scratch, err = mysqlwire.AppendBinaryText(c.scratch[:0], &rows.Columns[i], v); err != nil {
					_ = rows.Close()
					engine.PutArena(a)
					return nil, c.fail(err)
				}
				v = c.scratch
				fallthrough
			default:
				size += valueSize(&fields[i], v)
			}
			a.Spans = append(a.Spans, engine.Span{Off: int32(len(a.Data)), End: int32(len(a.Data) + len(v))})
			a.Data = append(a.Data, v...)
		}
		cs.nrows++
		size += 8
		if (maxBytes > 0 && size > maxBytes) || len(a.Data) > engine.MaxArena {
			engine.PutArena(a)
			// Draining the rest could take long; drop the connection instead
			// (the Data API also ends the transaction).
			c.broken = true
			abort()
			return nil, engine.ErrResultTooLarge
		}
	}
	c.noteOK(rows.OK)
	if err := rows.Close(); err != nil {
		engine.PutArena(a)
		return nil, c.fail(err)
	}
	c.textHint, c.cellHint = len(a.Data), len(a.Spans)
	cs.text, cs.cells = a.Text(), a.Spans
	if c.lazy {
		h := cs // a copy on the heap; cs itself stays on the stack
		h.arena = a
		res.Cells = &h
	} else {
		cs.fill(res) // the Rows share the arena's memory: it is not reused
	}
	return res, nil
}

// cells is a result set as the server sent it, decoded one value at a
// time (engine.Cells); the eager path (Result.Rows) decodes through it too.
type cells struct {
	text   string
	cells  []engine.Span // text[Off:End], or NULL when Off < 0
	arena  *engine.Arena // holds text and cells, for Release (lazy only)
	nrows  int
	fields []field
	modes  []uint8 // per column of a binary-protocol result; nil for text
}

var _ engine.TextCells = (*cells)(nil)

func (c *cells) Len() int { return c.nrows }

// Release hands the arena back (engine.Releaser).
func (c *cells) Release() {
	if a := c.arena; a != nil {
		c.arena, c.text, c.cells = nil, "", nil
		engine.PutArena(a)
	}
}

func (c *cells) Value(row, col int) (engine.Value, error) {
	cl := c.cells[row*len(c.fields)+col]
	if cl.Off < 0 {
		return engine.Null(), nil
	}
	if c.modes != nil && c.modes[col] == colRaw {
		return rawValue(&c.fields[col], c.text[cl.Off:cl.End]), nil
	}
	return decode(&c.fields[col], c.text[cl.Off:cl.End]), nil
}

// Text implements engine.TextCells: integers the server printed in
// canonical form, and the values that map to their own text
// (stringValue). The rest (booleans, years, floats, bytes, BIGINT
// UNSIGNED) goes through Value.
func (c *cells) Text(row, col int) (engine.Kind, string, bool) {
	cl := c.cells[row*len(c.fields)+col]
	f := &c.fields[col]
	if cl.Off < 0 || f.typ == typeNull {
		return engine.KindNull, "", true
	}
	if c.modes != nil && c.modes[col] == colRaw {
		return 0, "", false // decoded from its bytes (rawValue)
	}
	s := c.text[cl.Off:cl.End]
	switch f.typ {
	case typeTiny, typeShort, typeInt24, typeLong, typeLongLong:
		if !f.isBool() && !(f.typ == typeLongLong && f.unsigned()) && engine.CanonicalInt(s) {
			return engine.KindLong, s, true
		}
		return 0, "", false
	case typeBit, typeYear, typeFloat, typeDouble:
		return 0, "", false
	}
	if f.binary() && binaryTypes[f.typ] {
		return 0, "", false
	}
	return engine.KindString, s, true
}

// fill decodes every value into res.Rows (Value never fails here).
func (c *cells) fill(res *engine.Result) {
	res.Rows, _ = engine.DecodeRows(c.nrows, len(c.fields), c.Value)
}

// Numbers of binary-protocol results (the statement cache's) kept in the
// protocol's form.
//
// mysqlwire renders binary values as the text protocol would, and decode
// parses that text back: for the integer types and for a DOUBLE without
// fixed decimals (printed shortest, which parses back to the same double)
// the round trip gives back exactly the value the server sent, so read
// keeps those values' raw bytes instead and rawValue decodes them
// directly. Every other type is rendered (mysqlwire.AppendBinaryText) and
// decoded as text, unchanged.

// How read stores the values of a binary-protocol column.
const (
	colText   uint8 = iota // the raw bytes are the text (strings)
	colRaw                 // kept raw, decoded by rawValue
	colRender              // rendered as text first
)

// binaryMode is how read stores the values of column c of a
// binary-protocol result.
func binaryMode(c *mysqlwire.Column) uint8 {
	switch int(c.Type) {
	case typeTiny, typeShort, typeYear, typeInt24, typeLong, typeLongLong:
		return colRaw
	case typeDouble:
		// mysqlwire prints a DOUBLE with fixed decimals (< 31) rounded to
		// them: only the "not fixed" ones round-trip.
		if c.Decimals >= notFixedDecimals {
			return colRaw
		}
	}
	if mysqlwire.BinaryIsText(c.Type) {
		return colText
	}
	return colRender
}

// notFixedDecimals is the decimals of a FLOAT or DOUBLE column without a
// fixed scale (MariaDB 31, MySQL 39).
const notFixedDecimals = 31

// rawUint reads the little-endian integer s (1 to 8 bytes).
func rawUint(s string) uint64 {
	var u uint64
	for i := len(s) - 1; i >= 0; i-- {
		u = u<<8 | uint64(s[i])
	}
	return u
}

// rawValue is decode for s, the raw bytes of a non-NULL value of a colRaw
// column f.
func rawValue(f *field, s string) engine.Value {
	u := rawUint(s)
	switch {
	case f.typ == typeDouble:
		d := math.Float64frombits(u)
		if d != d {
			d = math.NaN() // as parsing "NaN" gives (servers send none)
		}
		return engine.Double(d)
	case f.typ == typeLongLong && f.unsigned():
		return unsignedValue(f, u)
	case f.unsigned() || f.typ == typeYear:
		return signedValue(f, int64(u))
	}
	// Sign-extend from the value's width.
	shift := 64 - 8*uint(len(s))
	return signedValue(f, int64(u<<shift)>>shift)
}

// rawSize is valueSize for s, the raw bytes of a non-NULL value of a
// colRaw column f.
func rawSize(f *field, s string) int {
	if f.typ == typeLongLong && f.unsigned() && !f.isBool() {
		switch u := rawUint(s); {
		case u >= 1e19:
			return 40
		case u > math.MaxInt64:
			return 39
		}
		return 32
	}
	return valueSize(f, []byte{})
}

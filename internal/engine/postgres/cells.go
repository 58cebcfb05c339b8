package postgres

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// cells is a result set as PostgreSQL sent it: the text of every value in
// one string, decoded one value at a time (engine.Cells). The eager path
// (Result.Rows) decodes through it too, so both give the same values and
// the same errors.
type cells struct {
	text  string
	cells []engine.Span
	nrows int
	// arena holds text and cells for Release (lazy results only).
	arena *engine.Arena
	infos []typeInfo // per column
	elems []typeInfo // per column: the element type of an array
	cols  []engine.Column
	// shortest: the server prints float8 values with their shortest
	// round-trip digits (PostgreSQL 12 and later, extra_float_digits > 0)
	// or with at most 15 (extra_float_digits <= 0): either way the
	// digits strconv.FormatFloat prints for the parsed value.
	shortest bool
}

var _ engine.TextCells = (*cells)(nil)

// escape returns a heap copy of c, so that a cells decoded eagerly can
// stay on the stack.
func (c *cells) escape() *cells {
	h := *c
	return &h
}

func (c *cells) Len() int { return c.nrows }

// Release hands the arena back (engine.Releaser).
func (c *cells) Release() {
	if a := c.arena; a != nil {
		c.arena, c.text, c.cells = nil, "", nil
		engine.PutArena(a)
	}
}

func (c *cells) Value(row, col int) (engine.Value, error) {
	cl := c.cells[row*len(c.infos)+col]
	if cl.Off < 0 {
		return engine.Null(), nil
	}
	v, err := decodeText(c.infos[col], c.elems[col], c.text[cl.Off:cl.End])
	if err != nil {
		if errors.Is(err, errMultiDim) {
			return engine.Value{}, &engine.UnsupportedTypeError{TypeName: strings.ToUpper(c.infos[col].name)}
		}
		return engine.Value{}, fmt.Errorf("column %q: %w", c.cols[col].Name, err)
	}
	return v, nil
}

// Text implements engine.TextCells for every type but float4, bytea and
// arrays: integers (canonical decimal text), booleans, float8 (see
// shortest), and the types whose Field is a stringValue.
func (c *cells) Text(row, col int) (engine.Kind, string, bool) {
	cl := c.cells[row*len(c.infos)+col]
	if cl.Off < 0 {
		return engine.KindNull, "", true
	}
	s := c.text[cl.Off:cl.End]
	switch c.infos[col].codec {
	case codecInt:
		if engine.CanonicalInt(s) {
			return engine.KindLong, s, true
		}
	case codecBool:
		return textBool(s == "t")
	case codecText, codecNumeric:
		return engine.KindString, s, true
	case codecFloat:
		// float8 only: float4 values are widened to float64, whose
		// shortest digits differ from the float4 text.
		if c.shortest && c.infos[col].name == "float8" && engine.DoubleText(s) {
			return engine.KindDouble, s, true
		}
	case codecTime: // the same mappings as decodeScalar's
		return engine.KindString, fraction(s), true
	case codecTimestamptz:
		return engine.KindString, fraction(stripUTC(s)), true
	case codecBit:
		if s == "1" || s == "0" {
			return textBool(s == "1")
		}
		return engine.KindString, s, true
	case codecVoid:
		return engine.KindString, "", true
	}
	return 0, "", false
}

func textBool(b bool) (engine.Kind, string, bool) {
	if b {
		return engine.KindBool, "true", true
	}
	return engine.KindBool, "false", true
}

// fill decodes every value into res.Rows.
func (c *cells) fill(res *engine.Result) error {
	rows, err := engine.DecodeRows(c.nrows, len(c.infos), c.Value)
	res.Rows = rows
	return err
}

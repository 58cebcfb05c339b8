package sqlite

import (
	"strconv"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// Lazily decoded results (engine.Cells).
//
// The driver hands every value over boxed (database/sql's any); decoding
// them all eagerly adds one engine.Value per cell, a large
// pointer-holding slab the caller reads once to encode it. When Exec's
// context asks for engine.Cells, read keeps the scanned values instead and
// cells decodes each one as the caller encodes it — through value, the
// same mapping as the eager path.

// cells is a result set as the driver returned it: rows of scanned
// values, one slab, row-major.
type cells struct {
	vals     []any
	nrows    int
	classes  []class
	dateOnly []bool // per column: declared DATE
}

var _ engine.Cells = (*cells)(nil)

func (c *cells) Len() int { return c.nrows }

func (c *cells) Value(row, col int) (engine.Value, error) {
	return value(c.vals[row*len(c.classes)+col], c.classes[col], c.dateOnly[col]), nil
}

// textLen is len(v.String) + len(v.Blob) for the Value value(v, cl,
// dateOnly) gives, without building it: read counts it toward the result
// size limit either way.
func textLen(v any, cl class, dateOnly bool) int {
	var buf [64]byte
	switch v := v.(type) {
	case int64:
		if cl == classDecimal || cl == classDateTime {
			return len(strconv.AppendInt(buf[:0], v, 10))
		}
	case float64:
		if cl == classDecimal || cl == classDateTime {
			return len(strconv.AppendFloat(buf[:0], v, 'f', -1, 64))
		}
	case string:
		return len(v)
	case []byte:
		return len(v)
	case time.Time:
		return len(appendTime(buf[:0], v, dateOnly))
	}
	return 0
}

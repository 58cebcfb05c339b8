package engine

import (
	"context"
	"sync"
	"unsafe"
)

// Lazily decoded results.
//
// A result set of many rows costs, decoded eagerly, one Value per cell: a
// large slab of pointer-holding structs that the caller reads once, to
// encode it, and the garbage collector then scans and frees. A caller that
// only reads each value once in order can ask for the values to stay in
// the engine's own form instead (WithLazyDecode); an engine that supports
// it then returns a Result with Cells set and Rows nil, and the caller
// decodes each value as it encodes it (Result.At). Engines that do not
// support it ignore the request and fill Rows as always, so callers must
// read results through NumRows, RowLen and At (or Materialize first).

// Cells is a result set kept in an engine's own form and decoded one
// value at a time.
type Cells interface {
	// Len is the number of rows.
	Len() int
	// Value decodes the value in row row, column col. Strings in it may
	// share the result's memory. A value the Data API cannot represent is
	// an error (e.g. *UnsupportedTypeError), as it would have been from
	// Exec when decoding eagerly.
	Value(row, col int) (Value, error)
}

// TextCells is implemented by Cells that can hand out a value's text
// without decoding it, for the kinds where the text is the value's
// canonical form: a caller may then copy it instead of decoding and
// formatting it again.
type TextCells interface {
	Cells
	// Text returns the value in row row, column col as text when ok:
	// KindNull (s empty), KindLong (s is the int64 in canonical decimal:
	// strconv.FormatInt of Value.Long), KindBool (s is "true" or "false"),
	// KindDouble (s is "NaN", "Infinity", "-Infinity" or a decimal —
	// ['-'] digits ['.' digits] [('e'|'E') ['+'|'-'] digits] — whose
	// significant digits are exactly those strconv.FormatFloat(Value.Double,
	// 'e', -1, 64) prints) or KindString (s is Value.String). When !ok,
	// the caller uses Value.
	Text(row, col int) (k Kind, s string, ok bool)
}

type lazyKey struct{}

// WithLazyDecode returns a context under which Conn.Exec may return a
// result set as Cells instead of Rows (see Result.At).
func WithLazyDecode(ctx context.Context) context.Context {
	return context.WithValue(ctx, lazyKey{}, true)
}

// LazyDecode reports whether ctx asks for Cells (WithLazyDecode).
func LazyDecode(ctx context.Context) bool {
	v, _ := ctx.Value(lazyKey{}).(bool)
	return v
}

// NumRows is the number of rows of the result set.
func (r *Result) NumRows() int {
	if r.Cells != nil {
		return r.Cells.Len()
	}
	return len(r.Rows)
}

// RowLen is the number of values in row i.
func (r *Result) RowLen(i int) int {
	if r.Cells != nil {
		return len(r.Columns)
	}
	return len(r.Rows[i])
}

// At returns the value in row i, column j, decoding it when the result is
// lazy.
func (r *Result) At(i, j int) (Value, error) {
	if r.Cells != nil {
		return r.Cells.Value(i, j)
	}
	return r.Rows[i][j], nil
}

// Materialize decodes a lazy result into Rows (and drops Cells); an eager
// result is left as it is.
func (r *Result) Materialize() error {
	if r.Cells == nil {
		return nil
	}
	rows, err := DecodeRows(r.Cells.Len(), len(r.Columns), r.Cells.Value)
	if err != nil {
		return err
	}
	r.Rows, r.Cells = rows, nil
	return nil
}

// DecodeRows decodes n rows of w values each through value into one slab
// of Values with the rows cut from it; it stops at value's first error.
// value does not escape: an engine may pass a method of a result kept on
// its stack.
func DecodeRows(n, w int, value func(row, col int) (Value, error)) ([][]Value, error) {
	rows := make([][]Value, n)
	vals := make([]Value, n*w)
	for i := range rows {
		row := vals[i*w : (i+1)*w : (i+1)*w]
		for j := range row {
			v, err := value(i, j)
			if err != nil {
				return nil, err
			}
			row[j] = v
		}
		rows[i] = row
	}
	return rows, nil
}

// CanonicalInt reports whether s is an integer as strconv.FormatInt prints
// it: an optional '-', then digits without leading zeros, at most 18 of
// them (so it fits an int64 whatever they are). Engines use it to hand out
// integer text as KindLong (TextCells) only when copying it is exactly
// what parsing and formatting it again would give.
func CanonicalInt(s string) bool {
	d := s
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 18 || (d[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// DoubleText reports whether s is a double TextCells may hand out as
// KindDouble: "NaN", "Infinity", "-Infinity", or ['-'] digits ['.'
// digits] [('e'|'E') ['+'|'-'] digits] with at most 20 characters before
// the exponent and an exponent within ±280, so that it parses without
// overflow or underflow to zero. It checks only the form (one pass, no
// copy); the digits are the engine's to vouch for.
func DoubleText(s string) bool {
	switch s {
	case "NaN", "Infinity", "-Infinity":
		return true
	}
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		case (c == 'e' || c == 'E') && digits > 0 && i <= 20:
			return exponentWithin(s[i+1:], 280)
		default:
			return false
		}
	}
	return digits > 0 && len(s) <= 20
}

// exponentWithin reports whether s is ['+'|'-'] digits with a value of at
// most max in magnitude.
func exponentWithin(s string, max int) bool {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 3 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= max
}

// Releaser is implemented by Cells whose memory the engine can reuse for
// a later result once the caller is done with this one.
type Releaser interface {
	// Release hands the result's memory back. Afterwards nothing obtained
	// from the Cells — values, texts, the strings in them — may be used.
	Release()
}

// Release hands a lazy result's memory back to its engine (Releaser) and
// drops its Cells: call it once the result has been encoded and no value
// taken from it is kept. An eager result is left as it is.
func (r *Result) Release() {
	c := r.Cells
	r.Cells = nil
	if rel, ok := c.(Releaser); ok {
		rel.Release()
	}
}

// Arena is the memory of a lazily decoded result: the text of its values,
// and one int32 span per value. Engines take one per result (GetArena)
// and give it back when the caller releases the result (Result.Release),
// so a steady stream of results reuses the same few buffers instead of
// allocating (and clearing, and collecting) their size each time.
type Arena struct {
	Data  []byte
	Spans []Span
}

// Span is one value of an Arena: Data[Off:End], or NULL when Off < 0.
type Span struct{ Off, End int32 }

// MaxArena bounds the text an Arena may hold (its spans are int32): an
// engine refuses a larger result with ErrResultTooLarge. The callers'
// size limits (MaxResponseBytes) are far lower.
const MaxArena = 1<<31 - 1

// maxPooled bounds the arenas kept for reuse.
const maxPooled = 4 << 20

var arenas = sync.Pool{New: func() any { return new(Arena) }}

// GetArena returns an empty arena with room for about data bytes and
// spans values.
func GetArena(data, spans int) *Arena {
	a := arenas.Get().(*Arena)
	if cap(a.Data) < data {
		a.Data = make([]byte, 0, data)
	}
	if cap(a.Spans) < spans {
		a.Spans = make([]Span, 0, spans)
	}
	return a
}

// PutArena hands a back for reuse; nothing may use a or the strings of
// Text afterwards.
func PutArena(a *Arena) {
	if cap(a.Data) > maxPooled || cap(a.Spans)*8 > maxPooled {
		return
	}
	a.Data, a.Spans = a.Data[:0], a.Spans[:0]
	arenas.Put(a)
}

// Text returns Data as a string sharing its memory: valid until the
// arena is put back.
func (a *Arena) Text() string {
	if len(a.Data) == 0 {
		return ""
	}
	return unsafe.String(&a.Data[0], len(a.Data))
}

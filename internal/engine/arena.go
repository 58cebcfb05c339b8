package engine

import (
	"sync"
	"unsafe"
)

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

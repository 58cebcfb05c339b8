package pgproxy

// Raw message framing, https://www.postgresql.org/docs/current/protocol-overview.html#PROTOCOL-MESSAGE-CONCEPTS:
// Byte1 type, Int32 length (including itself), body. The relay moves raw
// frames and decodes only what it must rewrite or inspect.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sqlgate/sqlgate/internal/framebuf"
)

// maxMessageLen bounds one protocol message (PostgreSQL allows 1 GiB).
const maxMessageLen = 256 << 20

// errMessageTooLarge is returned for frames above maxMessageLen.
var errMessageTooLarge = errors.New("protocol message too large")

// msgReader reads whole frames, handing out views of its buffer that stay
// valid until the next read.
type msgReader struct {
	br  *framebuf.Reader
	buf []byte
	// torn is set when a read failed part-way through a frame: the
	// stream position is lost and every later next fails.
	torn bool
}

// errTorn is returned by next after a read failed mid-frame.
var errTorn = errors.New("protocol stream torn by an earlier read error")

// next returns the next frame (type byte, length, body). The slice is only
// valid until the next call.
func (r *msgReader) next() ([]byte, error) {
	if r.torn {
		return nil, errTorn
	}
	// The common case: the whole frame is buffered already, and one look
	// at the buffer finds it.
	if total, ok := r.bufferedLen(); ok {
		return r.br.Next(total), nil
	}
	hdr, err := r.br.Peek(5)
	if err != nil {
		if len(hdr) > 0 && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[1:])))
	if n < 4 {
		return nil, fmt.Errorf("invalid message length %d", n)
	}
	if n > maxMessageLen {
		return nil, errMessageTooLarge
	}
	total := 1 + n
	if total <= r.br.Size() {
		frame, err := r.br.Peek(total)
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		_, _ = r.br.Discard(total)
		return frame, nil
	}
	frame, err := r.readLarge(total)
	if err != nil {
		r.torn = true
		return nil, unexpectedEOF(err)
	}
	if cap(r.buf) > 1<<20 {
		r.buf = nil // don't keep huge buffers for idle sessions
	}
	return frame, nil
}

// buffered reports whether a whole frame is already buffered, so next
// will not block.
func (r *msgReader) buffered() bool {
	_, ok := r.bufferedLen()
	return ok
}

// bufferedLen returns the length of the next frame (type byte included)
// when the whole frame is buffered (ok).
func (r *msgReader) bufferedLen() (total int, ok bool) {
	b := r.br.Bytes()
	if len(b) < 5 {
		return 0, false
	}
	n := int(int32(binary.BigEndian.Uint32(b[1:])))
	return 1 + n, n >= 4 && 1+n <= len(b)
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// appendFrame appends a frame of type t with body parts.
func appendFrame(dst []byte, t byte, parts ...[]byte) []byte {
	n := 4
	for _, p := range parts {
		n += len(p)
	}
	dst = append(dst, t)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return dst
}

// cstring splits a NUL-terminated string off b.
func cstring(b []byte) (s, rest []byte, ok bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

// Fixed server messages.
var (
	msgParseComplete = []byte{'1', 0, 0, 0, 4}
	msgCloseComplete = []byte{'3', 0, 0, 0, 4}
)

func readyForQuery(status byte) []byte { return []byte{'Z', 0, 0, 0, 5, status} }

// pgError is an error with a SQLSTATE for the client.
type pgError struct {
	Severity string // ERROR or FATAL
	Code     string // SQLSTATE
	Msg      string
	Err      error // cause, for logs only
}

func (e *pgError) Error() string { return e.Code + ": " + e.Msg }
func (e *pgError) Unwrap() error { return e.Err }

// encode returns the ErrorResponse frame.
func (e *pgError) encode() []byte {
	b, _ := (&pgproto3.ErrorResponse{Severity: e.Severity, SeverityUnlocalized: e.Severity, Code: e.Code, Message: e.Msg}).Encode(nil)
	return b
}

func fatal(code, msg string, err error) *pgError {
	return &pgError{Severity: "FATAL", Code: code, Msg: msg, Err: err}
}

func errorf(code, msg string, err error) *pgError {
	return &pgError{Severity: "ERROR", Code: code, Msg: msg, Err: err}
}

// readLarge reads a frame of total bytes that does not fit the reader's
// buffer. The buffer grows as the bytes arrive (at most doubling what has
// been read), so a header that only claims a huge length — before any
// authentication, say — cannot make the proxy allocate it.
func (r *msgReader) readLarge(total int) ([]byte, error) {
	buf := r.buf[:0]
	for len(buf) < total {
		want := min(total, max(2*len(buf), 64<<10))
		if cap(buf) < want {
			buf = append(buf[:cap(buf)], make([]byte, want-cap(buf))...)[:len(buf)]
		}
		n, err := io.ReadFull(r.br, buf[len(buf):want])
		buf = buf[:len(buf)+n]
		if err != nil {
			r.buf = buf[:0]
			return nil, err
		}
	}
	r.buf = buf
	return buf, nil
}

// Package framebuf is the read buffer of the proxies' connections: the
// subset of bufio.Reader that frame decoders use (Peek, Discard, Buffered,
// Read, Reset), plus Bytes and Next, with the buffered cases small enough
// to be inlined, since a relay calls them for every frame it passes on.
package framebuf

import (
	"errors"
	"io"
)

// Reader is the read buffer of a client or backend connection. Like
// bufio.Reader, a read error is returned once, with whatever bytes were
// read before it, and the next call reads again (a read deadline that
// expired does not end the connection).
type Reader struct {
	buf  []byte
	rd   io.Reader
	r, w int // buf[r:w] is buffered
	err  error
}

// errNegativeCount is a Peek or Discard of fewer than zero bytes.
var errNegativeCount = errors.New("framebuf: negative count")

// errBadCount is a read that reported a count outside its buffer.
var errBadCount = errors.New("framebuf: read returned an invalid count")

// errNoProgress is returned when the underlying reader keeps returning no
// bytes and no error.
var errNoProgress = errors.New("framebuf: multiple reads returned no data")

// NewReader returns a Reader of rd with a buffer of size bytes.
func NewReader(rd io.Reader, size int) *Reader {
	return &Reader{buf: make([]byte, size), rd: rd}
}

// Size returns the buffer's size.
func (b *Reader) Size() int { return len(b.buf) }

// Buffered returns how many bytes can be read without reading rd.
func (b *Reader) Buffered() int { return b.w - b.r }

// Bytes returns the buffered bytes without consuming them or reading; they
// are valid until the next read.
func (b *Reader) Bytes() []byte { return b.buf[b.r:b.w:b.w] }

// Next consumes and returns the next n bytes if they are buffered (nil
// otherwise, consuming nothing); they are valid until the next read.
func (b *Reader) Next(n int) []byte {
	if n < 0 || n > b.w-b.r {
		return nil
	}
	p := b.buf[b.r : b.r+n : b.r+n]
	b.r += n
	return p
}

// Reset drops the buffered bytes and any error, and reads from rd next.
func (b *Reader) Reset(rd io.Reader) {
	b.rd, b.r, b.w, b.err = rd, 0, 0, nil
}

// Peek returns the next n bytes without consuming them, reading until
// they are buffered. With fewer, it returns those and the error that
// stopped it (io.ErrShortBuffer when n exceeds the buffer). The bytes are
// valid until the next read.
func (b *Reader) Peek(n int) ([]byte, error) {
	if n >= 0 && n <= b.w-b.r {
		return b.buf[b.r : b.r+n : b.r+n], nil
	}
	return b.peekSlow(n)
}

func (b *Reader) peekSlow(n int) ([]byte, error) {
	if n < 0 {
		return nil, errNegativeCount
	}
	for b.w-b.r < n && b.w-b.r < len(b.buf) && b.err == nil {
		b.fill()
	}
	if n > len(b.buf) {
		return b.buf[b.r:b.w:b.w], io.ErrShortBuffer
	}
	if avail := b.w - b.r; avail < n {
		err := b.readErr()
		if err == nil {
			err = io.ErrShortBuffer
		}
		return b.buf[b.r:b.w:b.w], err
	}
	return b.buf[b.r : b.r+n : b.r+n], nil
}

// Discard skips the next n bytes, reading them if they are not buffered;
// it returns how many it skipped and the error that stopped it short.
func (b *Reader) Discard(n int) (int, error) {
	if n >= 0 && n <= b.w-b.r {
		b.r += n
		return n, nil
	}
	if n < 0 {
		return 0, errNegativeCount
	}
	remain := n
	for {
		skip := b.w - b.r
		if skip == 0 {
			b.fill()
			skip = b.w - b.r
		}
		skip = min(skip, remain)
		b.r += skip
		if remain -= skip; remain == 0 {
			return n, nil
		}
		if b.err != nil {
			return n - remain, b.readErr()
		}
	}
}

// Read reads into p: buffered bytes first; with none, a read of at least
// the buffer's size goes to rd directly, a smaller one reads once into the
// buffer.
func (b *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		if b.w > b.r {
			return 0, nil
		}
		return 0, b.readErr()
	}
	if b.r == b.w {
		if b.err != nil {
			return 0, b.readErr()
		}
		if len(p) >= len(b.buf) {
			return b.rd.Read(p)
		}
		b.r, b.w = 0, 0
		n, err := b.rd.Read(b.buf)
		if n < 0 || n > len(b.buf) {
			n, err = 0, errBadCount
		}
		b.w, b.err = n, err
		if n == 0 {
			return 0, b.readErr()
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// fill moves the buffered bytes to the front and reads once more into the
// rest of the buffer (retrying reads that return nothing, a few times).
func (b *Reader) fill() {
	if b.r > 0 {
		copy(b.buf, b.buf[b.r:b.w])
		b.w -= b.r
		b.r = 0
	}
	for i := 0; i < 100; i++ {
		n, err := b.rd.Read(b.buf[b.w:])
		if n < 0 || n > len(b.buf)-b.w {
			b.err = errBadCount
			return
		}
		b.w += n
		if err != nil {
			b.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	b.err = errNoProgress
}

// readErr returns the kept read error once.
func (b *Reader) readErr() error {
	err := b.err
	b.err = nil
	return err
}

package pgproxy

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/sqlgate/sqlgate/internal/framebuf"
)

// TestMsgReader_LargeFrame reads a frame larger than the buffer intact,
// and checks that a header claiming a huge length with few bytes behind
// it does not make the reader allocate that length.
func TestMsgReader_LargeFrame(t *testing.T) {
	frame := func(body []byte, claim int) []byte {
		f := []byte{'Q', 0, 0, 0, 0}
		binary.BigEndian.PutUint32(f[1:], uint32(claim+4))
		return append(f, body...)
	}
	body := bytes.Repeat([]byte("x"), 3<<20)
	r := &msgReader{br: framebuf.NewReader(bytes.NewReader(frame(body, len(body))), 8<<10)}
	got, err := r.next()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[5:], body) {
		t.Fatal("large frame not read intact")
	}

	r = &msgReader{br: framebuf.NewReader(bytes.NewReader(frame([]byte("tiny"), 200<<20)), 8<<10)}
	if _, err := r.next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated frame: err %v, want unexpected EOF", err)
	}
	if c := cap(r.buf); c > 1<<20 {
		t.Fatalf("a 200 MiB claim with 4 bytes behind it allocated %d bytes", c)
	}
}

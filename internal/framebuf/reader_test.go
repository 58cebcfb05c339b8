package framebuf

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// scripted is a reader that hands out data in chunks of scripted sizes,
// returning a transient error (like an expired read deadline) where the
// script says so, and io.EOF at the end.
type scripted struct {
	data   []byte
	script []byte
	step   int
}

var errTransient = errors.New("transient read error")

func (s *scripted) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	c := byte(7)
	if len(s.script) > 0 {
		c = s.script[s.step%len(s.script)]
	}
	s.step++
	if c%11 == 0 {
		return 0, errTransient
	}
	n := min(len(p), len(s.data), int(c%37)+1)
	copy(p, s.data[:n])
	s.data = s.data[n:]
	return n, nil
}

// sameErr maps bufio's errors to Reader's.
func sameErr(got, bufioErr error) bool {
	switch {
	case errors.Is(bufioErr, bufio.ErrBufferFull):
		return errors.Is(got, io.ErrShortBuffer)
	case errors.Is(bufioErr, bufio.ErrNegativeCount):
		return errors.Is(got, errNegativeCount)
	}
	return errors.Is(got, bufioErr)
}

// FuzzReader: Reader answers every sequence of Peek, Discard,
// Read and Buffered over a stream read in odd chunks, with transient
// errors, as bufio.Reader does.
func FuzzReader(f *testing.F) {
	f.Add([]byte("hello, world: a stream of bytes read in pieces"), []byte{1, 5, 33, 2, 0, 9}, []byte{3, 40, 7})
	f.Add(bytes.Repeat([]byte{'x'}, 300), []byte{0x81, 0x42, 0x13, 0xf0, 0x05}, []byte{36, 22, 11})
	f.Add([]byte{}, []byte{1}, []byte{})
	f.Fuzz(func(t *testing.T, data, ops, script []byte) {
		const size = 32
		fr := NewReader(&scripted{data: data, script: script}, size)
		br := bufio.NewReaderSize(&scripted{data: data, script: script}, size)
		for i, op := range ops {
			n := int(op>>2) - 4 // -4..59: negative, small, beyond the buffer
			switch op & 3 {
			case 0:
				got, err := fr.Peek(n)
				want, werr := br.Peek(n)
				if !bytes.Equal(got, want) || !sameErr(err, werr) {
					t.Fatalf("op %d Peek(%d) = %q, %v; bufio %q, %v", i, n, got, err, want, werr)
				}
			case 1:
				got, err := fr.Discard(n)
				want, werr := br.Discard(n)
				if got != want || !sameErr(err, werr) {
					t.Fatalf("op %d Discard(%d) = %d, %v; bufio %d, %v", i, n, got, err, want, werr)
				}
			case 2:
				if n < 0 {
					n = -n
				}
				p, q := make([]byte, n), make([]byte, n)
				got, err := fr.Read(p)
				want, werr := br.Read(q)
				if got != want || !bytes.Equal(p, q) || !sameErr(err, werr) {
					t.Fatalf("op %d Read(%d) = %d, %v; bufio %d, %v", i, n, got, err, want, werr)
				}
			case 3:
				if fr.Buffered() != br.Buffered() {
					t.Fatalf("op %d Buffered() = %d; bufio %d", i, fr.Buffered(), br.Buffered())
				}
			}
		}
	})
}

// TestFrameReader_Reset drops buffered bytes and a kept error.
func TestFrameReader_Reset(t *testing.T) {
	fr := NewReader(&scripted{data: []byte("abcdef"), script: []byte{3, 0}}, 16)
	if got, err := fr.Peek(2); string(got) != "ab" || err != nil {
		t.Fatalf("Peek(2) = %q, %v", got, err)
	}
	fr.Reset(bytes.NewReader([]byte("xyz")))
	if fr.Buffered() != 0 {
		t.Fatalf("Buffered() after Reset = %d", fr.Buffered())
	}
	if got, err := fr.Peek(3); string(got) != "xyz" || err != nil {
		t.Fatalf("Peek(3) after Reset = %q, %v", got, err)
	}
}

// TestReader_BytesNext: Bytes shows what is buffered without reading;
// Next consumes buffered bytes only, and nothing when fewer are buffered.
func TestReader_BytesNext(t *testing.T) {
	r := NewReader(strings.NewReader("abcdef"), 16)
	if b := r.Bytes(); len(b) != 0 {
		t.Fatalf("Bytes before any read: %q", b)
	}
	if p := r.Next(1); p != nil {
		t.Fatalf("Next before any read: %q", p)
	}
	if _, err := r.Peek(1); err != nil { // fills the buffer
		t.Fatal(err)
	}
	if b := r.Bytes(); string(b) != "abcdef" {
		t.Fatalf("Bytes: %q", b)
	}
	if p := r.Next(7); p != nil || r.Buffered() != 6 {
		t.Fatalf("Next beyond the buffered bytes: %q, %d left", p, r.Buffered())
	}
	if p := r.Next(-1); p != nil {
		t.Fatalf("Next(-1): %q", p)
	}
	if p := r.Next(2); string(p) != "ab" || string(r.Bytes()) != "cdef" {
		t.Fatalf("Next(2): %q, then %q", p, r.Bytes())
	}
}

package mysqlwire

// Packet framing:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/framebuf"
	"github.com/sqlgate/sqlgate/internal/rawconn"
)

// MaxFrame is the largest payload of one physical packet; a logical packet
// of MaxFrame bytes or more continues in the next frame, and one that is an
// exact multiple ends with an empty frame.
const MaxFrame = 1<<24 - 1

// MaxPacket bounds a logical packet a PacketConn buffers (MySQL's own
// max_allowed_packet ceiling is 1 GiB).
const MaxPacket = 1 << 30

// ErrPacketTooLarge is returned when a logical packet exceeds MaxPacket.
var ErrPacketTooLarge = errors.New("mysql packet too large")

// ErrBadSequence is returned when a frame arrives out of sequence.
var ErrBadSequence = errors.New("mysql packet out of sequence")

// PacketConn reads and writes MySQL packets on one connection and keeps the
// sequence id. Reads reuse an internal buffer: a payload returned by
// ReadFrame or ReadPacket is valid until the next read.
type PacketConn struct {
	conn net.Conn
	r    *framebuf.Reader
	w    *bufio.Writer
	wt   rawconn.AwaitTarget // what w writes to
	seq  uint8
	buf  []byte
	hdr  [4]byte
	// preludes counts queued prelude commands whose one-packet answers
	// the next read skips; preludeErr keeps the first ERR among them.
	preludes   int
	preludeErr []byte
	// StrictSeq rejects frames whose sequence id is not the expected one.
	StrictSeq bool
}

// NewPacketConn wraps c.
func NewPacketConn(c net.Conn) *PacketConn {
	pc := &PacketConn{conn: c}
	pc.Acquire()
	return pc
}

// bufSize is the read and write buffer size of a PacketConn.
const bufSize = 16 << 10

// Buffers of idle connections (Release) wait here for the next user.
var (
	readers = sync.Pool{New: func() any { return framebuf.NewReader(nil, bufSize) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, bufSize) }}
)

// Release gives the read and write buffers back to a shared pool while the
// connection is idle, so that an idle client holds neither; Acquire must
// run before the next read or write (or the PacketConn is dropped and a
// new one made). It reports false, keeping them, when unread or unwritten
// bytes are buffered.
func (c *PacketConn) Release() bool {
	if c.r == nil {
		return true
	}
	if c.r.Buffered() > 0 || c.w.Buffered() > 0 {
		return false
	}
	c.r.Reset(nil)
	c.w.Reset(nil)
	readers.Put(c.r)
	writers.Put(c.w)
	c.r, c.w = nil, nil
	if cap(c.buf) > bufSize {
		c.buf = nil // a large packet's buffer
	}
	return true
}

// Acquire takes buffers again after Release.
func (c *PacketConn) Acquire() {
	if c.r != nil {
		return
	}
	c.r, c.w = readers.Get().(*framebuf.Reader), writers.Get().(*bufio.Writer)
	c.r.Reset(c.conn)
	c.wt.Set(c.conn)
	c.w.Reset(&c.wt)
}

// NewPacketReader returns a PacketConn that only reads r (tests, fuzzing).
func NewPacketReader(r io.Reader) *PacketConn {
	return &PacketConn{r: framebuf.NewReader(r, 4096)}
}

// Conn returns the underlying connection.
func (c *PacketConn) Conn() net.Conn { return c.conn }

// Reset swaps the underlying connection (after a TLS upgrade).
func (c *PacketConn) Reset(nc net.Conn) {
	c.conn = nc
	c.r = framebuf.NewReader(nc, bufSize)
	c.wt.Set(nc)
	c.w.Reset(&c.wt)
}

// bufferedConn reads through the packet reader first: a peer may send its
// TLS hello right behind the packet that asked for it, into our buffer.
type bufferedConn struct {
	net.Conn
	r *framebuf.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// UpgradeConn returns the connection a TLS layer must read from.
func (c *PacketConn) UpgradeConn() net.Conn { return &bufferedConn{Conn: c.conn, r: c.r} }

// ReadFrame reads one physical packet. more reports that the logical packet
// continues in the next frame. A frame that fits the read buffer is
// returned in place (no copy); a larger one is copied into c's own buffer.
func (c *PacketConn) ReadFrame() (payload []byte, more bool, err error) {
	for c.preludes > 0 {
		if err := c.skipPrelude(); err != nil {
			return nil, false, err
		}
	}
	return c.readFrame()
}

// skipPrelude reads and drops the one-packet answer (OK or ERR) of a
// prelude command, keeping an ERR for PreludeErr. The command after it
// is answered with sequence ids starting again at 1.
func (c *PacketConn) skipPrelude() error {
	c.preludes--
	c.seq = 1 // an answer of its own
	p, more, err := c.readFrame()
	if err != nil {
		return err
	}
	if more {
		return fmt.Errorf("%w: prelude answer spans frames", ErrBadResponse)
	}
	if len(p) > 0 && p[0] == HdrERR && c.preludeErr == nil {
		c.preludeErr = append([]byte(nil), p...)
	}
	c.seq = 1
	return nil
}

// QueuePrelude buffers a command answered by a single OK or ERR packet
// (a DO or SET statement) to go out in the same write as the next
// command; that command's reader skips the prelude's answer first.
// PreludeErr reports whether it failed.
func (c *PacketConn) QueuePrelude(p []byte) error {
	if err := c.QueueCommand(p); err != nil {
		return err
	}
	c.preludes++
	return nil
}

// ExpectPrelude counts one more single-packet answer that comes next on
// the wire, ahead of whatever is read next (QueryThen's post, once the
// query's result has been read). The answer is read at once when it is
// already buffered, else by the next read; either way it costs no wait.
func (c *PacketConn) ExpectPrelude() error {
	c.preludes++
	if n := c.r.Buffered(); n >= 4 {
		hdr, _ := c.r.Peek(4)
		if size := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16; n >= 4+size {
			return c.skipPrelude()
		}
	}
	return nil
}

// PreludeErr returns, and forgets, the ERR packet a prelude was answered
// with (nil when every prelude succeeded).
func (c *PacketConn) PreludeErr() []byte {
	p := c.preludeErr
	c.preludeErr = nil
	return p
}

func (c *PacketConn) readFrame() (payload []byte, more bool, err error) {
	// The common case: the whole frame is buffered, and one look at the
	// buffer finds it.
	if b := c.r.Bytes(); len(b) >= 4 {
		n := int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16)
		if 4+n <= len(b) && (!c.StrictSeq || b[3] == c.seq) {
			c.seq = b[3] + 1
			return c.r.Next(4 + n)[4:], n == MaxFrame, nil
		}
	}
	hdr, err := c.r.Peek(4)
	if err != nil {
		if len(hdr) > 0 && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, err
	}
	n := int(uint32(hdr[0]) | uint32(hdr[1])<<8 | uint32(hdr[2])<<16)
	if c.StrictSeq && hdr[3] != c.seq {
		return nil, false, fmt.Errorf("%w: got %d, want %d", ErrBadSequence, hdr[3], c.seq)
	}
	c.seq = hdr[3] + 1
	if 4+n <= c.r.Size() {
		p, err := c.r.Peek(4 + n)
		if err != nil {
			return nil, false, unexpectedEOF(err)
		}
		_, _ = c.r.Discard(4 + n)
		return p[4:], n == MaxFrame, nil
	}
	_, _ = c.r.Discard(4)
	if err := c.readLarge(n); err != nil {
		return nil, false, unexpectedEOF(err)
	}
	return c.buf, n == MaxFrame, nil
}

// readLarge reads n bytes that do not fit the reader's buffer into c.buf,
// growing it as the bytes arrive (at most doubling what has been read):
// a header that only claims 16 MiB, before any login say, cannot make
// the connection allocate them.
func (c *PacketConn) readLarge(n int) error {
	buf := c.buf[:0]
	for len(buf) < n {
		want := min(n, max(2*len(buf), 64<<10))
		if cap(buf) < want {
			buf = append(buf[:cap(buf)], make([]byte, want-cap(buf))...)[:len(buf)]
		}
		k, err := io.ReadFull(c.r, buf[len(buf):want])
		buf = buf[:len(buf)+k]
		if err != nil {
			c.buf = buf[:0]
			return err
		}
	}
	c.buf = buf
	return nil
}

// ReadPacket reads a whole logical packet, joining split frames.
func (c *PacketConn) ReadPacket() ([]byte, error) {
	p, more, err := c.ReadFrame()
	if err != nil || !more {
		return p, err
	}
	joined := append([]byte(nil), p...)
	for more {
		if p, more, err = c.ReadFrame(); err != nil {
			return nil, err
		}
		if len(joined)+len(p) > MaxPacket {
			return nil, ErrPacketTooLarge
		}
		joined = append(joined, p...)
	}
	c.buf = joined
	return joined, nil
}

// WritePacket writes a logical packet, splitting it into frames. It
// buffers; call Flush.
func (c *PacketConn) WritePacket(p []byte) error {
	for {
		n := min(len(p), MaxFrame)
		if err := c.WriteFrame(p[:n]); err != nil {
			return err
		}
		p = p[n:]
		if n < MaxFrame {
			return nil
		}
	}
}

// WriteFrame writes one physical packet (at most MaxFrame bytes) with the
// next sequence id. It buffers; call Flush. A relay uses it to pass frames
// through without joining them.
func (c *PacketConn) WriteFrame(p []byte) error {
	if len(p) > MaxFrame {
		return fmt.Errorf("%w: frame of %d bytes", ErrPacketTooLarge, len(p))
	}
	c.hdr = [4]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), c.seq}
	c.seq++
	if b := c.w.AvailableBuffer(); cap(b) >= 4+len(p) {
		// Header and payload in one buffered write.
		_, err := c.w.Write(append(append(b, c.hdr[:]...), p...))
		return err
	}
	if _, err := c.w.Write(c.hdr[:]); err != nil {
		return err
	}
	_, err := c.w.Write(p)
	return err
}

// Peek waits until n bytes can be read and returns them without consuming
// them (a server waiting for a client's next command).
func (c *PacketConn) Peek(n int) ([]byte, error) { return c.r.Peek(n) }

// ResetSeq restarts the sequence id (a server before reading a command).
func (c *PacketConn) ResetSeq() { c.seq = 0 }

// Flush sends buffered packets.
func (c *PacketConn) Flush() error { return c.w.Flush() }

// Buffered returns the bytes written but not yet sent; after a failed
// Flush, the tail that never reached the connection.
func (c *PacketConn) Buffered() int { return c.w.Buffered() }

// Available returns the bytes that can be written before a write sends
// part of the buffer.
func (c *PacketConn) Available() int { return c.w.Available() }

// Send writes one packet and flushes.
func (c *PacketConn) Send(p []byte) error {
	if err := c.WritePacket(p); err != nil {
		return err
	}
	return c.Flush()
}

// Command starts a new command (the sequence id restarts at 0) and sends p.
func (c *PacketConn) Command(p []byte) error {
	c.seq = 0
	return c.Send(p)
}

// CommandAwait is Command for a command whose reply the caller reads
// next: on a raw socket (rawconn) the write returns once the reply has
// begun to arrive, which spares the read that would find nothing yet —
// one system call per command.
func (c *PacketConn) CommandAwait(p []byte) error {
	c.seq = 0
	if err := c.WritePacket(p); err != nil {
		return err
	}
	return c.wt.FlushAwait(c.w)
}

// QueueCommand starts a new command like Command but only buffers it, so
// several commands can go out in one write (pipelining); call Flush.
func (c *PacketConn) QueueCommand(p []byte) error {
	c.seq = 0
	return c.WritePacket(p)
}

// SetDeadline sets the read and write deadline; zero clears it.
func (c *PacketConn) SetDeadline(d time.Duration) {
	if d <= 0 {
		_ = c.conn.SetDeadline(time.Time{})
		return
	}
	_ = c.conn.SetDeadline(time.Now().Add(d))
}

// Close closes the connection.
func (c *PacketConn) Close() error { return c.conn.Close() }

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

package mysqlproxy

// Packet framing of the MySQL client/server protocol:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// maxFrame is the largest payload of one physical packet; a logical packet
// of maxFrame bytes or more continues in the next frame, and one that is an
// exact multiple ends with an empty frame.
const maxFrame = 1<<24 - 1

// maxPacket bounds a logical packet the proxy buffers (client commands,
// handshake and OK/ERR packets). MySQL's own max_allowed_packet ceiling is
// 1 GiB; rows are relayed frame by frame and never buffered whole.
const maxPacket = 1 << 30

// ErrPacketTooLarge is returned when a logical packet exceeds maxPacket.
var ErrPacketTooLarge = errors.New("mysql packet too large")

// ErrBadSequence is returned when a frame arrives out of sequence.
var ErrBadSequence = errors.New("mysql packet out of sequence")

// packetConn reads and writes MySQL packets on one connection and keeps the
// sequence id. Reads reuse an internal buffer: a payload returned by
// readFrame or readPacket is valid until the next read.
type packetConn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	seq  uint8
	buf  []byte
	hdr  [4]byte
	// strictSeq rejects frames whose sequence id is not the expected one;
	// off for the backend leg, where the proxy ignores the server's numbering.
	strictSeq bool
}

func newPacketConn(c net.Conn) *packetConn {
	return &packetConn{conn: c, r: bufio.NewReaderSize(c, 16<<10), w: bufio.NewWriterSize(c, 16<<10)}
}

// reset swaps the underlying connection (after a TLS upgrade).
func (c *packetConn) reset(nc net.Conn) {
	c.conn = nc
	c.r = bufio.NewReaderSize(nc, 16<<10)
	c.w.Reset(nc)
}

// bufferedConn reads through the packet reader first: a client may send
// its TLS ClientHello right behind the SSLRequest, into our buffer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// upgradeConn returns the connection a TLS layer must read from.
func (c *packetConn) upgradeConn() net.Conn { return &bufferedConn{Conn: c.conn, r: c.r} }

// readFrame reads one physical packet. more reports that the logical packet
// continues in the next frame.
func (c *packetConn) readFrame() (payload []byte, more bool, err error) {
	if _, err := io.ReadFull(c.r, c.hdr[:]); err != nil {
		return nil, false, err
	}
	n := int(uint32(c.hdr[0]) | uint32(c.hdr[1])<<8 | uint32(c.hdr[2])<<16)
	if c.strictSeq && c.hdr[3] != c.seq {
		return nil, false, fmt.Errorf("%w: got %d, want %d", ErrBadSequence, c.hdr[3], c.seq)
	}
	c.seq = c.hdr[3] + 1
	if cap(c.buf) < n {
		c.buf = make([]byte, n)
	}
	c.buf = c.buf[:n]
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		return nil, false, unexpectedEOF(err)
	}
	return c.buf, n == maxFrame, nil
}

// readPacket reads a whole logical packet, joining split frames.
func (c *packetConn) readPacket() ([]byte, error) {
	p, more, err := c.readFrame()
	if err != nil || !more {
		return p, err
	}
	joined := append([]byte(nil), p...)
	for more {
		if p, more, err = c.readFrame(); err != nil {
			return nil, err
		}
		if len(joined)+len(p) > maxPacket {
			return nil, ErrPacketTooLarge
		}
		joined = append(joined, p...)
	}
	c.buf = joined
	return joined, nil
}

// writePacket writes a logical packet, splitting it into frames. It
// buffers; call flush.
func (c *packetConn) writePacket(p []byte) error {
	for {
		n := min(len(p), maxFrame)
		if err := c.writeFrame(p[:n]); err != nil {
			return err
		}
		p = p[n:]
		if n < maxFrame {
			return nil
		}
	}
}

// writeFrame writes one physical packet with the next sequence id.
func (c *packetConn) writeFrame(p []byte) error {
	if len(p) > maxFrame {
		return fmt.Errorf("BUG: frame of %d bytes", len(p))
	}
	c.hdr = [4]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), c.seq}
	c.seq++
	if _, err := c.w.Write(c.hdr[:]); err != nil {
		return err
	}
	_, err := c.w.Write(p)
	return err
}

// flush sends buffered packets.
func (c *packetConn) flush() error { return c.w.Flush() }

// send writes one packet and flushes.
func (c *packetConn) send(p []byte) error {
	if err := c.writePacket(p); err != nil {
		return err
	}
	return c.flush()
}

// command starts a new command: the sequence id restarts at 0.
func (c *packetConn) command(p []byte) error {
	c.seq = 0
	return c.send(p)
}

// setDeadline sets the read and write deadline; zero clears it.
func (c *packetConn) setDeadline(d time.Duration) {
	if d <= 0 {
		_ = c.conn.SetDeadline(time.Time{})
		return
	}
	_ = c.conn.SetDeadline(time.Now().Add(d))
}

func (c *packetConn) close() error { return c.conn.Close() }

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

package mysqlwire

import (
	"bytes"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/rawconn"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// FlushAwait sends what is buffered and returns once the peer's next
// packet begins to arrive; with a packet already read into the buffer it
// does not wait for another.
func TestPacketConn_FlushAwait(t *testing.T) {
	c, peer := testdb.TCPPair(t)
	cli := rawconn.Wrap(c) // as the proxies wrap their sockets
	pc := NewPacketConn(cli)
	got := make(chan []byte, 4)
	go func() {
		buf := make([]byte, 64)
		for first := true; ; first = false {
			n, err := peer.Read(buf)
			if err != nil {
				close(got)
				return
			}
			got <- bytes.Clone(buf[:n])
			if first { // two commands at once, as a client that sends ahead
				_, _ = peer.Write(append(frame([]byte{ComQuery, 'a'}, 0), frame([]byte{ComQuery, 'b'}, 0)...))
			}
		}
	}()
	if err := pc.WritePacket([]byte{HdrOK, 0, 0, 2, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := pc.FlushAwait(); err != nil {
		t.Fatal(err)
	}
	if sent := <-got; len(sent) != 11 {
		t.Fatalf("peer got %d bytes, want the 11 of one OK packet", len(sent))
	}
	_ = cli.SetReadDeadline(time.Now().Add(5 * time.Second))
	pc.ResetSeq()
	if p, err := pc.ReadPacket(); err != nil || string(p) != "\x03a" {
		t.Fatalf("first command: %q, %v", p, err)
	}
	// The second command is buffered: FlushAwait sends and returns without
	// waiting for a third, which never comes (a wait would end only at the
	// read deadline).
	pc.ResetSeq()
	if err := pc.WritePacket([]byte{HdrOK, 0, 0, 2, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	if err := pc.FlushAwait(); err != nil {
		t.Fatal(err)
	}
	if !time.Now().Before(deadline) {
		t.Fatal("FlushAwait waited for a packet although one was buffered")
	}
	if sent := <-got; len(sent) != 11 {
		t.Fatalf("peer got %d bytes, want the 11 of one OK packet", len(sent))
	}
	pc.ResetSeq()
	if p, err := pc.ReadPacket(); err != nil || string(p) != "\x03b" {
		t.Fatalf("second command: %q, %v", p, err)
	}
}

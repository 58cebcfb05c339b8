package mysqlwire

import (
	"bufio"
	"bytes"
	"reflect"
	"testing"

	"github.com/sqlgate/sqlgate/internal/framebuf"
)

// bufConn returns a PacketConn that writes into and reads from buf.
func bufConn(buf *bytes.Buffer) *PacketConn {
	return &PacketConn{r: framebuf.NewReader(buf, 4096), w: bufio.NewWriter(buf)}
}

func TestPacketConn_Split(t *testing.T) {
	for _, n := range []int{0, 1, MaxFrame - 1, MaxFrame, MaxFrame + 1, 2 * MaxFrame} {
		var buf bytes.Buffer
		w := bufConn(&buf)
		want := bytes.Repeat([]byte{'q'}, n)
		if err := w.WritePacket(want); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		frames := n/MaxFrame + 1
		if got := buf.Len(); got != n+4*frames {
			t.Fatalf("n=%d: %d bytes on the wire, want %d", n, got, n+4*frames)
		}
		r := bufConn(&buf)
		r.StrictSeq = true
		got, err := r.ReadPacket()
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("n=%d: read %d bytes back", n, len(got))
		}
		if r.seq != byte(frames) {
			t.Fatalf("n=%d: sequence %d, want %d", n, r.seq, frames)
		}
	}
}

func TestPacketConn_BadSequence(t *testing.T) {
	r := bufConn(bytes.NewBuffer([]byte{1, 0, 0, 5, 'x'}))
	r.StrictSeq = true
	if _, err := r.ReadPacket(); err == nil {
		t.Fatal("out-of-sequence frame accepted")
	}
}

func TestPacketConn_WriteFrameTooLarge(t *testing.T) {
	var buf bytes.Buffer
	if err := bufConn(&buf).WriteFrame(make([]byte, MaxFrame+1)); err == nil {
		t.Fatal("oversized frame written")
	}
}

func TestOK_RoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ok   OK
		caps uint32
	}{
		{"plain", OK{AffectedRows: 3, LastInsertID: 1 << 40, Status: StatusAutocommit, Warnings: 2}, CapProtocol41},
		{"info", OK{Status: StatusInTrans, Info: []byte("Rows matched: 1")}, CapProtocol41},
		{"tracked", OK{Status: StatusStateChanged, Info: []byte{}, SessionState: []byte{2, 1, '1'}}, CapSessionTrack},
		{"eof header", OK{Header: HdrEOF, Status: StatusMoreResults}, CapSessionTrack},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.ok.Encode(nil, tc.caps)
			got, err := ParseOK(p, tc.caps&CapSessionTrack != 0)
			if err != nil {
				t.Fatal(err)
			}
			if got.AffectedRows != tc.ok.AffectedRows || got.LastInsertID != tc.ok.LastInsertID || got.Status != tc.ok.Status ||
				!bytes.Equal(got.Info, tc.ok.Info) || !bytes.Equal(got.SessionState, tc.ok.SessionState) {
				t.Fatalf("got %+v, want %+v", got, tc.ok)
			}
		})
	}
	t.Run("info for clients without tracking", func(t *testing.T) {
		// MariaDB 10.11's OK for an UPDATE to a client without
		// CLIENT_SESSION_TRACK: the info is length-encoded all the same.
		server := []byte("\x00\x00\x00\x22\x00\x00\x00\x28Rows matched: 1  Changed: 0  Warnings: 0")
		got, err := ParseOK(server, false)
		if err != nil || string(got.Info) != "Rows matched: 1  Changed: 0  Warnings: 0" {
			t.Fatalf("got %+v, %v", got, err)
		}
		if p := got.Encode(nil, CapProtocol41); !bytes.Equal(p, server) {
			t.Fatalf("encoded %x, want %x", p, server)
		}
	})
	t.Run("session state stripped for clients without tracking", func(t *testing.T) {
		ok := OK{Status: StatusStateChanged | StatusAutocommit, SessionState: []byte{2, 1, '1'}}
		got, err := ParseOK(ok.Encode(nil, CapProtocol41), false)
		if err != nil || got.Status != StatusAutocommit || len(got.Info) != 0 {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
}

func TestGreeting_RoundTrip(t *testing.T) {
	want := &Greeting{Version: "10.11.19-MariaDB", ConnID: 77, Scramble: NewScramble(), Caps: ClientCaps | CapSSL,
		Charset: DefaultCharset, Status: StatusAutocommit, Plugin: PluginSHA2}
	got, err := ParseGreeting(want.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestHandshakeResponse_RoundTrip(t *testing.T) {
	want := &HandshakeResponse{Caps: ClientCaps | CapConnectWithDB, MaxPacket: 1 << 24, Charset: 8, User: "app",
		Auth: []byte("0123456789abcdefghij"), DB: "shop", Plugin: PluginNative, Attrs: map[string]string{"_os": "linux"}}
	got, err := ParseHandshakeResponse(want.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestSessionState_Parse(t *testing.T) {
	// Captured from MariaDB 10.11: SET NAMES latin1, then USE mysql.
	names := []byte("\x00 \x18character_set_connection\x06latin1\x00\x1c\x14character_set_client\x06latin1\x02\x011")
	sc, err := ParseSessionState(names)
	if err != nil || !sc.Changed || len(sc.Vars) != 2 {
		t.Fatalf("SET NAMES: %+v %v", sc, err)
	}
	sc, err = ParseSessionState([]byte("\x01\x06\x05mysql\x02\x011"))
	if err != nil || sc.Schema != "mysql" || !sc.HasSchema {
		t.Fatalf("USE: %+v %v", sc, err)
	}
	sc, err = ParseSessionState([]byte("\x02\x011")) // SET @a = 1
	if err != nil || !sc.Changed || len(sc.Vars) != 0 {
		t.Fatalf("user variable: %+v %v", sc, err)
	}
}

package mysqlwire

import (
	"bytes"
	"net"
	"testing"
)

// TestPacketConn_QueuePrelude sends a prelude and a command in one write
// and checks that the command's reader gets the command's answer, the
// prelude's OK or ERR skipped and its failure reported.
func TestPacketConn_QueuePrelude(t *testing.T) {
	okPkt := []byte{HdrOK, 0, 0, 2, 0, 0, 0}
	errPkt := append([]byte{HdrERR, 0x28, 0x04, '#'}, "42000boom"...)
	answer := []byte{HdrOK, 5, 0, 2, 0, 0, 0} // the command's OK, 5 rows
	for _, tc := range []struct {
		name    string
		prelude []byte
		wantErr bool
	}{{"ok", okPkt, false}, {"err", errPkt, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cli, srv := net.Pipe()
			defer cli.Close()
			defer srv.Close()
			pc := NewPacketConn(cli)
			pc.StrictSeq = true
			sent := make(chan []byte, 1)
			go func() {
				buf := make([]byte, 64)
				n, _ := srv.Read(buf)
				sent <- buf[:n]
				// each answer restarts at sequence id 1
				_, _ = srv.Write(frame(tc.prelude, 1))
				_, _ = srv.Write(frame(answer, 1))
			}()
			if err := pc.QueuePrelude(QueryCommand("DO 1")); err != nil {
				t.Fatal(err)
			}
			if err := pc.Command(QueryCommand("SELECT 2")); err != nil {
				t.Fatal(err)
			}
			want := append(frame(QueryCommand("DO 1"), 0), frame(QueryCommand("SELECT 2"), 0)...)
			if got := <-sent; !bytes.Equal(got, want) {
				t.Fatalf("one write carried %q, want %q", got, want)
			}
			p, err := pc.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p, answer) {
				t.Fatalf("read %x, want the command's answer %x", p, answer)
			}
			if got := pc.PreludeErr() != nil; got != tc.wantErr {
				t.Fatalf("PreludeErr set = %v, want %v", got, tc.wantErr)
			}
			if pc.PreludeErr() != nil {
				t.Fatal("PreludeErr not cleared after reading")
			}
		})
	}
}

func frame(p []byte, seq byte) []byte {
	return append([]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq}, p...)
}

// TestPacketConn_LargeFrame reads a frame larger than the read buffer
// intact, and checks that a header claiming 16 MiB with a few bytes
// behind it does not make the reader allocate them.
func TestPacketConn_LargeFrame(t *testing.T) {
	body := bytes.Repeat([]byte("y"), 5<<20)
	pc := NewPacketReader(bytes.NewReader(frame(body, 0)))
	p, err := pc.ReadPacket()
	if err != nil || !bytes.Equal(p, body) {
		t.Fatalf("large frame: err %v, intact %v", err, bytes.Equal(p, body))
	}
	claim := []byte{0xff, 0xff, 0xfe, 0, 'x', 'y'}
	pc = NewPacketReader(bytes.NewReader(claim))
	if _, err := pc.ReadPacket(); err == nil {
		t.Fatal("truncated frame read without error")
	}
	if c := cap(pc.buf); c > 1<<20 {
		t.Fatalf("a 16 MiB claim with 2 bytes behind it allocated %d bytes", c)
	}
}

// TestPacketConn_ExpectPrelude reads a command's answer with the answer
// of a command sent behind it (QueryThen's post) either in the same
// segment — skipped at once, its ERR reported — or still on its way —
// skipped by the next read, which returns the next command's answer.
func TestPacketConn_ExpectPrelude(t *testing.T) {
	okPkt := []byte{HdrOK, 0, 0, 2, 0, 0, 0}
	errPkt := append([]byte{HdrERR, 0x28, 0x04, '#'}, "42000boom"...)
	answer := []byte{HdrOK, 1, 9, 2, 0, 0, 0} // 1 row, insert id 9
	next := []byte{HdrOK, 0, 0, 2, 0, 0, 0}
	for _, tc := range []struct {
		name     string
		post     []byte
		together bool
	}{{"buffered ok", okPkt, true}, {"buffered err", errPkt, true}, {"later ok", okPkt, false}, {"later err", errPkt, false}} {
		t.Run(tc.name, func(t *testing.T) {
			cli, srv := net.Pipe()
			defer cli.Close()
			defer srv.Close()
			pc := NewPacketConn(cli)
			pc.StrictSeq = true
			go func() {
				if tc.together {
					_, _ = srv.Write(append(frame(answer, 1), frame(tc.post, 1)...))
				} else {
					_, _ = srv.Write(frame(answer, 1))
					_, _ = srv.Write(append(frame(tc.post, 1), frame(next, 1)...))
				}
			}()
			pc.seq = 1 // as after sending the command
			p, err := pc.ReadPacket()
			if err != nil || !bytes.Equal(p, answer) {
				t.Fatalf("read %x, %v; want the answer %x", p, err, answer)
			}
			if err := pc.ExpectPrelude(); err != nil {
				t.Fatal(err)
			}
			wantErr := bytes.Equal(tc.post, errPkt)
			if tc.together {
				if pc.preludes != 0 {
					t.Fatal("a buffered answer was left for the next read")
				}
				if got := pc.PreludeErr() != nil; got != wantErr {
					t.Fatalf("PreludeErr set = %v, want %v", got, wantErr)
				}
				return
			}
			if pc.preludes != 1 {
				t.Fatalf("%d answers expected, want 1 (nothing buffered)", pc.preludes)
			}
			pc.seq = 1 // as after sending the next command
			if p, err = pc.ReadPacket(); err != nil || !bytes.Equal(p, next) {
				t.Fatalf("next read %x, %v; want %x", p, err, next)
			}
			if got := pc.PreludeErr() != nil; got != wantErr {
				t.Fatalf("PreludeErr set = %v, want %v", got, wantErr)
			}
		})
	}
}

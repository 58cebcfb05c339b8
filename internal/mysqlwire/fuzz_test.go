package mysqlwire

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/sqlgate/sqlgate/internal/framebuf"
)

// Fuzz targets for every decoder. Run one with:
//   go test -run '^$' -fuzz FuzzParseOK -fuzztime 2m ./internal/mysqlwire
// A crasher -fuzz finds is committed under testdata/fuzz/<Target> so that
// every go test replays it (100 s of each target found none so far).

func FuzzReadPacket(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, ComQuit})
	f.Add([]byte{0xff, 0xff, 0xff, 0, 1, 0, 0, 1, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewPacketReader(bytes.NewReader(data))
		for range 8 {
			if _, err := c.ReadPacket(); err != nil {
				return
			}
		}
	})
}

func FuzzParseOK(f *testing.F) {
	f.Add([]byte{0, 1, 2, 2, 0, 0, 0}, true)
	f.Add([]byte("\x00\x00\x00\x02@\x00\x00\x00\x03\x02\x011"), true)
	f.Add([]byte{0xfe, 0, 0, 2, 0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, p []byte, track bool) {
		ok, err := ParseOK(p, track)
		if err != nil {
			return
		}
		caps := CapProtocol41
		if track {
			caps |= CapSessionTrack
		}
		again, err := ParseOK(ok.Encode(nil, caps), track)
		if err != nil {
			t.Fatalf("re-encoded OK does not parse: %v", err)
		}
		if again.AffectedRows != ok.AffectedRows || again.LastInsertID != ok.LastInsertID || again.Warnings != ok.Warnings {
			t.Fatalf("round trip changed %+v to %+v", ok, again)
		}
	})
}

func FuzzParseErrEOF(f *testing.F) {
	f.Add((&Error{Code: 1064, State: "42000", Msg: "syntax"}).Packet())
	f.Add([]byte{0xff, 0x15, 0x04, 'n', 'o'})
	f.Add(EOFPacket(1, StatusAutocommit))
	f.Fuzz(func(t *testing.T, p []byte) {
		e := ParseErr(p)
		if len(p) >= 9 && p[0] == HdrERR && p[3] == '#' {
			if again := ParseErr(e.Packet()); *again != *e {
				t.Fatalf("ERR round trip %+v → %+v", e, again)
			}
		}
		if w, s, err := ParseEOF(p); err == nil {
			if w2, s2, _ := ParseEOF(EOFPacket(w, s)); w2 != w || s2 != s&^StatusStateChanged {
				t.Fatalf("EOF round trip %d/%d → %d/%d", w, s, w2, s2)
			}
		}
	})
}

func FuzzParseSessionState(f *testing.F) {
	f.Add([]byte("\x00 \x18character_set_connection\x06latin1\x00\x1c\x14character_set_client\x06latin1\x02\x011"))
	f.Add([]byte("\x01\x06\x05mysql\x04\x01\x00\x05\t\bT_______"))
	f.Add(AppendSessionState(nil, StateChange{Vars: [][2]string{{"sql_mode", "ANSI"}}, Schema: "db", HasSchema: true, Changed: true}))
	f.Fuzz(func(t *testing.T, p []byte) {
		sc, err := ParseSessionState(p)
		if err != nil {
			return
		}
		again, err := ParseSessionState(AppendSessionState(nil, sc))
		if err != nil || len(again.Vars) != len(sc.Vars) || again.Schema != sc.Schema || again.Changed != sc.Changed {
			t.Fatalf("round trip %+v → %+v, %v", sc, again, err)
		}
	})
}

func FuzzParseColumn(f *testing.F) {
	c := Column{Schema: "s", Table: "t", OrgTable: "t", Name: "id", OrgName: "id", Charset: 63, Length: 11, Type: TypeLong, Flags: FlagNotNull}
	f.Add(c.Encode(nil))
	f.Add([]byte("\x03def\x00\x00\x00\x01a\x00\x0c\x2d\x00\x04\x00\x00\x00\xfd\x00\x00\x1f\x00\x00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		col, err := ParseColumn(p)
		if err != nil {
			return
		}
		again, err := ParseColumn(col.Encode(nil))
		if err != nil || again != col {
			t.Fatalf("round trip %+v → %+v, %v", col, again, err)
		}
	})
}

func FuzzParseTextRow(f *testing.F) {
	f.Add([]byte("\x011\xfb\x03abc"), 3)
	f.Add([]byte{0xfc, 2, 0, 'h', 'i'}, 1)
	f.Fuzz(func(t *testing.T, p []byte, n int) {
		if n < 0 || n > 64 {
			return
		}
		dst := make([][]byte, n)
		if err := ParseTextRow(p, dst); err != nil {
			return
		}
		var re []byte
		for _, v := range dst {
			if v == nil {
				re = append(re, 0xfb)
			} else {
				re = AppendLenencString(re, v)
			}
		}
		if err := ParseTextRow(re, dst); err != nil {
			t.Fatalf("re-encoded row does not parse: %v", err)
		}
	})
}

// binaryCols is the column list FuzzParseBinaryRow decodes against,
// chosen by the fuzzer's type bytes.
func binaryCols(types []byte) []Column {
	cols := make([]Column, 0, min(len(types), 32))
	for i, t := range types {
		if i == 32 {
			break
		}
		cols = append(cols, Column{Type: t, Flags: uint16(i%2) * FlagUnsigned, Decimals: byte(i % 8)})
	}
	return cols
}

func FuzzParseBinaryRow(f *testing.F) {
	f.Add([]byte{TypeLong, TypeVarString, TypeDateTime, TypeTime}, []byte{0, 0, 1, 0, 0, 0, 2, 'h', 'i', 7, 0xe5, 0x07, 1, 2, 3, 4, 5, 0})
	f.Add([]byte{TypeDouble, TypeNull}, []byte{0, 0x08, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f})
	f.Add([]byte{TypeTimestamp, TypeTime}, []byte{0, 0, 11, 0xe5, 0x07, 1, 2, 3, 4, 5, 1, 0, 0, 0, 12, 1, 1, 0, 0, 0, 2, 3, 4, 5, 0, 0, 0})
	f.Fuzz(func(t *testing.T, types, p []byte) {
		cols := binaryCols(types)
		dst := make([][]byte, len(cols))
		_, _ = ParseBinaryRow(p, cols, dst, nil)
	})
}

func FuzzParseGreeting(f *testing.F) {
	g := &Greeting{Version: "10.11.6-MariaDB", ConnID: 7, Scramble: bytes.Repeat([]byte{'a'}, 20),
		Caps: ClientCaps | CapSSL, Charset: 45, Status: 2, Plugin: PluginNative}
	f.Add(g.Encode())
	f.Add([]byte{10, '5', 0, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0xff, 0xf7})
	f.Add((&Error{Code: 1040, State: "08004", Msg: "Too many connections"}).Packet())
	f.Fuzz(func(t *testing.T, p []byte) {
		g, err := ParseGreeting(p)
		if err != nil || len(g.Scramble) != ScrambleLen || g.Caps&CapPluginAuth == 0 || bytes.IndexByte([]byte(g.Version+g.Plugin), 0) >= 0 {
			return
		}
		again, err := ParseGreeting(g.Encode())
		if err != nil || again.ConnID != g.ConnID || !bytes.Equal(again.Scramble, g.Scramble) || again.Plugin != g.Plugin {
			t.Fatalf("round trip %+v → %+v, %v", g, again, err)
		}
	})
}

func FuzzParseHandshakeResponse(f *testing.F) {
	r := &HandshakeResponse{Caps: ClientCaps | CapConnectWithDB, MaxPacket: MaxPacket, Charset: 45, User: "u",
		Auth: []byte{1, 2, 3}, DB: "db", Plugin: PluginNative, Attrs: map[string]string{"_client_name": "x"}}
	f.Add(r.Encode())
	f.Add(r.Encode()[:SSLRequestLen])
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _ = ParseHandshakeResponse(p)
		_, _, _ = ParseAuthSwitch(p)
		_, _, _, _ = ParsePrepareOK(p)
	})
}

// FuzzClientResult feeds arbitrary server bytes to the client's result
// reader, text and binary: it must end with a value or an error.
func FuzzClientResult(f *testing.F) {
	var s []byte
	frame := func(seq byte, p []byte) {
		s = append(s, byte(len(p)), byte(len(p)>>8), byte(len(p)>>16), seq)
		s = append(s, p...)
	}
	col := Column{Name: "a", Type: TypeLongLong, Charset: 63, Length: 20}
	frame(1, []byte{1})
	frame(2, col.Encode(nil))
	frame(3, []byte{1, '7'})
	frame(4, OK{Header: HdrEOF, Status: StatusAutocommit}.Encode(nil, ClientCaps))
	f.Add(s, false)
	f.Add(append([]byte{7, 0, 0, 1}, OK{AffectedRows: 1, Status: StatusStateChanged, SessionState: []byte{2, 1, '1'}}.Encode(nil, ClientCaps)...), true)
	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		c := &Client{pc: &PacketConn{r: framebuf.NewReader(bytes.NewReader(data), 4096), w: bufio.NewWriter(io.Discard)}, caps: ClientCaps}
		c.OnState = func(StateChange) {}
		r, err := c.readResult(binary)
		if err != nil {
			return
		}
		for range 1000 {
			if _, err := r.Next(); err != nil {
				break
			}
		}
		_ = r.Close()
	})
}

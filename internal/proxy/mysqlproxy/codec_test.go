package mysqlproxy

import (
	"bufio"
	"bytes"
	"reflect"
	"testing"
)

// bufConn returns a packetConn that writes into and reads from buf.
func bufConn(buf *bytes.Buffer) *packetConn {
	return &packetConn{r: bufio.NewReader(buf), w: bufio.NewWriter(buf)}
}

func TestPacketConn_Split(t *testing.T) {
	for _, n := range []int{0, 1, maxFrame - 1, maxFrame, maxFrame + 1, 2 * maxFrame} {
		var buf bytes.Buffer
		w := bufConn(&buf)
		want := bytes.Repeat([]byte{'q'}, n)
		if err := w.writePacket(want); err != nil {
			t.Fatal(err)
		}
		if err := w.flush(); err != nil {
			t.Fatal(err)
		}
		frames := n/maxFrame + 1
		if got := buf.Len(); got != n+4*frames {
			t.Fatalf("n=%d: %d bytes on the wire, want %d", n, got, n+4*frames)
		}
		r := bufConn(&buf)
		r.strictSeq = true
		got, err := r.readPacket()
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
	r.strictSeq = true
	if _, err := r.readPacket(); err == nil {
		t.Fatal("out-of-sequence frame accepted")
	}
}

func TestOKPacket_RoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ok   okPacket
		caps uint32
	}{
		{"plain", okPacket{affectedRows: 3, lastInsertID: 1 << 40, status: statusAutocommit, warnings: 2}, capProtocol41},
		{"info", okPacket{status: statusInTrans, info: []byte("Rows matched: 1")}, capProtocol41},
		{"tracked", okPacket{status: statusStateChanged, info: []byte{}, sessionState: []byte{2, 1, '1'}}, capSessionTrack},
		{"eof header", okPacket{header: hdrEOF, status: statusMoreResults}, capSessionTrack},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.ok.encode(nil, tc.caps)
			got, err := parseOK(p, tc.caps&capSessionTrack != 0)
			if err != nil {
				t.Fatal(err)
			}
			if got.affectedRows != tc.ok.affectedRows || got.lastInsertID != tc.ok.lastInsertID || got.status != tc.ok.status ||
				!bytes.Equal(got.info, tc.ok.info) || !bytes.Equal(got.sessionState, tc.ok.sessionState) {
				t.Fatalf("got %+v, want %+v", got, tc.ok)
			}
		})
	}
	t.Run("session state stripped for clients without tracking", func(t *testing.T) {
		ok := okPacket{status: statusStateChanged | statusAutocommit, sessionState: []byte{2, 1, '1'}}
		got, err := parseOK(ok.encode(nil, capProtocol41), false)
		if err != nil || got.status != statusAutocommit || len(got.info) != 0 {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
}

func TestGreeting_RoundTrip(t *testing.T) {
	want := &greeting{version: "10.11.19-MariaDB", connID: 77, scramble: newScramble(), caps: serverCaps | capSSL,
		charset: defaultCharset, status: statusAutocommit, plugin: pluginSHA2}
	got, err := parseGreeting(want.encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestHandshakeResponse_RoundTrip(t *testing.T) {
	want := &handshakeResponse{caps: backendCaps | capConnectWithDB, maxPacket: 1 << 24, charset: 8, user: "app",
		auth: []byte("0123456789abcdefghij"), db: "shop", plugin: pluginNative, attrs: map[string]string{"_os": "linux"}}
	got, err := parseHandshakeResponse(want.encode())
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
	sc, err := parseSessionState(names)
	if err != nil || !sc.changed || len(sc.vars) != 2 || !sc.explained() {
		t.Fatalf("SET NAMES: %+v %v", sc, err)
	}
	sc, err = parseSessionState([]byte("\x01\x06\x05mysql\x02\x011"))
	if err != nil || sc.schema != "mysql" || !sc.explained() {
		t.Fatalf("USE: %+v %v", sc, err)
	}
	sc, err = parseSessionState([]byte("\x02\x011")) // SET @a = 1
	if err != nil || !sc.changed || sc.explained() {
		t.Fatalf("user variable: %+v %v", sc, err)
	}
}

func TestReplaySQL(t *testing.T) {
	base := vars{"time_zone": "SYSTEM", "character_set_client": "utf8mb4", "collation_connection": "utf8mb4_general_ci", "wait_timeout": "28800"}
	tests := []struct {
		name       string
		want, have vars
		sql        string
	}{
		{"equal", vars{}, vars{}, ""},
		{"client differs", vars{"time_zone": "+01:00"}, vars{}, "SET SESSION time_zone='+01:00'"},
		{"backend dirty", vars{}, vars{"time_zone": "+01:00"}, "SET SESSION time_zone='SYSTEM'"},
		{"integers unquoted", vars{"wait_timeout": "10"}, vars{}, "SET SESSION wait_timeout=10"},
		{"collation last", vars{"collation_connection": "latin1_bin", "character_set_client": "latin1"}, vars{}, "SET SESSION character_set_client='latin1', collation_connection='latin1_bin'"},
		{"quotes escaped", vars{"time_zone": "a'b"}, vars{}, `SET SESSION time_zone='a\'b'`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := replaySQL(tc.want, tc.have, base); got != tc.sql {
				t.Fatalf("got %q, want %q", got, tc.sql)
			}
		})
	}
}

func TestScanSQL(t *testing.T) {
	tests := []struct {
		sql, pin string
		lii      bool
	}{
		{"SELECT 1", "", false},
		{"SET @a = 1", "user variable", false},
		{"SELECT @@autocommit, @@session.sql_mode", "", false},
		{"SELECT '@x', `a@b` -- @c\n", "", false},
		{"GRANT SELECT ON *.* TO 'u'@'localhost'", "", false},
		{"CREATE TEMPORARY TABLE t (id int)", "temporary table", false},
		{"lock tables t write", "LOCK TABLES", false},
		{"FLUSH TABLES WITH READ LOCK", "FLUSH TABLES WITH READ LOCK", false},
		{"SELECT GET_LOCK('k', 1)", "GET_LOCK", false},
		{"PREPARE s FROM 'SELECT 1'", "PREPARE statement", false},
		{"SELECT SQL_CALC_FOUND_ROWS * FROM t", "SQL_CALC_FOUND_ROWS", false},
		{"SELECT LAST_INSERT_ID()", "", true},
		{"/*!40101 SET @OLD=@@X */", "user variable", false},
		{"SELECT 1 /* GET_LOCK( */", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			got := scanSQL([]byte(tc.sql))
			if got.pin != tc.pin || got.usesLastInsertID != tc.lii {
				t.Fatalf("got %+v, want pin %q lii %v", got, tc.pin, tc.lii)
			}
		})
	}
	if d := digest([]byte("SET @a = 'secret', @b = 42")); d != "SET @a = ?, @b = ?" {
		t.Fatalf("digest %q", d)
	}
}

func TestParseKill(t *testing.T) {
	tests := []struct {
		sql  string
		want killStmt
		ok   bool
	}{
		{"KILL 5", killStmt{id: 5}, true},
		{"kill query 12;", killStmt{id: 12, queryOnly: true}, true},
		{"KILL HARD CONNECTION 3", killStmt{id: 3}, true},
		{"KILL USER bob", killStmt{}, false},
		{"KILL QUERY ID 4", killStmt{}, false},
		{"SELECT 1", killStmt{}, false},
	}
	for _, tc := range tests {
		got, ok := parseKill([]byte(tc.sql))
		if ok != tc.ok || got != tc.want {
			t.Fatalf("%q: got %+v %v", tc.sql, got, ok)
		}
	}
}

func TestRewriteExecute(t *testing.T) {
	cs := &clientStmt{params: 2}
	first := []byte{comStmtExecute, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0x00, 1, 8, 0, 253, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 'x'}
	out, err := rewriteExecute(first, 3, cs)
	if err != nil || out[1] != 3 || !bytes.Equal(cs.types, []byte{8, 0, 253, 0}) {
		t.Fatalf("first execute: %v %v %v", out, err, cs.types)
	}
	again := []byte{comStmtExecute, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0x00, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 'y'}
	out, err = rewriteExecute(again, 4, cs)
	want := []byte{comStmtExecute, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0x00, 1, 8, 0, 253, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 'y'}
	if err != nil || !bytes.Equal(out, want) {
		t.Fatalf("rebind: %v %v", out, err)
	}
}

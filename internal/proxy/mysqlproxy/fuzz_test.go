package mysqlproxy

import (
	"bufio"
	"bytes"
	"testing"
)

// Fuzz targets for every decoder of client- and server-sent bytes (T15).
// Run one with: go test -run ^$ -fuzz FuzzParseOK -fuzztime 1m

func FuzzReadPacket(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, comQuit})
	f.Add([]byte{0xff, 0xff, 0xff, 0, 1, 0, 0, 1, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &packetConn{r: bufio.NewReader(bytes.NewReader(data))}
		for range 8 {
			if _, err := c.readPacket(); err != nil {
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
		ok, err := parseOK(p, track)
		if err != nil {
			return
		}
		caps := capProtocol41
		if track {
			caps |= capSessionTrack
		}
		again, err := parseOK(ok.encode(nil, caps), track)
		if err != nil {
			t.Fatalf("re-encoded OK does not parse: %v", err)
		}
		if again.affectedRows != ok.affectedRows || again.lastInsertID != ok.lastInsertID || again.warnings != ok.warnings {
			t.Fatalf("round trip changed %+v to %+v", ok, again)
		}
		if ok.sessionState != nil {
			_, _ = parseSessionState(ok.sessionState)
		}
	})
}

func FuzzParseSessionState(f *testing.F) {
	f.Add([]byte("\x00 \x18character_set_connection\x06latin1\x00\x1c\x14character_set_client\x06latin1\x02\x011"))
	f.Add([]byte("\x01\x06\x05mysql\x04\x01\x00\x05\t\bT_______"))
	f.Fuzz(func(t *testing.T, p []byte) {
		sc, err := parseSessionState(p)
		if err == nil {
			_ = sc.explained()
			v := vars{}
			v.apply(sc)
			_ = replaySQL(v, vars{}, vars{})
		}
	})
}

func FuzzParseHandshakeResponse(f *testing.F) {
	r := &handshakeResponse{caps: backendCaps | capConnectWithDB, maxPacket: 1 << 24, charset: 45, user: "app",
		auth: []byte("0123456789abcdefghij"), db: "db", plugin: pluginNative, attrs: map[string]string{"a": "b"}}
	f.Add(r.encode())
	f.Add(r.encode()[:sslRequestLen])
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := parseHandshakeResponse(p)
		if err != nil {
			return
		}
		if r.caps&capPluginAuthLenenc != 0 {
			again, err := parseHandshakeResponse(r.encode())
			if err != nil || again.user != r.user || !bytes.Equal(again.auth, r.auth) {
				t.Fatalf("round trip: %+v → %+v, %v", r, again, err)
			}
		}
	})
}

func FuzzParseGreeting(f *testing.F) {
	g := &greeting{version: "10.11", connID: 1, scramble: newScramble(), caps: serverCaps, charset: 45, plugin: pluginNative}
	f.Add(g.encode())
	f.Fuzz(func(t *testing.T, p []byte) { _, _ = parseGreeting(p) })
}

func FuzzParseChangeUser(f *testing.F) {
	f.Add([]byte("\x11app\x00\x1401234567890123456789db\x00\x2d\x00mysql_native_password\x00"), uint32(serverCaps))
	f.Fuzz(func(t *testing.T, p []byte, caps uint32) {
		if len(p) > 0 {
			_, _, _, _, _, _ = parseChangeUser(p, caps)
		}
	})
}

func FuzzRewriteExecute(f *testing.F) {
	f.Add([]byte{comStmtExecute, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0x00, 1, 8, 0, 253, 0}, uint16(2))
	f.Fuzz(func(t *testing.T, p []byte, params uint16) {
		cs := &clientStmt{params: params % 512}
		_, _ = rewriteExecute(p, 1, cs)
		_, _ = rewriteExecute(p, 1, cs)
	})
}

func FuzzScanSQL(f *testing.F) {
	for _, s := range []string{"SET @a=1", "SELECT '\\'' /*! GET_LOCK(*/", "KILL QUERY 5", "-- x\n#y\nLOCK TABLE t"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, sql []byte) {
		_ = scanSQL(sql)
		_ = digest(sql)
		_, _ = parseKill(sql)
	})
}

func FuzzBackendPackets(f *testing.F) {
	f.Add([]byte("\xff\x15\x04#28000Access denied"))
	f.Add([]byte("\xfecaching_sha2_password\x00abcdefghijabcdefghij\x00"))
	f.Add([]byte("\x00\x01\x00\x00\x00\x02\x00\x01\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		_ = parseErr(p)
		_, _, _ = parseAuthSwitch(p)
		_, _ = parsePrepareOK(p)
		_, _, _ = parseEOF(p)
		_, _ = textRow(p, 3)
	})
}

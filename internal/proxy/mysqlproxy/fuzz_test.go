package mysqlproxy

import (
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// Fuzz targets for the proxy's own decoders of client- and server-sent
// bytes (the packet codec's are in internal/mysqlwire).
// Run one with: go test -run ^$ -fuzz FuzzParseOK -fuzztime 1m

func FuzzParseSessionState(f *testing.F) {
	f.Add([]byte("\x00 \x18character_set_connection\x06latin1\x00\x1c\x14character_set_client\x06latin1\x02\x011"))
	f.Add([]byte("\x01\x06\x05mysql\x04\x01\x00\x05\t\bT_______"))
	f.Fuzz(func(t *testing.T, p []byte) {
		sc, err := mysqlwire.ParseSessionState(p)
		if err == nil {
			_ = explained(sc)
			v := vars{}
			v.apply(sc)
			_ = replaySQL(v, vars{}, vars{})
		}
	})
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
	f.Add([]byte{mysqlwire.ComStmtExecute, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0x00, 1, 8, 0, 253, 0}, uint16(2))
	f.Fuzz(func(t *testing.T, p []byte, params uint16) {
		cs := &clientStmt{params: params % 512}
		var scratch []byte
		_, _ = rewriteExecute(p, 1, cs, &scratch)
		_, _ = rewriteExecute(p, 1, cs, &scratch)
	})
}

func FuzzScanSQL(f *testing.F) {
	for _, s := range []string{"SET @a=1", "SELECT '\\'' /*! GET_LOCK(*/", "KILL QUERY 5", "-- x\n#y\nLOCK TABLE t"} {
		f.Add([]byte(s))
	}
	for _, s := range []string{"select c from sbtest1 where id=7", "LOCK TABLE\u017f t READ", " kill 3", "\u00a0KILL 4", "Kil 5",
		"call p()", "create temporary table t (a int)", "select ab\u0131s(1)"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, sql []byte) {
		r := scanSQL(sql)
		if r.pipeable() && (r.multi || r.pin != "" || r.routine) {
			t.Fatalf("pipeable with state or several statements: %+v", r)
		}
		// Reading words through the known-word tables decides as reading
		// every word with strings.ToUpper does; only the text of a verb
		// the scan compares with nothing differs.
		want := scanWords(sql, func(w []byte, _ bool) string { return strings.ToUpper(string(w)) })
		if _, plain := plainWords[want.verb]; !plain && r.verb == otherWord {
			want.verb = otherWord
		}
		if r != want {
			t.Fatalf("scanSQL(%q) = %+v, reading words with strings.ToUpper gives %+v", sql, r, want)
		}
		_ = digest(sql)
		k, ok := parseKill(sql)
		if wk, wok := parseKillFields(sql); k != wk || ok != wok {
			t.Fatalf("parseKill(%q) = %+v, %v; without the first-word check %+v, %v", sql, k, ok, wk, wok)
		}
	})
}

func FuzzBackendPackets(f *testing.F) {
	f.Add([]byte("\xff\x15\x04#28000Access denied"))
	f.Add([]byte("\x00\x01\x00\x00\x00\x02\x00\x01\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		e := parseErr(p)
		if again := parseErr(e.Packet()); again.Code != e.Code || again.Msg != e.Msg {
			t.Fatalf("round trip: %+v → %+v", e, again)
		}
	})
}

package pgproxy

import (
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// fuzzServer runs, until the fuzz test ends, a proxy with an unreachable
// database and cached server parameters, so arbitrary client bytes reach
// every local code path.
func fuzzServer(f *testing.F) string {
	cl := config.Cluster{Name: "fuzz", Engine: "postgres", Address: "127.0.0.1:1", TLS: config.ClusterTLS{Mode: "disable"},
		Proxy: &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{"app"}, IAMAuth: "required",
			MaxClientConnections: 1000, BorrowTimeout: 50 * time.Millisecond, IdleClientTimeout: time.Second}}
	srv, err := New(proxy.Deps{Cluster: cl, DataDir: f.TempDir(), Budget: proxytest.NewBudget(2), Tokens: proxytest.Tokens{},
		Secrets: proxytest.NewSecrets(map[string]string{"app": `{"username":"u","password":"p"}`}),
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	srv.dial.params = map[string]string{"server_version": "15.0", "client_encoding": "UTF8"}
	return testdb.Serve(f, srv)
}

func startupPacket(params ...string) []byte {
	body := binary.BigEndian.AppendUint32(nil, protocol30)
	for _, p := range params {
		body = append(append(body, p...), 0)
	}
	body = append(body, 0)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body)+4)), body...)
}

// FuzzFrontend feeds arbitrary bytes to a session: as the start-up packet
// when the first byte is 0, else as messages after a successful login.
// The server must never panic or hang.
func FuzzFrontend(f *testing.F) {
	login := append(startupPacket("user", "u", "database", "d"), appendFrame(nil, 'p', []byte(proxytest.Token("u")), []byte{0})...)
	seeds := [][]byte{
		appendFrame(nil, 'Q', []byte("select 1"), []byte{0}),
		appendFrame(nil, 'Q', []byte("deallocate s1; set search_path = x; listen y"), []byte{0}),
		append(appendFrame(nil, 'P', []byte("s1\x00select $1\x00\x00\x01\x00\x00\x00\x17")), appendFrame(nil, 'S')...),
		append(appendFrame(nil, 'B', []byte("\x00s1\x00\x00\x00\x00\x00\x00\x00")), appendFrame(nil, 'S')...),
		append(appendFrame(nil, 'C', []byte("Ss1\x00")), appendFrame(nil, 'H')...),
		appendFrame(nil, 'D', []byte("S\x00")),
		{'X', 0, 0, 0, 4},
		{'P', 0xff, 0xff, 0xff, 0xff},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add(append([]byte{0}, startupPacket("user", "u", "options", "-c a=b --c=d")...))
	f.Add([]byte{0, 0, 0, 0, 8, 4, 210, 22, 47})
	addr := fuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		in := append(append([]byte(nil), login...), data...)
		if len(data) > 0 && data[0] == 0 {
			in = data[1:]
		}
		go func() {
			_, _ = c.Write(in)
			_ = c.(*net.TCPConn).CloseWrite() // EOF ends the session
		}()
		_, _ = io.Copy(io.Discard, c)
	})
}

// FuzzClassify: the SQL classifier never panics.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"set search_path = a", "SELECT set_config('x', $1, false)", "declare c cursor with hold for select 1",
		"/* x /* y */ */ create temp table t() on commit drop", "select $$;$$; listen x", "E'\\''; prepare p as select 1", "set_config(",
		"DO $$BEGIN EXECUTE 'SET ROLE r'; END$$", "select f(1) into temp t", "create table pg_temp.x(a int)", "select (", "into",
		"select set_config('a', 'b', false), set_config('role', x, false)",
		"SELECT abalance FROM pgbench_accounts WHERE aid = 1;", " update t set a = 1 ; ", "set x = 1;", "select 1; -", ";", " ; select 1",
		"select 1;;", "*", "123 ;\n", "SELECT 1 -- c", "Delete from t where a=b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := classify(s)
		m, _ := scanText(s)
		if want := marksBySearch(s); m != want {
			t.Fatalf("scanText(%q) marks %b, a search per text finds %b", s, m, want)
		}
		// The plain-text shortcut answers as the lexer would.
		if want := classifyFull(s, m); !reflect.DeepEqual(got, want) {
			t.Fatalf("classify(%q) = %+v, the full reading gives %+v", s, got, want)
		}
	})
}

// marksBySearch is scanText's marks found the slow, obvious way: one search per
// text in a copy of s with its ASCII letters lower-cased.
func marksBySearch(s string) marks {
	lower := []byte(s)
	for i, c := range lower {
		if c >= 'A' && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	var m marks
	if strings.IndexByte(s, '(') >= 0 {
		m |= markParen
	}
	for _, t := range markTexts {
		if strings.Contains(string(lower), t.text) {
			m |= t.m
		}
	}
	return m
}

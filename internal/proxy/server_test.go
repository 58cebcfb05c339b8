package proxy

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/metrics"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// echoHandler answers each line with the same line; a line "boom" panics,
// standing in for a codec bug reached by one client's bytes.
type echoHandler struct{}

func (echoHandler) ServeSession(ctx context.Context, sess *Session) error {
	r := bufio.NewReader(sess.Conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if strings.TrimSpace(line) == "boom" {
			panic("BUG: decoder reached an impossible state")
		}
		if _, err := sess.Conn.Write([]byte(line)); err != nil {
			return err
		}
	}
}

func (echoHandler) Reject(net.Conn, error) {}

func TestServer_Serve_panicEndsOnlyThatSession(t *testing.T) {
	reg := metrics.NewRegistry()
	logs := &testdb.LogBuffer{}
	srv, err := NewServer(Deps{
		Cluster: config.Cluster{Name: "c", Engine: "postgres",
			Proxy: &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{"s"}, IAMAuth: "disabled"}},
		DataDir: t.TempDir(), Metrics: reg, Log: slog.New(slog.NewTextHandler(logs, nil)),
	}, echoHandler{})
	if err != nil {
		t.Fatal(err)
	}
	testdb.Serve(t, srv)

	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		t.Cleanup(func() { _ = c.Close() })
		return c, bufio.NewReader(c)
	}
	echo := func(c net.Conn, r *bufio.Reader, msg string) (string, error) {
		if _, err := c.Write([]byte(msg + "\n")); err != nil {
			return "", err
		}
		got, err := r.ReadString('\n')
		return strings.TrimSpace(got), err
	}

	survivor, sr := dial()
	if got, err := echo(survivor, sr, "before"); err != nil || got != "before" {
		t.Fatalf("echo before = %q, %v", got, err)
	}
	victim, vr := dial()
	if _, err := echo(victim, vr, "boom"); err == nil {
		t.Fatal("the panicking session was not closed")
	}
	if got, err := echo(survivor, sr, "after"); err != nil || got != "after" {
		t.Fatalf("the other session died with the panic: %q, %v", got, err)
	}
	fresh, fr := dial()
	if got, err := echo(fresh, fr, "new"); err != nil || got != "new" {
		t.Fatalf("no new sessions after the panic: %q, %v", got, err)
	}
	var out bytes.Buffer
	reg.Write(&out)
	if !strings.Contains(out.String(), `sqlgate_proxy_errors_total{cluster="c",kind="panic"} 1`) {
		t.Errorf("panic not counted:\n%s", out.String())
	}
	if !strings.Contains(logs.String(), "session panic") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("panic not logged with its stack: %s", logs.String())
	}
}

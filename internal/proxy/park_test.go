package proxy

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/metrics"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// freshHandler echoes lines like echoHandler; a session that starts while
// the endpoint is crowded parks first and echoes once its client sends.
type freshHandler struct{ echoHandler }

func (h freshHandler) ServeSession(ctx context.Context, sess *Session) error {
	if sess.Crowded() {
		if err := sess.ParkFresh(func(ctx context.Context) error { return h.echoHandler.ServeSession(ctx, sess) }); err == nil {
			return ErrParked
		}
	}
	return h.echoHandler.ServeSession(ctx, sess)
}

// Sessions that start while more than the crowded bound are awake park
// before their first message, are served when it comes, and the count of
// awake sessions follows parks, wake-ups and ends.
func TestSession_ParkFresh(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sessions park on Linux only")
	}
	srv, err := NewServer(Deps{
		Cluster: config.Cluster{Name: "c", Engine: "postgres",
			Proxy: &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{"s"}, IAMAuth: "disabled"}},
		DataDir: t.TempDir(), Metrics: metrics.NewRegistry(), Log: slog.New(slog.DiscardHandler),
	}, freshHandler{})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetCrowded(2)
	testdb.Serve(t, srv)
	parked := func() (n int) {
		for _, sess := range srv.snapshot(nil) {
			if sess.Parked() {
				n++
			}
		}
		return n
	}
	type client struct {
		c net.Conn
		r *bufio.Reader
	}
	echo := func(cl client, msg string) {
		t.Helper()
		if _, err := cl.c.Write([]byte(msg + "\n")); err != nil {
			t.Fatal(err)
		}
		if got, err := cl.r.ReadString('\n'); err != nil || strings.TrimSpace(got) != msg {
			t.Fatalf("echo of %q = %q, %v", msg, got, err)
		}
	}
	var clients []client
	for i := range 5 {
		c, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		defer c.Close()
		cl := client{c, bufio.NewReader(c)}
		clients = append(clients, cl)
		if i < 2 {
			echo(cl, "awake") // served on its goroutine
			continue
		}
		testdb.Eventually(t, 5*time.Second, 5*time.Millisecond, "a session parked after it started", func() bool { return parked() == i-1 })
	}
	if n := srv.awake.Load(); n != 2 {
		t.Fatalf("%d sessions awake, want 2", n)
	}
	for _, cl := range clients {
		echo(cl, "hello")
	}
	if n := parked(); n != 0 {
		t.Fatalf("%d sessions still parked after their clients sent", n)
	}
	if n := srv.awake.Load(); n != 5 {
		t.Fatalf("%d sessions awake, want 5", n)
	}
	for _, cl := range clients {
		_ = cl.c.Close()
	}
	testdb.Eventually(t, 5*time.Second, 5*time.Millisecond, "every session ended", func() bool {
		all, _ := srv.clientCounts()
		return all == 0 && srv.awake.Load() == 0
	})
}

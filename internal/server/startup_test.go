package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/state"
)

// silentListener accepts TCP connections and never answers: a PostgreSQL
// state store that hangs. Each accepted connection is reported on accepted.
func silentListener(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			conns = append(conns, c)
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { _ = l.Close(); <-done })
	return l.Addr().String(), ch
}

func TestNew_HungStateStoreGivesUpOnCancel(t *testing.T) {
	addr, accepted := silentListener(t)
	cfg := configFor()
	cfg.State = config.State{Driver: "postgres", DSN: "postgres://sqlgate@" + addr + "/state?sslmode=disable"}
	cfg.DataDir = t.TempDir()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		srv *Server
		err error
	}
	res := make(chan result, 1)
	go func() {
		srv, err := New(ctx, cfg, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: io.Discard})
		res <- result{srv, err}
	}()
	select {
	case <-accepted: // start-up is now waiting on the silent store
	case r := <-res:
		t.Fatalf("New returned before reaching the state store: %v", r.err)
	}
	cancel() // as SIGTERM does in sqlgate serve
	var r result
	select {
	case r = <-res:
	case <-time.After(10 * time.Second):
		t.Fatal("New did not give up after its context was cancelled")
	}
	if r.err == nil {
		r.srv.Close()
		t.Fatal("New succeeded against a state store that never answers")
	}
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("error does not wrap context.Canceled: %v", r.err)
	}
	t.Logf("start-up error: %v", r.err)
	// It let go of the data dir: another start may lock it.
	unlock, err := state.LockDir(cfg.DataDir)
	if err != nil {
		t.Fatalf("data dir still locked after a failed start: %v", err)
	}
	unlock()
}

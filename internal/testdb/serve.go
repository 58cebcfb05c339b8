package testdb

import (
	"context"
	"net"
	"testing"
	"time"
)

// Server is a listening server under test (the proxies' servers).
type Server interface {
	Listen() error
	Serve(ctx context.Context) error
	Shutdown(ctx context.Context) error
	Addr() net.Addr
}

// Serve listens and serves srv until the test ends, then shuts it down
// and waits for Serve to return. It returns the listening address.
func Serve(t testing.TB, srv Server) string {
	t.Helper()
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		cancel()
		<-done
	})
	return srv.Addr().String()
}

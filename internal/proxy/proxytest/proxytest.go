// Package proxytest holds what the wire proxies' tests share: fakes of the
// proxy.Deps services (secrets, IAM tokens, the connection budget), a
// helper that runs a proxy server for the length of a test, and a fault
// relay between a proxy and its database (relay.go). Only tests import it.
package proxytest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// SecretARN is the ARN Secrets reports for a secret id.
func SecretARN(id string) string { return "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + id }

// Secrets is a proxy.SecretReader over a map of secret id → SecretString.
type Secrets struct {
	mu sync.Mutex // guards m
	m  map[string]string
}

// NewSecrets returns Secrets holding m (id → SecretString JSON).
func NewSecrets(m map[string]string) *Secrets { return &Secrets{m: m} }

// SecretString returns the secret's ARN and value.
func (s *Secrets) SecretString(_ context.Context, id string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok {
		return "", "", errors.New("secret not found")
	}
	return SecretARN(id), v, nil
}

// Set replaces a secret's value (a rotation).
func (s *Secrets) Set(id, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[id] = value
}

var _ proxy.SecretReader = (*Secrets)(nil)

// Tokens is a proxy.TokenVerifier accepting exactly Token(user) for user.
type Tokens struct{}

// Token is the IAM database auth token Tokens accepts for user.
func Token(user string) string {
	return "127.0.0.1:5432/?Action=connect&DBUser=" + user + "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ok-" + user
}

// VerifyDBToken accepts Token(user).
func (Tokens) VerifyDBToken(_ context.Context, token, _, user string) error {
	if token != Token(user) {
		return errors.New("bad signature")
	}
	return nil
}

var _ proxy.TokenVerifier = Tokens{}

// Budget is a proxy.Budget of a fixed number of slots (testdb.Budget,
// which the proxy package's own tests use too).
type Budget = testdb.Budget

// NewBudget returns a Budget of n slots.
func NewBudget(n int) *Budget { return testdb.NewBudget(n) }

var _ proxy.Budget = (*Budget)(nil)

// Logger returns a debug-level text logger writing into a new buffer.
func Logger() (*slog.Logger, *testdb.LogBuffer) {
	buf := &testdb.LogBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// Peak samples f every millisecond until the returned stop is called,
// which returns the largest value seen.
func Peak(f func() int64) (stop func() int64) {
	var peak atomic.Int64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := f(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(quit)
		<-done
		return peak.Load()
	}
}

// WaitClosed waits until the peer closes nc, reading and dropping what it
// sends before (a goodbye error message).
func WaitClosed(tb testing.TB, nc net.Conn) {
	tb.Helper()
	buf := make([]byte, 512)
	testdb.Eventually(tb, 10*time.Second, time.Millisecond, "the peer closes the connection", func() bool {
		_ = nc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		_, err := nc.Read(buf)
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	})
}

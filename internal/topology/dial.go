package topology

import (
	"context"
	"sync"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// Engines keeps one engine per instance address, so health checks dial
// each instance with the cluster's engine settings (TLS, timeouts).
type Engines struct {
	open  func(address string) engine.Engine
	login func(ctx context.Context) (engine.Credentials, error)

	mu   sync.Mutex // guards byAd
	byAd map[string]engine.Engine
}

// NewEngines returns Engines that make an engine with open and log in
// with the credentials login returns at each check (a secret may rotate).
func NewEngines(open func(address string) engine.Engine, login func(ctx context.Context) (engine.Credentials, error)) *Engines {
	return &Engines{open: open, login: login, byAd: map[string]engine.Engine{}}
}

// Dial implements Dial.
func (e *Engines) Dial(ctx context.Context, address string) (engine.Conn, error) {
	creds, err := e.login(ctx)
	if err != nil {
		return nil, err
	}
	return e.engine(address).Connect(ctx, creds)
}

func (e *Engines) engine(address string) engine.Engine {
	e.mu.Lock()
	defer e.mu.Unlock()
	eng, ok := e.byAd[address]
	if !ok {
		eng = e.open(address)
		e.byAd[address] = eng
	}
	return eng
}

// Close closes every engine.
func (e *Engines) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for a, eng := range e.byAd {
		_ = eng.Close()
		delete(e.byAd, a)
	}
}

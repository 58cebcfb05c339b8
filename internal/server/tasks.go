package server

import (
	"sync"
)

// tasks tracks the goroutines the server starts, so shutdown can wait for
// every one of them before it closes what they use (pools, state store).
type tasks struct {
	wg sync.WaitGroup
}

// Go runs fn on a new goroutine tracked by Wait.
func (t *tasks) Go(fn func()) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		fn()
	}()
}

// Wait blocks until every goroutine started by Go has returned.
func (t *tasks) Wait() { t.wg.Wait() }

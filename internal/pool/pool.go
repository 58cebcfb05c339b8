// Package pool keeps backend connections for one cluster. Connections are
// grouped by login (user, password, database) and all groups draw from one
// budget, the cluster's max_connections, so the database never sees more
// connections from sqlgate than its operator allowed, whichever door the
// load comes through (docs/architecture.md). A cluster with instances has
// one such budget per instance (Instances).
package pool

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// ErrExhausted is returned by Borrow when no connection became free within
// the borrow timeout.
var ErrExhausted = errors.New("connection pool exhausted")

// ErrClosed is returned by Borrow after Close.
var ErrClosed = errors.New("pool closed")

// Config tunes a Pool.
type Config struct {
	Max         int           // connection budget (>= 1)
	IdleTimeout time.Duration // close connections idle longer (0 = 5m)
	MaxLifetime time.Duration // close connections older (0 = 1h)
}

// Stats is a snapshot for metrics.
type Stats struct {
	Busy, Idle, Waiting int
}

type key [sha256.Size]byte

func keyOf(c engine.Credentials) key {
	h := sha256.New()
	h.Write([]byte(c.User))
	h.Write([]byte{0})
	h.Write([]byte(c.Password))
	h.Write([]byte{0})
	h.Write([]byte(c.Database))
	var k key
	h.Sum(k[:0])
	return k
}

// Conn is a borrowed backend connection. Return it with Pool.Release.
type Conn struct {
	engine.Conn
	key     key
	created time.Time
	idleAt  time.Time
}

// Pool is the connection pool of one cluster.
type Pool struct {
	eng engine.Engine
	cfg Config

	mu      sync.Mutex // guards following fields
	idle    map[key][]*Conn
	nIdle   int
	open    int // idle + busy + connecting
	waiters []chan struct{}
	closed  bool
	lease   int // the node's share of Max (SetLease); -1 = no lease

	// over is open > limitLocked(), kept by wakeLocked and setLimits so
	// that Over is one atomic load on the proxies' hot path.
	over atomic.Bool

	stop chan struct{}
	done chan struct{}

	emu      sync.Mutex // guards evictors and waiting
	evictors []*evictor
	waiting  []*waitingFn // demand.go
}

// AddEvictor registers fn, which closes one idle connection that another
// component opened with Reserve (a proxy's idle backend connection) and
// reports whether it did. A request that finds the budget full asks the
// evictors before it waits, so idle proxy connections yield to the Data
// API (and lowering the budget closes them), as idle pooled connections
// yield to the proxies.
// The returned func unregisters it (a proxy stopped while sqlgate runs).
func (p *Pool) AddEvictor(fn func() bool) (remove func()) {
	e := &evictor{fn: fn}
	p.emu.Lock()
	defer p.emu.Unlock()
	p.evictors = append(p.evictors, e)
	return func() {
		p.emu.Lock()
		defer p.emu.Unlock()
		p.evictors = slices.DeleteFunc(p.evictors, func(x *evictor) bool { return x == e })
	}
}

// evictor is one registered evictor (a pointer, so it can be removed).
type evictor struct{ fn func() bool }

// evictOther asks the evictors to free one slot; the slot's release wakes
// the first waiter.
func (p *Pool) evictOther() bool {
	p.emu.Lock()
	evs := slices.Clone(p.evictors)
	p.emu.Unlock()
	for _, e := range evs {
		if e.fn() {
			return true
		}
	}
	return false
}

// New returns a pool over eng and starts its idle reaper.
func New(eng engine.Engine, cfg Config) *Pool {
	if cfg.Max < 1 {
		cfg.Max = 1
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = time.Hour
	}
	p := &Pool{eng: eng, cfg: cfg, idle: map[key][]*Conn{}, lease: -1, stop: make(chan struct{}), done: make(chan struct{})}
	go p.reap()
	return p
}

// Engine returns the engine the pool connects with.
func (p *Pool) Engine() engine.Engine { return p.eng }

// Borrow returns an idle connection for creds, or opens one when the budget
// allows, or waits until ctx is done. The caller must Release it.
func (p *Pool) Borrow(ctx context.Context, creds engine.Credentials) (*Conn, error) {
	k := keyOf(creds)
	for {
		c, wait, victim, err := p.take(k)
		if err != nil {
			return nil, err
		}
		if victim != nil {
			_ = victim.Close()
		}
		if c != nil {
			if p.healthy(ctx, c) {
				return c, nil
			}
			p.Discard(c)
			continue
		}
		if wait == nil {
			return p.connect(ctx, k, creds)
		}
		p.evictOther()
		select {
		case <-wait:
		case <-ctx.Done():
			p.dropWaiter(wait)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, ErrExhausted
			}
			return nil, ctx.Err()
		}
	}
}

// BorrowWithin is Borrow bounded by timeout, for callers on a hot path: a
// connection that sat idle for less than validateAfter is handed over
// without arming a timer or deriving a context; only a call that has to
// wait, connect or ping pays for them.
func (p *Pool) BorrowWithin(ctx context.Context, creds engine.Credentials, timeout time.Duration) (*Conn, error) {
	if c := p.takeFresh(keyOf(creds)); c != nil {
		return c, nil
	}
	bctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return p.Borrow(bctx, creds)
}

// takeFresh pops the most recently idled connection of k when it needs no
// health check, else returns nil.
func (p *Pool) takeFresh(k key) *Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[k]
	if p.closed || len(list) == 0 || time.Since(list[len(list)-1].idleAt) >= validateAfter {
		return nil
	}
	c := list[len(list)-1]
	p.idle[k] = list[:len(list)-1]
	p.nIdle--
	return c
}

// validateAfter is how long a connection may sit idle before it is pinged
// on borrow: a database restart kills idle connections silently, and a
// statement sent on a dead one would fail a request that a fresh
// connection would have served.
const validateAfter = time.Second

func (p *Pool) healthy(ctx context.Context, c *Conn) bool {
	if time.Since(c.idleAt) < validateAfter {
		return true
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.Ping(pctx) == nil
}

// take finds an idle conn for k, or reserves a slot (nil, nil), possibly
// evicting an idle conn of another login (victim), or returns a channel to wait on.
func (p *Pool) take(k key) (c *Conn, wait chan struct{}, victim *Conn, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nil, nil, ErrClosed
	}
	if list := p.idle[k]; len(list) > 0 {
		c = list[len(list)-1]
		p.idle[k] = list[:len(list)-1]
		p.nIdle--
		return c, nil, nil, nil
	}
	if p.open < p.limitLocked() {
		p.open++
		return nil, nil, nil, nil
	}
	if victim = p.popAnyIdleLocked(); victim != nil {
		return nil, nil, victim, nil // the victim's slot is now ours
	}
	wait = make(chan struct{})
	p.waiters = append(p.waiters, wait)
	return nil, wait, nil, nil
}

func (p *Pool) popAnyIdleLocked() *Conn { return p.popIdleLocked(nil) }

// popIdleLocked removes and returns the longest-idle connection match
// accepts (nil accepts all), or nil.
func (p *Pool) popIdleLocked(match func(engine.Conn) bool) *Conn {
	var oldest *Conn
	var ok key
	at := -1
	for k, list := range p.idle {
		for i, c := range list {
			if match != nil && !match(c.Conn) {
				continue
			}
			if oldest == nil || c.idleAt.Before(oldest.idleAt) {
				oldest, ok, at = c, k, i
			}
			break // the first accepted is the list's longest idle
		}
	}
	if oldest != nil {
		p.idle[ok] = slices.Delete(p.idle[ok], at, at+1)
		if len(p.idle[ok]) == 0 {
			delete(p.idle, ok)
		}
		p.nIdle--
	}
	return oldest
}

func (p *Pool) connect(ctx context.Context, k key, creds engine.Credentials) (*Conn, error) {
	ec, err := p.eng.Connect(ctx, creds)
	if err != nil {
		p.mu.Lock()
		p.open--
		p.wakeLocked()
		p.mu.Unlock()
		return nil, err
	}
	return &Conn{Conn: ec, key: k, created: time.Now()}, nil
}

// Release returns c to the pool. Broken, dirty (engine.Conn.Dirty: the
// caller resets a dirty connection first, as internal/exec does) or
// expired connections, all connections after Close, and connections
// above a lowered limit (SetMax, SetLease) are closed instead, so an idle
// connection never carries a caller's session state.
func (p *Pool) Release(c *Conn) {
	now := time.Now()
	dirty := c.Dirty()
	p.mu.Lock()
	if p.closed || dirty || c.Broken() || now.Sub(c.created) > p.cfg.MaxLifetime || p.open > p.limitLocked() {
		p.open--
		p.wakeLocked()
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	c.idleAt = now
	p.idle[c.key] = append(p.idle[c.key], c)
	p.nIdle++
	p.wakeLocked()
	p.mu.Unlock()
}

// Discard closes c without returning it (e.g. after a failed rollback).
func (p *Pool) Discard(c *Conn) {
	p.mu.Lock()
	p.open--
	p.wakeLocked()
	p.mu.Unlock()
	_ = c.Close()
}

func (p *Pool) wakeLocked() {
	p.over.Store(p.open > p.limitLocked())
	if len(p.waiters) > 0 {
		close(p.waiters[0])
		p.waiters = p.waiters[1:]
	}
}

func (p *Pool) dropWaiter(w chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.waiters {
		if x == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			return
		}
	}
	// Already woken: pass the wake-up on so it is not lost.
	p.wakeLocked()
}

// Stats returns busy, idle and waiting counts.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Busy: p.open - p.nIdle, Idle: p.nIdle, Waiting: len(p.waiters)}
}

// Close closes idle connections and makes busy ones close on Release.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	var drop []*Conn
	for _, list := range p.idle {
		drop = append(drop, list...)
	}
	p.open -= len(drop)
	p.idle, p.nIdle = map[key][]*Conn{}, 0
	for _, w := range p.waiters {
		close(w)
	}
	p.waiters = nil
	p.mu.Unlock()
	close(p.stop)
	<-p.done
	for _, c := range drop {
		_ = c.Close()
	}
}

func (p *Pool) reap() {
	defer close(p.done)
	t := time.NewTicker(p.cfg.IdleTimeout / 4)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.closeExpired(time.Now())
		}
	}
}

func (p *Pool) closeExpired(now time.Time) {
	p.mu.Lock()
	var drop []*Conn
	for k, list := range p.idle {
		keep := list[:0]
		for _, c := range list {
			if now.Sub(c.idleAt) > p.cfg.IdleTimeout || now.Sub(c.created) > p.cfg.MaxLifetime {
				drop = append(drop, c)
				continue
			}
			keep = append(keep, c)
		}
		if len(keep) == 0 {
			delete(p.idle, k)
		} else {
			p.idle[k] = keep
		}
	}
	p.nIdle -= len(drop)
	p.open -= len(drop)
	for range drop {
		p.wakeLocked()
	}
	p.mu.Unlock()
	for _, c := range drop {
		_ = c.Close()
	}
}

// Max returns the connection budget.
func (p *Pool) Max() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg.Max
}

// Reserve takes one slot of the connection budget for a connection that
// another component (the proxies) opens and manages itself, so that all
// doors share max_connections. Idle pooled connections are closed to make
// room; otherwise Reserve waits until ctx is done (ErrExhausted on its
// deadline). The returned release gives the slot back; call it once.
func (p *Pool) Reserve(ctx context.Context) (release func(), err error) {
	for {
		var wait chan struct{}
		var victim *Conn
		p.mu.Lock()
		switch {
		case p.closed:
			p.mu.Unlock()
			return nil, ErrClosed
		case p.open < p.limitLocked():
			p.open++
		default:
			if victim = p.popAnyIdleLocked(); victim == nil {
				wait = make(chan struct{})
				p.waiters = append(p.waiters, wait)
			}
		}
		p.mu.Unlock()
		if victim != nil {
			_ = victim.Close()
		}
		if wait != nil {
			p.evictOther()
		}
		if wait == nil {
			return p.slotRelease(), nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			p.dropWaiter(wait)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, ErrExhausted
			}
			return nil, ctx.Err()
		}
	}
}

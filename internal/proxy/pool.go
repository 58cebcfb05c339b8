package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sqlgate/sqlgate/internal/fairshare"
)

// Conn is a backend connection as the pool sees it. A front end resets a
// connection's session state before Put; the pool only closes connections.
type Conn interface {
	// Close closes the connection.
	Close() error
	// Broken reports that the connection must not be reused. It is asked
	// again before an idle connection is handed out (a replicated
	// cluster's writer may have moved meanwhile).
	Broken() bool
}

// DialFunc opens a backend connection logged in as login. Errors wrapping
// ErrBackendDown mean the database is unreachable; the pool then fails
// fast for PoolConfig.RetryDelay — unless the dial only timed out, which
// fails that borrow alone.
type DialFunc[C Conn] func(ctx context.Context, login Login) (C, error)

// PoolConfig tunes a Pool; zero values take the defaults in brackets.
type PoolConfig struct {
	BorrowTimeout time.Duration // wait for a connection [120s]
	IdleTimeout   time.Duration // close connections idle longer [5m]
	MaxLifetime   time.Duration // close connections older, on return [1h]
	RetryDelay    time.Duration // fail fast this long after a failed dial [1s]
	// Relogin, when set, gives the login to retry with once when the
	// database refuses a login (see LoginRefused), e.g.
	// Authenticator.Relogin while a secret rotates.
	Relogin func(ctx context.Context, failed Login) (Login, bool)
	// Shares bounds the connections one login user holds (the cluster's
	// per-principal limits, principal "dbuser:NAME"); nil bounds nothing.
	Shares *fairshare.Shares
	// Route, when set, chooses the instance of every borrow (a read-only
	// endpoint; see pool_route.go); nil dials what the DialFunc chooses.
	Route Route
}

// Pooled is a backend connection owned by a Pool.
type Pooled[C Conn] struct {
	Conn  C
	Login Login
	// ID numbers connections for logs ("dbConnection=ID").
	ID      uint64
	Created time.Time
	kd      *keyed[C] // its login key's state in the pool
	idleAt  time.Time
	release func() // budget slot
	// share is the borrower's slot of its per-principal share, held
	// while the connection is lent (see adopt).
	share fairshare.Slot
	// pick ends the borrower's Route pick (nil when not routed).
	pick func()
}

// adopt makes pc hold the borrower's share slot, giving back the one of
// the borrower it was handed over from.
func (pc *Pooled[C]) adopt(sl fairshare.Slot) {
	pc.share.Release()
	pc.share = sl
}

// FreeShare gives back the borrower's per-principal slot (PoolConfig.Shares)
// ahead of Put: a front end calls it once it has read the transaction's
// last reply and before it passes that reply on, since the client may
// send its next statement before the connection is back in the pool.
func (pc *Pooled[C]) FreeShare() { pc.adopt(fairshare.Slot{}) }

// principal is a login's name in the cluster's per-principal limits,
// cached with its pool key (see keyOf).
func (p *Pool[C]) principal(login Login) string { return p.cached(login).principal }

// tryShare takes one of the login user's connections if it is under its
// bound now (always, without PoolConfig.Shares).
func (p *Pool[C]) tryShare(login Login) (fairshare.Slot, bool) {
	if p.cfg.Shares == nil {
		return fairshare.Slot{}, true
	}
	return p.cfg.Shares.TryConnection(p.principal(login))
}

// IdleSince is when pc was last put in the idle list (zero if never): a
// connection handed straight from one borrower to the next skips it.
func (pc *Pooled[C]) IdleSince() time.Time { return pc.idleAt }

// PoolStats is a snapshot for metrics.
type PoolStats struct {
	Busy, Idle, Waiting int
}

// Pool keeps backend connections by login. Every connection holds one slot
// of the Budget, so proxies and the Data API together never exceed the
// cluster's max_connections.
type Pool[C Conn] struct {
	cfg    PoolConfig
	budget Budget
	// instances is budget as Instances when it is one (asserted once, not per borrow).
	instances Instances
	dial      DialFunc[C]
	ids       atomic.Uint64
	obs       func(wait time.Duration, err error)
	// lastKey caches the pool key of the last login (see keyOf).
	lastKey atomic.Pointer[loginKey[C]]
	// borrowTimeout and maxIdle are the settings SetBorrowTimeout and
	// SetMaxIdle change at run time (maxIdle -1 = no limit).
	borrowTimeout atomic.Int64
	maxIdle       atomic.Int64

	mu        sync.Mutex        // guards following fields
	keys      map[Key]*keyed[C] // idle, lent and waiting per login key
	nIdle     int
	busy      int
	nWait     int
	nQueued   int          // waiters with a Waiter (Enqueue), swept by the reaper
	spare     []*waiter[C] // served Enqueue waiters, reused by the next one
	downUntil time.Time
	downErr   error
	closed    bool

	// sweeping is set while the reaper's fast tick runs for queued
	// waiters (changed under mu); kick wakes the reaper to start it.
	sweeping atomic.Bool
	// unlist removes the pool from its Share's list (pool_instance.go).
	unlist func()
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

// NewPool returns a pool that opens connections with dial, each holding a
// slot of budget, and starts its idle reaper. observe (optional) is called
// after every Get with the wait and its error.
func NewPool[C Conn](cfg PoolConfig, budget Budget, dial DialFunc[C], observe func(time.Duration, error)) *Pool[C] {
	setDur(&cfg.BorrowTimeout, 120*time.Second)
	setDur(&cfg.IdleTimeout, 5*time.Minute)
	setDur(&cfg.MaxLifetime, time.Hour)
	setDur(&cfg.RetryDelay, time.Second)
	if observe == nil {
		observe = func(time.Duration, error) {}
	}
	p := &Pool[C]{cfg: cfg, budget: budget, dial: dial, obs: observe, keys: map[Key]*keyed[C]{}, kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	p.instances, _ = budget.(Instances)
	p.borrowTimeout.Store(int64(cfg.BorrowTimeout))
	p.maxIdle.Store(-1)
	p.unlist = func() {}
	if l, ok := budget.(poolLister); ok {
		p.unlist = l.list(p)
	}
	go p.reap()
	return p
}

func setDur(p *time.Duration, v time.Duration) {
	if *p <= 0 {
		*p = v
	}
}

// Get borrows a connection for login: an idle one, a new one when the budget
// has room, or the next one returned, waiting at most BorrowTimeout
// (ErrBorrowTimeout). While the database is down it fails fast with an
// error wrapping ErrBackendDown.
func (p *Pool[C]) Get(ctx context.Context, login Login) (*Pooled[C], error) {
	start := time.Now()
	sl, err := p.share(ctx, login, start)
	if err != nil {
		p.obs(time.Since(start), err)
		return nil, err
	}
	var pc *Pooled[C]
	if p.cfg.Route != nil {
		pc, err = p.getRouted(ctx, login, start)
	} else {
		pc, err = p.get(ctx, login, start)
	}
	p.obs(time.Since(start), err)
	if err != nil {
		sl.Release()
		return nil, err
	}
	pc.adopt(sl)
	return pc, nil
}

// share takes one of the login user's connections (PoolConfig.Shares),
// waiting for one of its own to come back until the borrow timeout; a
// refusal wraps fairshare.ErrLimit.
func (p *Pool[C]) share(ctx context.Context, login Login, start time.Time) (fairshare.Slot, error) {
	if sl, ok := p.tryShare(login); ok {
		return sl, nil
	}
	wctx, cancel := context.WithDeadline(ctx, start.Add(time.Duration(p.borrowTimeout.Load())))
	defer cancel()
	return p.cfg.Shares.Connection(wctx, p.principal(login))
}

func (p *Pool[C]) get(ctx context.Context, login Login, start time.Time) (*Pooled[C], error) {
	// Fast path, taken by nearly every borrow: an idle connection, with no
	// allocation and no timer.
	if pc, err := p.takeIdle(login); pc != nil || err != nil {
		return pc, err
	}
	borrowTimeout := time.Duration(p.borrowTimeout.Load())
	deadline := start.Add(borrowTimeout)
	budget, inst := p.budgetOf(login)
	if release, err := p.tryReserve(budget); err == nil {
		ctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		return p.connect(ctx, at(login, inst), p.keyOf(login), release)
	}
	// Queue for a returned connection. When the budget is full an idle
	// connection of another login is closed to free a slot (a Reserve
	// below then gets it). When connections of this login are busy one
	// usually comes back within moments: wait a little for it, with a
	// pooled timer and no context, before also reserving a budget slot;
	// whichever comes first wins.
	ch := make(chan *Pooled[C], 1)
	p.mu.Lock()
	if p.nIdle > 0 {
		p.evictOldestLocked()
	}
	kd := p.keyedLocked(login)
	kd.waiters = append(kd.waiters, &waiter[C]{ch: ch, login: login, since: start})
	p.nWait++
	busyHere := kd.busy > 0
	p.mu.Unlock()
	if busyHere {
		if pc, done, err := p.awaitHandoff(ctx, kd, ch, min(handoffWait, borrowTimeout)); done {
			return pc, err
		}
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	rctx, rcancel := context.WithCancel(ctx)
	type reserved struct {
		release func()
		err     error
	}
	resc := make(chan reserved, 1)
	go func() {
		r, err := budget.Reserve(rctx)
		resc <- reserved{r, err}
	}()
	finish := func() {
		rcancel()
		if r := <-resc; r.err == nil {
			r.release()
		}
	}
	select {
	case pc := <-ch:
		finish()
		return pc, nil
	case r := <-resc:
		rcancel()
		if pc := p.dropWaiter(kd, ch); pc != nil {
			if r.err == nil {
				r.release()
			}
			return pc, nil
		}
		if r.err == nil {
			return p.connect(ctx, at(login, inst), kd.key, r.release)
		}
		return nil, p.borrowErr(ctx, r.err)
	case <-ctx.Done():
		if pc := p.dropWaiter(kd, ch); pc != nil {
			finish()
			return pc, nil
		}
		finish()
		return nil, p.borrowErr(ctx, ctx.Err())
	}
}

// awaitHandoff waits up to d for a connection Put hands to ch. done is
// false when d passed with none (the waiter stays queued).
func (p *Pool[C]) awaitHandoff(ctx context.Context, kd *keyed[C], ch chan *Pooled[C], d time.Duration) (pc *Pooled[C], done bool, err error) {
	t := getTimer(d)
	defer putTimer(t)
	select {
	case pc := <-ch:
		return pc, true, nil
	case <-t.C:
		return nil, false, nil
	case <-ctx.Done():
		if pc := p.dropWaiter(kd, ch); pc != nil {
			return pc, true, nil
		}
		return nil, true, p.borrowErr(ctx, ctx.Err())
	}
}

// timerPool recycles the hand-off timers of Get (one per waiting borrow).
// Since Go 1.23 a stopped or reset timer delivers no stale tick.
var timerPool sync.Pool

func getTimer(d time.Duration) *time.Timer {
	if t, ok := timerPool.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

func putTimer(t *time.Timer) {
	t.Stop()
	timerPool.Put(t)
}

func (p *Pool[C]) borrowErr(ctx context.Context, err error) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	switch {
	case closed:
		return ErrPoolClosed
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ErrBorrowTimeout
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("%w: %w", ErrBorrowTimeout, err)
}

// takeIdle returns an idle connection for login, or an error when
// closed or the database is known down and nothing is idle.
func (p *Pool[C]) takeIdle(login Login) (*Pooled[C], error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.takeIdleLocked(p.keyedLocked(login))
}

// takeIdleLocked is takeIdle of kd; p.mu is held.
func (p *Pool[C]) takeIdleLocked(kd *keyed[C]) (*Pooled[C], error) {
	if p.closed {
		p.tidyLocked(kd)
		return nil, ErrPoolClosed
	}
	for n := len(kd.idle); n > 0; n = len(kd.idle) {
		pc := kd.idle[n-1]
		kd.idle[n-1] = nil
		kd.idle = kd.idle[:n-1]
		p.nIdle--
		if pc.Conn.Broken() { // e.g. its server is no longer the writer
			go p.closeConn(pc)
			continue
		}
		p.lendLocked(kd)
		return pc, nil
	}
	p.tidyLocked(kd)
	if time.Now().Before(p.downUntil) {
		return nil, p.downErr
	}
	return nil, nil
}

// tryReserve takes a slot of b only if one is free now.
func (p *Pool[C]) tryReserve(b Budget) (func(), error) {
	if release, ok := b.TryReserve(); ok {
		return release, nil
	}
	return nil, errBudgetFull
}

// errBudgetFull is tryReserve's answer when no slot is free.
var errBudgetFull = errors.New("connection budget full")

// keyOf returns login.Key(), caching the last login's key: a pool
// usually serves one login, and the hash would otherwise run per borrow.
func (p *Pool[C]) keyOf(login Login) Key { return p.cached(login).key }

// same is a == b, answered without comparing bytes when the strings are
// the ones Canonical handed out (the comparison runs on every borrow and
// return; the generated one calls out once per string).
func (a *Login) same(b *Login) bool {
	return sameString(a.User, b.User) && sameString(a.Password, b.Password) &&
		sameString(a.Database, b.Database) && sameString(a.SecretARN, b.SecretARN) &&
		a.ViaIAM == b.ViaIAM && sameString(a.Instance, b.Instance)
}

// sameString is a == b, without a call when both share their bytes.
func sameString(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

// cached returns the cache entry of login: the last login's, or a new one
// that replaces it.
func (p *Pool[C]) cached(login Login) *loginKey[C] {
	if c := p.lastKey.Load(); c != nil && c.login.same(&login) {
		return c
	}
	c := &loginKey[C]{login: login, key: login.Key(), principal: "dbuser:" + login.User}
	p.lastKey.Store(c)
	return c
}

// Canonical returns login, or the equal login the pool saw last: the same
// value with the strings the key cache holds, so that keyOf's comparison
// of a session's login with the cached one finds the same strings and
// compares no bytes. A front end calls it once per client, on the login it
// then borrows with.
func (p *Pool[C]) Canonical(login Login) Login { return p.cached(login).login }

type loginKey[C Conn] struct {
	login     Login
	key       Key
	principal string
	kd        *keyed[C] // the key's state (keyedLocked); guarded by Pool.mu
}

func (p *Pool[C]) connect(ctx context.Context, login Login, k Key, release func()) (*Pooled[C], error) {
	c, err := p.dial(ctx, login)
	if err != nil && p.cfg.Relogin != nil && LoginRefused(err) {
		// The connection keeps the borrower's key, so that the same
		// client's next borrow finds it.
		if other, ok := p.cfg.Relogin(ctx, login); ok {
			other.Instance = login.Instance
			if c, err = p.dial(ctx, other); err == nil {
				login = other
			}
		}
	}
	if err != nil {
		release()
		if login.Instance != "" && p.cfg.Route != nil {
			if errors.Is(err, ErrBackendDown) {
				p.cfg.Route.Down(login.Instance, err)
			}
			return nil, err // one instance failed, not the pool's database
		}
		if errors.Is(err, ErrBackendDown) && !timedOut(err) {
			p.mu.Lock()
			p.downUntil, p.downErr = time.Now().Add(p.cfg.RetryDelay), err
			p.mu.Unlock()
		}
		return nil, err
	}
	p.mu.Lock()
	p.downUntil, p.downErr = time.Time{}, nil
	kd := p.keyedOfLocked(k)
	p.lendLocked(kd)
	p.mu.Unlock()
	return &Pooled[C]{Conn: c, Login: login, ID: p.ids.Add(1), Created: time.Now(), kd: kd, release: release}, nil
}

// timedOut reports a dial that failed by taking too long: the database
// may only be overloaded (slow to start a backend), so the pool does not
// fail every other borrower fast for it; refused or reset connections do.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// Put returns a borrowed connection. Broken or expired connections, and
// any while the budget is over its limit (Budget.Over: it was lowered),
// are closed. A waiter for the same login gets it directly; if only
// waiters for other logins exist, it is closed so that one of them can
// open its own.
func (p *Pool[C]) Put(pc *Pooled[C]) {
	pc.endPick()
	now := time.Now() // one clock read for the lifetime, the wait and the idle mark
	if pc.Conn.Broken() || now.Sub(pc.Created) > p.cfg.MaxLifetime {
		p.Discard(pc)
		return
	}
	if over, closed := p.overOn(pc.Login); over {
		p.Discard(pc)
		closed()
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.Discard(pc)
		return
	}
	kd := pc.kd
	if len(kd.waiters) > 0 {
		w := p.popWaiterLocked(kd)
		if ww, since, share, pick := w.w, w.since, w.share, w.pick; ww != nil {
			p.spareLocked(w)
			p.mu.Unlock()
			p.obs(now.Sub(since), nil)
			pc.adopt(share)
			pc.pick = pick
			ww.Ready(pc, nil) // on this goroutine: no hand-off
			return
		}
		p.mu.Unlock()
		w.ch <- pc // buffered; a dropWaiter that missed us waits for it
		return
	}
	if n := p.maxIdle.Load(); p.nWait > 0 || (n >= 0 && int64(p.nIdle) >= n) {
		p.mu.Unlock()
		p.Discard(pc)
		return
	}
	kd.idle = append(kd.idle, pc)
	p.nIdle++
	p.unlendLocked(kd)
	pc.adopt(fairshare.Slot{})
	pc.idleAt = now
	p.mu.Unlock()
}

// SetBorrowTimeout changes how long Get waits for a connection (d <= 0
// keeps the current value); borrows already waiting keep their deadline.
func (p *Pool[C]) SetBorrowTimeout(d time.Duration) {
	if d > 0 {
		p.borrowTimeout.Store(int64(d))
	}
}

// SetMaxIdle bounds the idle connections kept (n < 0: no bound): idle
// connections beyond it are closed at once, longest idle first, and a
// connection returned beyond it is closed, freeing its budget slot.
func (p *Pool[C]) SetMaxIdle(n int) {
	n = max(n, -1)
	p.maxIdle.Store(int64(n))
	if n < 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.nIdle > n {
		p.evictOldestLocked()
	}
}

// Discard closes a borrowed connection and frees its budget slot.
func (p *Pool[C]) Discard(pc *Pooled[C]) {
	pc.endPick()
	p.mu.Lock()
	p.unlendLocked(pc.kd)
	p.mu.Unlock()
	p.closeConn(pc)
}

func (p *Pool[C]) closeConn(pc *Pooled[C]) {
	_ = pc.Conn.Close()
	pc.adopt(fairshare.Slot{})
	pc.release()
}

// handoffWait is how long Get waits for a busy connection of the same
// login before it also asks the budget for a new one.
const handoffWait = 20 * time.Millisecond

// evictOldestLocked closes the longest-idle connection (asynchronously).
func (p *Pool[C]) evictOldestLocked() {
	var oldest *Pooled[C]
	for _, kd := range p.keys {
		if len(kd.idle) > 0 && (oldest == nil || kd.idle[0].idleAt.Before(oldest.idleAt)) {
			oldest = kd.idle[0]
		}
	}
	if oldest == nil {
		return
	}
	p.dropIdleLocked(oldest.kd, 0)
	go p.closeConn(oldest)
}

// Stats returns busy, idle and waiting counts.
func (p *Pool[C]) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStats{Busy: p.busy, Idle: p.nIdle, Waiting: p.nWait}
}

// Close closes idle connections, fails waiters and makes borrowed ones
// close on Put.
func (p *Pool[C]) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.unlist()
	var drop []*Pooled[C]
	for _, kd := range p.keys {
		drop = append(drop, kd.idle...)
		kd.idle = nil
		p.tidyLocked(kd)
	}
	p.nIdle = 0
	queued := p.takeQueuedLocked(func(*waiter[C]) bool { return true })
	p.mu.Unlock()
	for _, w := range queued {
		go p.fail(w, ErrPoolClosed)
	}
	close(p.stop)
	<-p.done
	for _, pc := range drop {
		p.closeConn(pc)
	}
}

func (p *Pool[C]) reap() {
	defer close(p.done)
	t := time.NewTicker(min(p.cfg.IdleTimeout/4, time.Minute))
	defer t.Stop()
	var fast *time.Ticker
	var fastC <-chan time.Time
	for {
		select {
		case <-p.stop:
			if fast != nil {
				fast.Stop()
			}
			return
		case now := <-t.C:
			p.closeExpired(now)
		case <-p.kick:
			if fast == nil {
				fast = time.NewTicker(queueTick)
				fastC = fast.C
			}
		case now := <-fastC:
			if !p.sweepQueued(now) {
				fast.Stop()
				fast, fastC = nil, nil
			}
		}
	}
}

func (p *Pool[C]) closeExpired(now time.Time) {
	p.mu.Lock()
	var drop []*Pooled[C]
	for _, kd := range p.keys {
		keep := kd.idle[:0]
		for _, pc := range kd.idle {
			if now.Sub(pc.idleAt) > p.cfg.IdleTimeout || now.Sub(pc.Created) > p.cfg.MaxLifetime || pc.Conn.Broken() {
				drop = append(drop, pc)
				continue
			}
			keep = append(keep, pc)
		}
		clear(kd.idle[len(keep):])
		kd.idle = keep
		p.tidyLocked(kd)
	}
	p.nIdle -= len(drop)
	p.mu.Unlock()
	for _, pc := range drop {
		p.closeConn(pc)
	}
}

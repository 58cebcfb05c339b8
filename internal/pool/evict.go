package pool

import "github.com/sqlgate/sqlgate/internal/engine"

// EvictIdle closes the longest-idle connection, if any, and reports
// whether it did. A pool whose engine takes its connections' slots from
// another pool's budget (a cluster's readers) registers it with that
// pool's AddEvictor, so its idle connections yield to that pool's
// borrowers.
func (p *Pool) EvictIdle() bool { return p.EvictIdleWhere(nil) }

// EvictIdleWhere is EvictIdle among the idle connections for which match
// reports true (nil matches all): a pool whose connections take their
// slots from the budgets of several instances (Instances) registers, with
// each instance's budget, the eviction of its connections to that
// instance.
func (p *Pool) EvictIdleWhere(match func(engine.Conn) bool) bool {
	p.mu.Lock()
	c := p.popIdleLocked(match)
	if c != nil {
		p.open--
		p.wakeLocked()
	}
	p.mu.Unlock()
	if c == nil {
		return false
	}
	_ = c.Close()
	return true
}

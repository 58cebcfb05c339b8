package pool

// EvictIdle closes the longest-idle connection, if any, and reports
// whether it did. A pool whose engine takes its connections' slots from
// another pool's budget (a cluster's readers) registers it with that
// pool's AddEvictor, so its idle connections yield to that pool's
// borrowers.
func (p *Pool) EvictIdle() bool {
	p.mu.Lock()
	c := p.popAnyIdleLocked()
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

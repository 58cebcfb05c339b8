package proxy

// EvictIdle closes the longest-idle database connection of the pool and
// frees its budget slot; it reports whether there was an idle connection.
// The cluster's shared connection budget calls it (through
// Server.EvictIdle) so that idle proxy connections yield to the Data API
// and to a lowered max_connections, as idle Data API connections yield to
// the proxies.
func (p *Pool[C]) EvictIdle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nIdle == 0 {
		return false
	}
	p.evictOldestLocked()
	return true
}

package proxy

// Budgets per instance. The budget of a cluster with instances (a writer
// and readers) is one max_connections per instance: such a Budget also
// implements Instances, and the pool takes every connection's slot from
// the budget of the instance the connection goes to — the instance a
// routed borrow picked (Login.Instance), else the current writer. The
// connection then dials the instance whose slot it holds (the writer
// resolved with its slot, not asked again), so no instance ever holds
// more connections than its budget, also while the writer changes.
// Idle connections give their slots back per instance: the pool is
// listed with its Share, whose EvictIdleTo and WaitingTo the cluster
// registers with each instance's budget.

// Instances is implemented by the Budget of a cluster with instances.
type Instances interface {
	// Instance returns the budget of the instance at addr ("" = the
	// current writer) and the address it resolved.
	Instance(addr string) (Budget, string)
}

// budgetOf returns the budget login's next connection draws on and the
// instance it goes to ("" = the front end's own choice, for a budget
// without instances).
func (p *Pool[C]) budgetOf(login Login) (Budget, string) {
	if p.instances != nil {
		return p.instances.Instance(login.Instance)
	}
	return p.budget, login.Instance
}

// overOn reports whether the budget of a returned connection of login
// is over its limit, and then the function to call once the connection
// is closed. A Share counts the connection as leaving from this answer
// on (ClaimOver), so that two connections returned at once to a share
// one above its bound do not both see it over and both close.
func (p *Pool[C]) overOn(login Login) (over bool, closed func()) {
	b, _ := p.budgetOf(login)
	if sh, ok := b.(*Share); ok {
		return sh.ClaimOver()
	}
	return b.Over(), func() {}
}

// at returns login bound to instance inst (when the budget resolved one),
// the address its connection dials.
func at(login Login, inst string) Login {
	if inst != "" {
		login.Instance = inst
	}
	return login
}

// poolLister is implemented by a Budget that keeps the pools drawing on
// it (Share): list adds p and returns its removal, called on Close.
type poolLister interface {
	list(p instancePool) (unlist func())
}

// instancePool is a pool as its Share sees it.
type instancePool interface {
	evictIdleTo(addr string) bool
	waitingTo(addr string) int
}

// evictIdleTo closes the longest-idle connection to the instance at addr
// and reports whether there was one.
func (p *Pool[C]) evictIdleTo(addr string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	var oldest *Pooled[C]
	at := -1
	for _, kd := range p.keys {
		for i, pc := range kd.idle {
			if pc.Login.Instance != addr {
				continue
			}
			if oldest == nil || pc.idleAt.Before(oldest.idleAt) {
				oldest, at = pc, i
			}
			break // the first of a list is its longest idle
		}
	}
	if oldest == nil {
		return false
	}
	p.dropIdleLocked(oldest.kd, at)
	go p.closeConn(oldest)
	return true
}

// waitingTo counts the borrows waiting for a connection to the instance
// at addr: those routed there, and for the current writer those the pool
// does not route.
func (p *Pool[C]) waitingTo(addr string) int {
	_, writer := p.budgetOf(Login{})
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, kd := range p.keys {
		for _, w := range kd.waiters {
			if w.login.Instance == addr || (w.login.Instance == "" && addr == writer) {
				n++
			}
		}
	}
	return n
}

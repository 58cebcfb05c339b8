package identity

import (
	"sync"

	"github.com/sqlgate/sqlgate/internal/iam"
)

// decisions caches an access key's authorization decisions that cannot
// depend on the request: those whose evaluation read no condition key and
// no policy variable (iam.Request.LazyContext was never called). Such a
// decision is a function of the key's principal and policies, the action,
// the resource and the resource policy only, so it is keyed on the last
// three and lives in the key's cache entry: any identity write here, or one
// another node reports, drops the entry with every decision in it (a
// policy, tag, group, key or role change), and a new resource policy is a
// different *iam.Policy. A decision that read the request context is never
// cached.
type decisions struct {
	mu sync.RWMutex
	m  map[decisionKey]bool // allowed?
}

type decisionKey struct {
	action, resource string
	rp               *iam.Policy // the resource policy, nil for none
}

// maxDecisions bounds one key's decisions; the map is emptied when full.
const maxDecisions = 1024

func (d *decisions) get(k decisionKey) (allowed, ok bool) {
	d.mu.RLock()
	allowed, ok = d.m[k]
	d.mu.RUnlock()
	return allowed, ok
}

func (d *decisions) put(k decisionKey, allowed bool) {
	d.mu.Lock()
	if d.m == nil || len(d.m) >= maxDecisions {
		d.m = make(map[decisionKey]bool)
	}
	d.m[k] = allowed
	d.mu.Unlock()
}

package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/state"
)

// Run renews the leases until ctx is done: a heartbeat every TTL/6, a
// re-evaluation whenever the records change (when the store can watch)
// or a grant being given back is no longer held, and fencing of leases
// that could not be renewed in time.
func (m *Manager) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	changed := make(chan struct{}, 1)
	if w, ok := m.cfg.Store.(state.Watcher); ok {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := w.Watch(ctx, func(ns, _ string) {
				if ns == Namespace || ns == state.WatchAll {
					select {
					case changed <- struct{}{}:
					default:
					}
				}
			})
			if err != nil && ctx.Err() == nil {
				m.log.Error("lease watch stopped", "err", err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.fenceLoop(ctx)
	}()
	m.try(ctx, m.Renew)
	beat := time.NewTicker(m.period())
	defer beat.Stop()
	local := time.NewTicker(m.period() / 5)
	defer local.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			m.try(ctx, m.Renew)
		case <-changed:
			m.try(ctx, m.Rebalance)
		case <-local.C:
			if m.givingBack() {
				m.try(ctx, m.Rebalance)
			}
		}
	}
}

// try runs one round, bounded so that a hanging store cannot hold the
// loop past the fencing margin.
func (m *Manager) try(ctx context.Context, round func(context.Context) error) {
	rctx, cancel := context.WithTimeout(ctx, m.margin())
	defer cancel()
	if err := round(rctx); err != nil && ctx.Err() == nil {
		m.log.Warn("lease renewal failed", "err", err)
	}
}

func (m *Manager) fenceLoop(ctx context.Context) {
	t := time.NewTicker(m.period() / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Fence()
		}
	}
}

// Renew is a heartbeat: every lease is renewed and the node's demand
// published. It returns the clusters' errors joined; the others are
// still renewed.
func (m *Manager) Renew(ctx context.Context) error { return m.each(ctx, true) }

// Rebalance re-evaluates every lease against the stored records and
// writes only where this node's grant changes (or another node's lease
// expired).
func (m *Manager) Rebalance(ctx context.Context) error { return m.each(ctx, false) }

func (m *Manager) each(ctx context.Context, beat bool) error {
	var errs []error
	for _, h := range m.clusters {
		if err := m.renew(ctx, h, beat); err != nil {
			errs = append(errs, fmt.Errorf("lease on %s: %w", h.key, err))
		}
	}
	return errors.Join(errs...)
}

// renew is one read-modify-write of a cluster's record (see the package
// doc for the steps).
func (m *Manager) renew(ctx context.Context, h *held, beat bool) error {
	start := m.cfg.Now()
	var want, grant int
	err := m.cfg.Store.Update(ctx, Namespace, h.key, func(old []byte) ([]byte, error) {
		rec, err := decodeRecord(old)
		if err != nil {
			m.log.Error("lease record unreadable; starting it afresh", "cluster", h.cluster, "instance", h.instance, "err", err)
			rec, _ = decodeRecord(nil)
		}
		var changed bool
		want, grant, changed = h.step(rec, m.cfg.Node, m.cfg.Now(), m.cfg.TTL, beat)
		if !changed {
			return nil, errUnchanged
		}
		return json.Marshal(rec)
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.grant = grant
	h.valid = start.Add(m.cfg.TTL - m.margin())
	h.fenced = false
	if want > h.limit && m.cfg.Now().Before(h.valid) {
		h.budget.SetLease(want)
		h.limit = want
	}
	return nil
}

// step applies one renewal to rec (inside the store's atomic update) and
// returns the node's new share, the grant to store, and whether rec
// changed. Lowering the local limit happens here, before the write.
func (h *held) step(rec *record, node string, at time.Time, ttl time.Duration, beat bool) (want, grant int, changed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	changed = h.expire(rec, node, at, ttl)
	me := rec.Nodes[node]
	if me == nil {
		me = &entry{}
		rec.Nodes[node] = me
		changed = true
	}
	if m := h.budget.Max(); m != me.Max {
		me.Max, changed = m, true
	}
	if beat {
		me.Demand = h.budget.Demand()
	}
	ids := rec.ids()
	demands := make([]int, len(ids))
	for i, id := range ids {
		demands[i] = rec.Nodes[id].Demand
	}
	total := rec.budget()
	target := Split(total, demands)[slices.Index(ids, node)]
	want = max(min(target, total-rec.grantedExcept(node)), 0)
	if want < h.limit {
		h.budget.SetLease(want)
		h.limit = want
	}
	// The stored grant covers what the node still holds above its new
	// share until those connections are closed.
	grant = max(want, h.budget.Open())
	changed = changed || beat || grant != me.Grant || want > h.limit
	if changed {
		me.Grant = grant
		me.Beat++
	}
	h.nodes = len(rec.Nodes)
	return want, grant, changed
}

// expire drops the other nodes whose heartbeat has not changed for ttl
// since this node first saw it, and reports whether it dropped any.
func (h *held) expire(rec *record, node string, at time.Time, ttl time.Duration) bool {
	dropped := false
	for id, e := range rec.Nodes {
		if id == node {
			continue
		}
		s, ok := h.seen[id]
		switch {
		case !ok || s.beat != e.Beat:
			h.seen[id] = seen{beat: e.Beat, at: at}
		case at.Sub(s.at) >= ttl:
			delete(rec.Nodes, id)
			delete(h.seen, id)
			dropped = true
		}
	}
	for id := range h.seen {
		if rec.Nodes[id] == nil {
			delete(h.seen, id)
		}
	}
	return dropped
}

// Fence sets the limit of every lease not renewed in time to 0: idle
// connections close at once, busy ones as they come back.
func (m *Manager) Fence() {
	now := m.cfg.Now()
	for _, h := range m.clusters {
		h.mu.Lock()
		if h.limit > 0 && !now.Before(h.valid) {
			h.budget.SetLease(0)
			h.limit, h.fenced = 0, true
			m.fences.Add(1)
			m.log.Warn("lease not renewed in time: closing this node's connections to the cluster until it is", "cluster", h.cluster, "instance", h.instance)
		}
		h.mu.Unlock()
	}
}

// givingBack reports whether a lowered grant is no longer fully held, so
// that writing the smaller grant frees slots for the other nodes.
func (m *Manager) givingBack() bool {
	for _, h := range m.clusters {
		h.mu.Lock()
		g, l := h.grant, h.limit
		h.mu.Unlock()
		if g > l && h.budget.Open() < g {
			return true
		}
	}
	return false
}

// Leave removes this node's leases (graceful shutdown, after its pools
// closed), so the other nodes get its share without waiting for expiry.
func (m *Manager) Leave(ctx context.Context) error {
	var errs []error
	for _, h := range m.clusters {
		err := m.cfg.Store.Update(ctx, Namespace, h.key, func(old []byte) ([]byte, error) {
			rec, err := decodeRecord(old)
			if err != nil {
				return nil, err
			}
			delete(rec.Nodes, m.cfg.Node)
			if len(rec.Nodes) == 0 {
				return nil, nil
			}
			return json.Marshal(rec)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("leave lease on %s: %w", h.key, err))
		}
	}
	return errors.Join(errs...)
}

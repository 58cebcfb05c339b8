package proxy

import (
	"context"
	"errors"
	"testing"

	"github.com/sqlgate/sqlgate/internal/fairshare"
)

// TestPool_Shares: a login user holds at most its per-principal share of
// connections whichever way they are lent (Get, Enqueue, hand-over from
// Put), gets it back on Put, Discard and Cancel, and is refused with
// fairshare.ErrLimit beyond it while another user is served.
func TestPool_Shares(t *testing.T) {
	ctx := context.Background()
	alice, bob := Login{User: "alice", Password: "a"}, Login{User: "bob", Password: "b"}
	sh := fairshare.New(fairshare.Limits{Connections: 2, Waiters: 0})
	p, _ := newTestPool(t, 4, PoolConfig{Shares: sh}, nil)
	held := func() int { return sh.Stats().Top[fairshare.Connections] }

	c1, err := p.Get(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	w := newChanWaiter()
	c2, queued, err := p.Enqueue(alice, w)
	if c2 != nil || queued || err != nil {
		t.Fatalf("Enqueue with budget room: %v %v %v, want Get's turn", c2, queued, err)
	}
	if c2, err = p.Get(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if held() != 2 {
		t.Fatalf("alice holds %d, want 2", held())
	}
	if _, err := p.Get(ctx, alice); !errors.Is(err, fairshare.ErrLimit) {
		t.Fatalf("alice's third: got %v, want ErrLimit", err)
	}
	if pc, queued, err := p.Enqueue(alice, w); pc != nil || queued || err != nil {
		t.Fatalf("Enqueue at the share: %v %v %v, want Get's turn (which refuses)", pc, queued, err)
	}
	b1, err := p.Get(ctx, bob)
	if err != nil {
		t.Fatalf("bob while alice holds her share: %v", err)
	}
	p.Put(b1)
	// A released slot is alice's again; a queued waiter holds one and
	// the connection handed over to it keeps exactly one.
	p.Put(c2)
	if held() != 1 {
		t.Fatalf("after Put alice holds %d, want 1", held())
	}
	c2, _ = p.Get(ctx, alice)
	p.Put(c2) // idle again: alice holds c1 only
	c2, _ = p.Get(ctx, alice)
	p.Discard(c2)
	if held() != 1 {
		t.Fatalf("after Discard alice holds %d, want 1", held())
	}
	p2, _ := newTestPool(t, 1, PoolConfig{Shares: sh}, nil) // a full budget: Enqueue queues
	d1, err := p2.Get(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if _, queued, _ := p2.Enqueue(bob, w); !queued {
		t.Fatal("bob's second borrow with a full budget: not queued")
	}
	if n := sh.Stats().Principals; n != 2 {
		t.Fatalf("%d principals hold something, want 2", n)
	}
	p2.Put(d1) // handed over to w
	r := <-w.got
	if r.err != nil || r.pc != d1 {
		t.Fatalf("hand-over: %+v", r)
	}
	p2.Put(r.pc)
	w2 := newChanWaiter()
	d1, _ = p2.Get(ctx, bob)
	if _, queued, _ := p2.Enqueue(bob, w2); !queued || !p2.Cancel(bob, w2) {
		t.Fatal("queue and cancel")
	}
	p2.Put(d1)
	p.Put(c1)
	if st := sh.Stats(); st.Principals != 0 {
		t.Fatalf("after every connection came back: %+v", st)
	}
}

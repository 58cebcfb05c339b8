package proxy

import (
	"context"
	"testing"
)

func TestPool_Chain(t *testing.T) {
	ctx := context.Background()
	alice := Login{User: "alice", Password: "a"}
	p, _ := newTestPool(t, 1, PoolConfig{}, nil)
	c1, err := p.Get(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	w1, w2 := newChanWaiter(), newChanWaiter()
	for _, w := range []*chanWaiter{w1, w2} {
		if _, queued, err := p.Enqueue(alice, w); !queued || err != nil {
			t.Fatalf("not queued: %v", err)
		}
	}
	var asked []Waiter[*fakeConn]
	refuse := func(w Waiter[*fakeConn]) bool { asked = append(asked, w); return false }
	if got := p.Chain(c1, refuse); got != nil {
		t.Fatalf("refused waiter taken: %v", got)
	}
	if len(asked) != 1 || asked[0] != w1 {
		t.Fatalf("asked %v, want only the head of the queue", asked)
	}
	if st := p.Stats(); st.Waiting != 2 {
		t.Fatalf("after a refusal: %+v, want both still waiting", st)
	}
	accept := func(Waiter[*fakeConn]) bool { return true }
	if got := p.Chain(c1, accept); got != w1 {
		t.Fatalf("got %v, want the first waiter", got)
	}
	if st := p.Stats(); st.Waiting != 1 || st.Busy != 1 {
		t.Fatalf("after Chain: %+v, want one waiting and the connection still lent", st)
	}
	select {
	case r := <-w1.got:
		t.Fatalf("a chained waiter's Ready ran: %+v", r)
	default:
	}
	p.Put(c1) // the next queued waiter gets it as usual
	if r := <-w2.got; r.pc != c1 || r.err != nil {
		t.Fatalf("second waiter got %+v", r)
	}
	if got := p.Chain(c1, accept); got != nil {
		t.Fatalf("empty queue: got %v", got)
	}
}

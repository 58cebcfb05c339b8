package proxy

import (
	"context"
	"fmt"
	"testing"
)

// TestPool_KeysForgotten: the pool keeps state for a login key only while
// it holds something of it (idle connections, lent ones, waiters), so a
// server that has seen many logins (rotated passwords, many users) does
// not keep one entry for each forever; a login it forgot and meets again
// finds its connections as before.
func TestPool_KeysForgotten(t *testing.T) {
	ctx := context.Background()
	p, _ := newTestPool(t, 4, PoolConfig{}, nil)
	keys := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.keys)
	}
	for i := range 50 {
		login := Login{User: fmt.Sprintf("user%d", i), Password: "pw"}
		pc, err := p.Get(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		p.Put(pc) // idle: the budget of 4 makes room by closing the oldest
		again, err := p.Get(ctx, login)
		if err != nil || again != pc {
			t.Fatalf("login %d: got %v %v, want its idle connection back", i, again, err)
		}
		p.Put(again)
	}
	if n, st := keys(), p.Stats(); n != st.Idle || n > 4 {
		t.Fatalf("%d keys kept with %+v, want one per login with an idle connection", n, st)
	}
	p.SetMaxIdle(0) // closes every idle connection
	if n := keys(); n != 0 {
		t.Fatalf("%d keys kept with nothing idle, lent or waiting", n)
	}
	// The cached login's state was forgotten: it is made again.
	login := Login{User: "user49", Password: "pw"}
	pc, err := p.Get(ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	p.Discard(pc)
	if n := keys(); n != 0 {
		t.Fatalf("%d keys kept after a discard", n)
	}
}

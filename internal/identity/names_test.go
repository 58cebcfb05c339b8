package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// twoNodes returns two Stores over one state store, as two sqlgate nodes
// sharing it: each has its own in-process lock.
func twoNodes(t *testing.T) (a, b *testStore) {
	a = newTestStore(t)
	other := New(a.st, a.Store.b, testAccount)
	t.Cleanup(other.Wait)
	other.now = a.clock.Now
	return a, &testStore{Store: other, st: a.st, path: a.path, clock: a.clock}
}

func TestStore_namesUniqueAcrossNodes(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t)

	t.Run("a create in flight on another node holds the name", func(t *testing.T) {
		if err := a.claimName(ctx, nsUsers, "Bob"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.CreateUser(ctx, "bob", ""); !errors.Is(err, ErrExists) {
			t.Fatalf("CreateUser(bob) while Bob is being created = %v, want ErrExists", err)
		}
		a.clock.Advance(claimTTL + time.Second) // the other create died
		if _, err := b.CreateUser(ctx, "bob", ""); err != nil {
			t.Fatalf("CreateUser(bob) after a stale claim = %v", err)
		}
		if _, err := a.CreateUser(ctx, "BOB", ""); !errors.Is(err, ErrExists) {
			t.Fatalf("CreateUser(BOB) = %v, want ErrExists", err)
		}
	})
	t.Run("a delete frees the name on every node", func(t *testing.T) {
		if _, err := a.CreateRole(ctx, "Deployer", "", trustDoc("arn:aws:iam::"+testAccount+":user/alice"), "", 0); err != nil {
			t.Fatal(err)
		}
		if err := a.DeleteRole(ctx, "Deployer"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.CreateRole(ctx, "deployer", "", trustDoc("arn:aws:iam::"+testAccount+":user/alice"), "", 0); err != nil {
			t.Fatalf("CreateRole(deployer) after Deployer was deleted = %v", err)
		}
	})
	t.Run("concurrent creates differing in case", func(t *testing.T) {
		for i := range 20 {
			name := fmt.Sprintf("Team%d", i)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for j, s := range []*testStore{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n := name
					if j == 1 {
						n = strings.ToLower(name)
					}
					_, errs[j] = s.CreateGroup(ctx, n, "")
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, ErrExists):
					t.Fatal(err)
				}
			}
			if ok != 1 {
				t.Fatalf("%s: %d of two creates differing in case succeeded, want 1", name, ok)
			}
		}
	})
}

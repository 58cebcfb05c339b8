package identity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/state"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

const testAccount = "000000000000"

// testStore is a Store over a SQLite state store in a temp dir.
type testStore struct {
	*Store
	st    *state.SQLite
	path  string
	clock *testdb.Clock
}

func newTestStore(t testing.TB) *testStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := state.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := barrier.New(map[uint32][]byte{1: bytes.Repeat([]byte{0x42}, barrier.KeySize)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := New(st, b, testAccount)
	t.Cleanup(s.Wait) // runs before st.Close
	clk := testdb.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	s.now = clk.Now
	return &testStore{Store: s, st: st, path: path, clock: clk}
}

func mustUser(t *testing.T, s *testStore, name string) *User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), name, "")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustKey(t *testing.T, s *testStore, user string) Credentials {
	t.Helper()
	_, c, err := s.CreateAccessKey(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func TestStore_CreateUser(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	u := mustUser(t, s, "alice")
	if u.ARN != "arn:aws:iam::"+testAccount+":user/alice" || u.Path != "/" || len(u.UserID) != 21 || u.UserID[:4] != "AIDA" {
		t.Errorf("got %+v", u)
	}
	if _, err := s.CreateUser(ctx, "bob", "/team/"); err != nil {
		t.Fatal(err)
	}
	t.Run("duplicate", func(t *testing.T) {
		_, err := s.CreateUser(ctx, "alice", "")
		wantErr(t, err, ErrExists)
	})
	t.Run("invalid name", func(t *testing.T) {
		for _, name := range []string{"", "a b", "a/b", string(bytes.Repeat([]byte{'a'}, 65))} {
			_, err := s.CreateUser(ctx, name, "")
			wantErr(t, err, ErrInvalidInput)
		}
	})
	t.Run("invalid path", func(t *testing.T) {
		_, err := s.CreateUser(ctx, "carol", "team")
		wantErr(t, err, ErrInvalidInput)
	})
	t.Run("get", func(t *testing.T) {
		got, err := s.GetUser(ctx, "alice")
		if err != nil || got.UserID != u.UserID {
			t.Fatalf("got %+v, %v", got, err)
		}
		_, err = s.GetUser(ctx, "nobody")
		wantErr(t, err, ErrNotFound)
	})
	t.Run("list", func(t *testing.T) {
		all, err := s.ListUsers(ctx, "")
		if err != nil || len(all) != 2 {
			t.Fatalf("got %d users, %v", len(all), err)
		}
		team, err := s.ListUsers(ctx, "/team/")
		if err != nil || len(team) != 1 || team[0].UserName != "bob" {
			t.Fatalf("got %v, %v", team, err)
		}
	})
	t.Run("delete missing", func(t *testing.T) {
		wantErr(t, s.DeleteUser(ctx, "nobody"), ErrNotFound)
	})
}

func TestStore_DeleteUser(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "alice")
	k := mustKey(t, s, "alice")
	wantErr(t, s.DeleteUser(ctx, "alice"), ErrDeleteConflict)
	if err := s.DeleteAccessKey(ctx, "alice", k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUserPolicy(ctx, "alice", "inline", seedPolicy); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteUser(ctx, "alice"), ErrDeleteConflict)
	if err := s.DeleteUserPolicy(ctx, "alice", "inline"); err != nil {
		t.Fatal(err)
	}
	mp, err := s.CreatePolicy(ctx, "seed", "", seedPolicy, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AttachUserPolicy(ctx, "alice", mp.ARN); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteUser(ctx, "alice"), ErrDeleteConflict)
	if err := s.DetachUserPolicy(ctx, "alice", mp.ARN); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetUser(ctx, "alice")
	wantErr(t, err, ErrNotFound)

	// A re-created user of the same name starts with nothing.
	mustUser(t, s, "alice")
	keys, err := s.ListAccessKeys(ctx, "alice")
	if err != nil || len(keys) != 0 {
		t.Fatalf("re-created user has keys %v, %v", keys, err)
	}
}

func TestStore_CreateAccessKey(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	k1 := mustKey(t, s, "alice")
	k2 := mustKey(t, s, "alice")
	if k1.AccessKeyID[:4] != "AKIA" || len(k1.AccessKeyID) != 20 || len(k1.SecretAccessKey) != 40 || k1.SessionToken != "" {
		t.Errorf("got %+v", k1)
	}
	if k1.AccessKeyID == k2.AccessKeyID || k1.SecretAccessKey == k2.SecretAccessKey {
		t.Error("two keys are equal")
	}
	t.Run("limit", func(t *testing.T) {
		_, _, err := s.CreateAccessKey(ctx, "alice")
		wantErr(t, err, ErrLimitExceeded)
		mustKey(t, s, "bob") // the limit is per user
	})
	t.Run("missing user", func(t *testing.T) {
		_, _, err := s.CreateAccessKey(ctx, "nobody")
		wantErr(t, err, ErrNotFound)
	})
	t.Run("list", func(t *testing.T) {
		keys, err := s.ListAccessKeys(ctx, "alice")
		if err != nil || len(keys) != 2 {
			t.Fatalf("got %v, %v", keys, err)
		}
		for _, k := range keys {
			if k.UserName != "alice" || k.Status != "Active" {
				t.Errorf("got %+v", k)
			}
		}
	})
	t.Run("secret key", func(t *testing.T) {
		secret, token, err := s.SecretKey(ctx, k1.AccessKeyID)
		if err != nil || secret != k1.SecretAccessKey || token != "" {
			t.Fatalf("got %q %q %v", secret, token, err)
		}
		p, err := s.Principal(ctx, k1.AccessKeyID)
		if err != nil || p.UserName != "alice" || p.ARN != "arn:aws:iam::"+testAccount+":user/alice" || p.Root {
			t.Fatalf("got %+v, %v", p, err)
		}
		_, _, err = s.SecretKey(ctx, "AKIANOSUCHKEY0000000")
		wantErr(t, err, ErrNotFound)
	})
}

func TestStore_UpdateAccessKey(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	k := mustKey(t, s, "alice")
	if _, _, err := s.SecretKey(ctx, k.AccessKeyID); err != nil { // warm the cache
		t.Fatal(err)
	}
	if err := s.UpdateAccessKey(ctx, "alice", k.AccessKeyID, "Inactive"); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.SecretKey(ctx, k.AccessKeyID)
	wantErr(t, err, ErrNotFound)
	_, err = s.Principal(ctx, k.AccessKeyID)
	wantErr(t, err, ErrNotFound)
	if err := s.UpdateAccessKey(ctx, "alice", k.AccessKeyID, "Active"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SecretKey(ctx, k.AccessKeyID); err != nil {
		t.Fatalf("reactivated key: %v", err)
	}
	t.Run("bad status", func(t *testing.T) {
		wantErr(t, s.UpdateAccessKey(ctx, "alice", k.AccessKeyID, "active"), ErrInvalidInput)
	})
	t.Run("other user", func(t *testing.T) {
		wantErr(t, s.UpdateAccessKey(ctx, "bob", k.AccessKeyID, "Inactive"), ErrNotFound)
		wantErr(t, s.DeleteAccessKey(ctx, "bob", k.AccessKeyID), ErrNotFound)
		if _, _, err := s.SecretKey(ctx, k.AccessKeyID); err != nil {
			t.Fatalf("key changed by another user's call: %v", err)
		}
	})
}

func TestStore_DeleteAccessKey(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "alice")
	k := mustKey(t, s, "alice")
	if _, err := s.Principal(ctx, k.AccessKeyID); err != nil { // warm the cache
		t.Fatal(err)
	}
	if err := s.DeleteAccessKey(ctx, "alice", k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.SecretKey(ctx, k.AccessKeyID)
	wantErr(t, err, ErrNotFound)
	wantErr(t, s.DeleteAccessKey(ctx, "alice", k.AccessKeyID), ErrNotFound)
	// Freed quota: two new keys fit again.
	mustKey(t, s, "alice")
	mustKey(t, s, "alice")
}

// TestStore_Run checks that a write by another Store over the same state
// (another node, in effect) empties the cache through the watcher.
func TestStore_Run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newTestStore(t)
	other := New(s.st, s.b, testAccount)
	mustUser(t, s, "alice")
	k := mustKey(t, s, "alice")
	done := make(chan struct{})
	go func() { s.Run(ctx, slog.New(slog.DiscardHandler)); close(done) }()
	defer func() { cancel(); <-done }()
	if _, _, err := s.SecretKey(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if err := other.DeleteAccessKey(ctx, "alice", k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	testdb.EventuallyState(t, time.Second, 10*time.Millisecond, func() (bool, string) {
		_, _, err := s.SecretKey(ctx, k.AccessKeyID)
		return errors.Is(err, ErrNotFound), fmt.Sprintf("key deleted elsewhere still works (%v)", err)
	})
}

// TestStore_TouchKey checks last-used bookkeeping (at most once a minute).
func TestStore_TouchKey(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "alice")
	k := mustKey(t, s, "alice")
	s.TouchKey(ctx, k.AccessKeyID)
	first := s.clock.Now()
	s.clock.Advance(30 * time.Second)
	s.TouchKey(ctx, k.AccessKeyID)
	keys, err := s.ListAccessKeys(ctx, "alice")
	if err != nil || len(keys) != 1 || !keys[0].LastUsed.Equal(first) {
		t.Fatalf("got %+v, %v; want last used %v", keys[0], err, first)
	}
	s.clock.Advance(time.Minute)
	s.TouchKey(ctx, k.AccessKeyID)
	keys, _ = s.ListAccessKeys(ctx, "alice")
	if want := s.clock.Now(); !keys[0].LastUsed.Equal(want) {
		t.Fatalf("last used %v, want %v", keys[0].LastUsed, want)
	}
}

func TestStore_CreateAccessKeyConcurrent(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "alice")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = s.CreateAccessKey(ctx, "alice")
		}()
	}
	wg.Wait()
	keys, err := s.ListAccessKeys(ctx, "alice")
	if err != nil || len(keys) > MaxKeysPerUser {
		t.Fatalf("%d keys after concurrent creates (max %d), %v", len(keys), MaxKeysPerUser, err)
	}
}

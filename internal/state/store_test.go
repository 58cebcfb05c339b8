package state

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// A backend returns, for one test, a function that opens handles on one
// fresh, empty store. Two handles stand in for two sqlgate processes.
type backend func(t *testing.T) (open func() Store)

// testStore runs the Store contract against b.
func testStore(t *testing.T, b backend) {
	t.Run("GetPutDelete", func(t *testing.T) { testGetPutDelete(t, b(t)()) })
	t.Run("List", func(t *testing.T) { testList(t, b(t)()) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, b(t)()) })
	t.Run("UpdateConcurrent", func(t *testing.T) { testUpdateConcurrent(t, b(t)) })
	t.Run("UpdateWaits", func(t *testing.T) { testUpdateWaits(t, b(t)) })
}

func testGetPutDelete(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.Get(ctx, "a", "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: got %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, "a", "k", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "a", "k", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "b", "k", []byte("other ns")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "a", "k")
	if err != nil || string(got) != "v2" {
		t.Fatalf("Get: got %q, %v; want v2", got, err)
	}
	if err := s.Put(ctx, "a", "nil", nil); err != nil {
		t.Fatalf("Put nil: %v", err)
	}
	if got, err := s.Get(ctx, "a", "nil"); err != nil || len(got) != 0 {
		t.Fatalf("Get of nil Put: got %q, %v; want empty", got, err)
	}
	if err := s.Delete(ctx, "a", "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a", "k"); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
	if _, err := s.Get(ctx, "a", "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get deleted: got %v", err)
	}
	if got, _ := s.Get(ctx, "b", "k"); string(got) != "other ns" {
		t.Fatalf("other namespace disturbed: %q", got)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func testList(t *testing.T, s Store) {
	ctx := context.Background()
	keys := []string{"b/2", "a", "b/1", "B/1", "b%", "b_x", "c", "é/1", "é/2", "éa",
		"\U0010FFFF", "\U0010FFFFx", "\uD7FFa", "\uE000"}
	for _, k := range keys {
		if err := s.Put(ctx, "ns", k, []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Put(ctx, "other", "b/3", []byte("x"))
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"B/1", "a", "b%", "b/1", "b/2", "b_x", "c", "é/1", "é/2", "éa",
			"\uD7FFa", "\uE000", "\U0010FFFF", "\U0010FFFFx"}},
		{"é/", []string{"é/1", "é/2"}},
		{"b/", []string{"b/1", "b/2"}},
		{"b", []string{"b%", "b/1", "b/2", "b_x"}},
		{"b%", []string{"b%"}},
		{"b_", []string{"b_x"}},
		{"\U0010FFFF", []string{"\U0010FFFF", "\U0010FFFFx"}},
		{"\uD7FF", []string{"\uD7FFa"}},
		{"z", nil},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			kvs, err := s.List(ctx, "ns", tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, kv := range kvs {
				got = append(got, kv.Key)
				if string(kv.Value) != "v"+kv.Key {
					t.Errorf("value of %s = %q", kv.Key, kv.Value)
				}
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func testUpdate(t *testing.T, s Store) {
	ctx := context.Background()
	t.Run("create and delete", func(t *testing.T) {
		err := s.Update(ctx, "ns", "k", func(old []byte) ([]byte, error) {
			if old != nil {
				t.Errorf("old = %q, want nil", old)
			}
			return []byte("new"), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Update(ctx, "ns", "k", func(old []byte) ([]byte, error) {
			if string(old) != "new" {
				t.Errorf("old = %q, want new", old)
			}
			return nil, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "ns", "k"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after nil result: %v", err)
		}
	})
	t.Run("absent stays absent", func(t *testing.T) {
		err := s.Update(ctx, "ns", "never", func([]byte) ([]byte, error) { return nil, nil })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "ns", "never"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
	})
	t.Run("fn error aborts", func(t *testing.T) {
		_ = s.Put(ctx, "ns", "k", []byte("keep"))
		boom := errors.New("boom")
		err := s.Update(ctx, "ns", "k", func([]byte) ([]byte, error) { return []byte("lost"), boom })
		if err != boom {
			t.Fatalf("got %v, want boom unwrapped", err)
		}
		if got, _ := s.Get(ctx, "ns", "k"); string(got) != "keep" {
			t.Fatalf("got %q after failed update", got)
		}
	})
	t.Run("empty value is present", func(t *testing.T) {
		_ = s.Put(ctx, "ns", "e", []byte{})
		_ = s.Update(ctx, "ns", "e", func(old []byte) ([]byte, error) {
			if old == nil {
				t.Error("empty value reported as absent")
			}
			return old, nil
		})
	})
}

// testUpdateConcurrent increments counters from many goroutines on two
// handles: one counter that exists and one that the first Update creates.
// Each lost update shows as a short count.
func testUpdateConcurrent(t *testing.T, open func() Store) {
	ctx := context.Background()
	s1, s2 := open(), open()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for i := range workers {
		st := s1
		if i%2 == 1 {
			st = s2
		}
		wg.Go(func() {
			for j := range each {
				key := "ctr"
				if j == 0 {
					key = "created" // all workers race to create it
				}
				err := st.Update(ctx, "ns", key, func(old []byte) ([]byte, error) {
					var n uint64
					if old != nil {
						n = binary.BigEndian.Uint64(old)
					}
					return binary.BigEndian.AppendUint64(nil, n+1), nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for key, want := range map[string]uint64{"ctr": workers * (each - 1), "created": workers} {
		got, err := s1.Get(ctx, "ns", key)
		if err != nil {
			t.Fatal(err)
		}
		if n := binary.BigEndian.Uint64(got); n != want {
			t.Errorf("%s = %d, want %d (lost updates)", key, n, want)
		}
	}
}

// testUpdateWaits checks that a Put or Delete from another handle during an
// Update waits for it instead of being overwritten, also while the key is
// absent and there is no row to lock.
func testUpdateWaits(t *testing.T, open func() Store) {
	ctx := context.Background()
	s1, s2 := open(), open()
	tests := []struct {
		name    string
		initial []byte // nil: absent
		write   func(key string) error
		want    string // "": absent
	}{
		{"Put absent", nil, func(k string) error { return s2.Put(ctx, "ns", k, []byte("put")) }, "put"},
		{"Put present", []byte("0"), func(k string) error { return s2.Put(ctx, "ns", k, []byte("put")) }, "put"},
		{"Delete present", []byte("0"), func(k string) error { return s2.Delete(ctx, "ns", k) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.name
			if tt.initial != nil {
				if err := s1.Put(ctx, "ns", key, tt.initial); err != nil {
					t.Fatal(err)
				}
			}
			inFn := make(chan struct{})
			wrote := make(chan error, 1)
			go func() {
				<-inFn
				wrote <- tt.write(key)
			}()
			err := s1.Update(ctx, "ns", key, func([]byte) ([]byte, error) {
				close(inFn)
				select {
				case err := <-wrote:
					t.Errorf("concurrent write finished during Update (err %v)", err)
					wrote <- err
				case <-time.After(300 * time.Millisecond):
				}
				return []byte("update"), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := <-wrote; err != nil {
				t.Fatal(err)
			}
			got, err := s1.Get(ctx, "ns", key)
			if errors.Is(err, ErrNotFound) {
				err, got = nil, []byte("")
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

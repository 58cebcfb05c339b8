package state

import (
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"sync"
	"testing"
)

func openTest(t *testing.T) *SQLite {
	t.Helper()
	s, err := OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite_GetPutDelete(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
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

func TestSQLite_List(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for _, k := range []string{"b/2", "a", "b/1", "B/1", "b%", "b_x", "c", "é/1", "é/2", "éa"} {
		if err := s.Put(ctx, "ns", k, []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Put(ctx, "other", "b/3", []byte("x"))
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"B/1", "a", "b%", "b/1", "b/2", "b_x", "c", "é/1", "é/2", "éa"}},
		{"é/", []string{"é/1", "é/2"}},
		{"b/", []string{"b/1", "b/2"}},
		{"b%", []string{"b%"}},
		{"b_", []string{"b_x"}},
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
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestSQLite_Update(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
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

// TestSQLite_UpdateConcurrent increments a counter from many goroutines and
// from two Store handles on the same file (standing in for two processes).
func TestSQLite_UpdateConcurrent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s1, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s2, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for i := range workers {
		st := s1
		if i%2 == 1 {
			st = s2
		}
		wg.Go(func() {
			for range each {
				err := st.Update(ctx, "ns", "ctr", func(old []byte) ([]byte, error) {
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
	got, err := s1.Get(ctx, "ns", "ctr")
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.BigEndian.Uint64(got); n != workers*each {
		t.Fatalf("counter = %d, want %d (lost updates)", n, workers*each)
	}
}

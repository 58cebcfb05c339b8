package secrets

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/sqlgate/sqlgate/internal/barrier"
)

// liveString is Live then SecretString, failing the test on an error.
func liveString(t *testing.T, s *Store, id string) string {
	t.Helper()
	l, err := s.Live(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	v, err := l.SecretString(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v == nil {
		return "<nil>"
	}
	return *v
}

// The cached decryption follows every write: a new AWSCURRENT, a rotation
// making AWSPENDING live and undoing it, here and (after the watcher's
// Invalidate) on another node sharing the state store.
func TestStore_LiveFollowsWrites(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, nil)
	ref, err := s.Create(ctx, CreateInput{Name: "live", Value: &Payload{SecretString: strp("one")}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := barrier.New(map[uint32][]byte{1: bytes.Repeat([]byte{7}, 32)}, 1)
	other := New(s.st, b, Options{})
	for _, st := range []*Store{s, other} {
		if got := liveString(t, st, "live"); got != "one" {
			t.Fatalf("got %q, want one", got)
		}
	}
	if _, err := s.PutValue(ctx, PutInput{SecretID: "live", Value: Payload{SecretString: strp("two")}}); err != nil {
		t.Fatal(err)
	}
	if got := liveString(t, s, "live"); got != "two" {
		t.Fatalf("after PutValue: got %q, want two", got)
	}
	other.Invalidate() // what Run does when the state store reports the write
	if got := liveString(t, other, ref.ARN); got != "two" {
		t.Fatalf("other node after PutValue: got %q, want two", got)
	}

	pending, err := s.PutValue(ctx, PutInput{SecretID: "live", Value: Payload{SecretString: strp("three")}, Stages: []string{StagePending}})
	if err != nil {
		t.Fatal(err)
	}
	if got := liveString(t, s, "live"); got != "two" {
		t.Fatalf("AWSPENDING not live yet: got %q, want two", got)
	}
	if _, err := s.ConfigureRotation(ctx, ConfigureInput{SecretID: "live"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkLive(ctx, ref.ARN, pending.VersionID); err != nil {
		t.Fatal(err)
	}
	if got := liveString(t, s, "live"); got != "three" {
		t.Fatalf("AWSPENDING live: got %q, want three", got)
	}
	lv, err := s.LiveValue(ctx, "live")
	if err != nil || *lv.SecretString != "three" || lv.VersionID != pending.VersionID {
		t.Fatalf("LiveValue = %v, %v; want the AWSPENDING version", lv, err)
	}
	if err := s.ClearLive(ctx, ref.ARN); err != nil {
		t.Fatal(err)
	}
	if got := liveString(t, s, "live"); got != "two" {
		t.Fatalf("after ClearLive: got %q, want two", got)
	}
}

func TestStore_LiveErrorsAndBinary(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, nil)
	if _, err := s.Live(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: got %v, want ErrNotFound", err)
	}
	if _, err := s.Create(ctx, CreateInput{Name: "bin", Value: &Payload{SecretBinary: []byte{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	if got := liveString(t, s, "bin"); got != "<nil>" {
		t.Fatalf("binary secret: got %q, want no SecretString", got)
	}
	if _, err := s.Create(ctx, CreateInput{Name: "gone", Value: &Payload{SecretString: strp("x")}}); err != nil {
		t.Fatal(err)
	}
	l, err := s.Live(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := l.SecretString(ctx); got == nil || *got != "x" {
		t.Fatalf("got %v, want x", got)
	}
	if _, err := s.Delete(ctx, "gone", 7, false); err != nil {
		t.Fatal(err)
	}
	l, err = s.Live(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.SecretString(ctx); !errors.Is(err, ErrScheduledForDeletion) {
		t.Fatalf("scheduled: got %v, want ErrScheduledForDeletion", err)
	}
	// A key that cannot open the value fails on every read, not once.
	wrong, _ := barrier.New(map[uint32][]byte{1: bytes.Repeat([]byte{8}, 32)}, 1)
	s2 := New(s.st, wrong, Options{})
	for range 2 {
		l, err := s2.Live(ctx, "bin")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.SecretString(ctx); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("got %v, want ErrDecrypt", err)
		}
	}
}

func BenchmarkStoreLiveSecretString(b *testing.B) {
	ctx := context.Background()
	s := newTestStore(b, nil)
	if _, err := s.Create(ctx, CreateInput{Name: "bench", Value: &Payload{SecretString: strp(`{"username":"u","password":"p"}`)}}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		l, err := s.Live(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := l.SecretString(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

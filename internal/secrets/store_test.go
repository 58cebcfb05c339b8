package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/state"
)

func newTestStore(t testing.TB, now func() time.Time) *Store {
	t.Helper()
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, _ := barrier.New(map[uint32][]byte{1: bytes.Repeat([]byte{7}, 32)}, 1)
	return New(st, b, Options{Now: now})
}

func strp(s string) *string { return &s }

func TestStore_Lookup(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, nil)
	// "db-abcdef" looks like NAME-SUFFIX itself; "db" exists too.
	a, err := s.Create(ctx, CreateInput{Name: "db-abcdef", Value: &Payload{SecretString: strp("long")}, Suffix: "XXXXXX"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, CreateInput{Name: "db", Value: &Payload{SecretString: strp("short")}, Suffix: "abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ id, want string }{
		{"db", "short"},
		{"db-abcdef", "long"},
		{b.ARN, "short"}, // full ARN of "db"
		{a.ARN, "long"},  // full ARN of "db-abcdef"
		// The partial ARN of "db-abcdef" is also the full ARN of "db":
		// the full reading wins, as in Secrets Manager.
		{strings.TrimSuffix(a.ARN, "-XXXXXX"), "short"},
		{strings.TrimSuffix(b.ARN, "-abcdef"), "short"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			v, err := s.GetValue(ctx, tt.id, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if *v.SecretString != tt.want {
				t.Fatalf("got %q, want %q", *v.SecretString, tt.want)
			}
		})
	}
	for _, id := range []string{"nope", "arn:aws:secretsmanager:eu-west-1:000000000000:secret:db", "arn:aws:rds:us-east-1:000000000000:cluster:db", "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-ZZZZZZ"} {
		if _, err := s.GetValue(ctx, id, "", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", id, err)
		}
	}
}

func TestStore_PutValueStages(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, nil)
	r1, _ := s.Create(ctx, CreateInput{Name: "x", Value: &Payload{SecretString: strp("1")}})
	r2, _ := s.PutValue(ctx, PutInput{SecretID: "x", Value: Payload{SecretString: strp("2")}})
	r3, _ := s.PutValue(ctx, PutInput{SecretID: "x", Value: Payload{SecretString: strp("3")}})
	sec, err := s.Describe(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	got := sec.VersionIDsToStages()
	want := map[string]string{r2.VersionID: StagePrevious, r3.VersionID: StageCurrent}
	if len(got) != 2 || got[r2.VersionID][0] != want[r2.VersionID] || got[r3.VersionID][0] != want[r3.VersionID] {
		t.Fatalf("stages = %v", got)
	}
	if _, ok := got[r1.VersionID]; ok {
		t.Fatal("oldest version kept a label")
	}
	if len(sec.Versions) != 3 {
		t.Fatalf("%d versions", len(sec.Versions))
	}
}

func TestStore_Prune(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newTestStore(t, func() time.Time { return now })
	_, _ = s.Create(ctx, CreateInput{Name: "p", Value: &Payload{SecretString: strp("0")}})
	for i := range maxVersions + 5 {
		if i == maxVersions-10 {
			now = now.Add(48 * time.Hour) // later versions are young
		}
		if _, err := s.PutValue(ctx, PutInput{SecretID: "p", Value: Payload{SecretString: strp(fmt.Sprint(i))}}); err != nil {
			t.Fatal(err)
		}
	}
	sec, _ := s.Describe(ctx, "p")
	if len(sec.Versions) != maxVersions {
		t.Fatalf("%d versions, want %d", len(sec.Versions), maxVersions)
	}
	if len(sec.VersionIDsToStages()) != 2 {
		t.Fatal("labeled versions pruned")
	}
}

func TestValue_Redacted(t *testing.T) {
	v := Value{ARN: "arn:x", VersionID: "v1", Payload: Payload{SecretString: strp("hunter2"), SecretBinary: []byte("hunter3")}}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("m", "v", v, "p", v.Payload, "vp", &v)
	for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%v", &v), fmt.Sprint(v.Payload), buf.String()} {
		if strings.Contains(s, "hunter") || strings.Contains(s, "aHVudGVy") {
			t.Errorf("value leaked: %s", s)
		}
	}
}

func TestStore_DecryptFailure(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, nil)
	_, _ = s.Create(ctx, CreateInput{Name: "k", Value: &Payload{SecretString: strp("v")}})
	other, _ := barrier.New(map[uint32][]byte{1: bytes.Repeat([]byte{8}, 32)}, 1)
	s2 := New(s.st, other, Options{})
	_, err := s2.GetValue(ctx, "k", "", "")
	if !errors.Is(err, ErrDecrypt) {
		t.Fatalf("got %v, want ErrDecrypt", err)
	}
}

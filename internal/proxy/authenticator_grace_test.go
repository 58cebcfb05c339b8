package proxy

import (
	"context"
	"sync"
	"testing"

	"github.com/sqlgate/sqlgate/internal/config"
)

// rotatingSecrets is a SecretReader whose value a test changes, with a
// grace value and a generation, like the server's secret store.
type rotatingSecrets struct {
	mu         sync.Mutex
	cur, grace string
	gen        uint64
	reads      int
}

func (r *rotatingSecrets) SecretString(_ context.Context, id string) (string, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	return "arn:" + id, r.cur, nil
}

func (r *rotatingSecrets) GraceSecretString(context.Context, string) (string, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.grace, r.grace != "", nil
}

func (r *rotatingSecrets) Generation() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gen
}

func (r *rotatingSecrets) set(cur, grace string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur, r.grace = cur, grace
	r.gen++
}

func TestAuthenticator_Grace(t *testing.T) {
	ctx := context.Background()
	src := &rotatingSecrets{cur: `{"username":"app","password":"one"}`}
	a := NewAuthenticator(Deps{Cluster: config.Cluster{Name: "c", Proxy: &config.Proxy{AuthSecrets: []string{"s"}, IAMAuth: IAMDisabled}}, Secrets: src})
	if _, err := a.CheckPassword(ctx, "app", "one"); err != nil {
		t.Fatal(err)
	}

	// Alternating users: app → app_clone; app keeps logging in (grace) and
	// the backend login is app_clone's.
	src.set(`{"username":"app_clone","password":"two"}`, `{"username":"app","password":"one"}`)
	l, err := a.CheckPassword(ctx, "app", "one")
	if err != nil || l.User != "app_clone" || l.Password != "two" {
		t.Fatalf("previous user: %+v %v", l, err)
	}
	pw, l, err := a.Secret(ctx, "app")
	if err != nil || pw != "one" || l.User != "app_clone" || l.Password != "two" {
		t.Fatalf("Secret(previous user) = %q %+v %v", pw, l, err)
	}
	if _, err := a.CheckPassword(ctx, "app", "two"); err == nil {
		t.Fatal("previous user logged in with the new user's password")
	}
	if pw, l, err := a.Secret(ctx, "app_clone"); err != nil || pw != "two" || l.User != "app_clone" {
		t.Fatalf("Secret(current user) = %q %+v %v", pw, l, err)
	}

	// Single user: the previous password is accepted by CheckPassword.
	src.set(`{"username":"app_clone","password":"three"}`, `{"username":"app_clone","password":"two"}`)
	if l, err := a.CheckPassword(ctx, "app_clone", "two"); err != nil || l.Password != "three" {
		t.Fatalf("previous password: %+v %v", l, err)
	}
	// The grace window ends: the old password is refused at once.
	src.set(`{"username":"app_clone","password":"three"}`, "")
	if _, err := a.CheckPassword(ctx, "app_clone", "two"); err == nil {
		t.Fatal("old password accepted after the grace window")
	}
	if _, _, err := a.Secret(ctx, "app"); err == nil {
		t.Fatal("previous user accepted after the grace window")
	}

	// Without a change the cache is used: no reads per login.
	src.mu.Lock()
	before := src.reads
	src.mu.Unlock()
	for i := 0; i < 10; i++ {
		if _, err := a.CheckPassword(ctx, "app_clone", "three"); err != nil {
			t.Fatal(err)
		}
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.reads != before {
		t.Fatalf("%d secret reads for 10 logins without a change", src.reads-before)
	}
}

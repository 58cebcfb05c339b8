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
	c, err := a.Passwords(ctx, "app")
	if err != nil || len(c) != 1 || c[0].Password != "one" || c[0].Login.User != "app_clone" || c[0].Login.Password != "two" {
		t.Fatalf("Passwords(previous user) = %+v %v", c, err)
	}
	if _, err := a.CheckPassword(ctx, "app", "two"); err == nil {
		t.Fatal("previous user logged in with the new user's password")
	}
	if c, err := a.Passwords(ctx, "app_clone"); err != nil || len(c) != 1 || c[0].Password != "two" || c[0].Login.User != "app_clone" {
		t.Fatalf("Passwords(current user) = %+v %v", c, err)
	}

	// Single user: the previous password is accepted by CheckPassword.
	src.set(`{"username":"app_clone","password":"three"}`, `{"username":"app_clone","password":"two"}`)
	if l, err := a.CheckPassword(ctx, "app_clone", "two"); err != nil || l.Password != "three" {
		t.Fatalf("previous password: %+v %v", l, err)
	}
	// ... and offered to challenge-response logins (SCRAM,
	// mysql_native_password) after the current one, both logging in to
	// the backend with the current password.
	c, err = a.Passwords(ctx, "app_clone")
	if err != nil || len(c) != 2 || c[0].Password != "three" || c[1].Password != "two" || c[1].Login.Password != "three" {
		t.Fatalf("Passwords during the grace window = %+v %v", c, err)
	}
	// The grace window ends: the old password is refused at once.
	src.set(`{"username":"app_clone","password":"three"}`, "")
	if _, err := a.CheckPassword(ctx, "app_clone", "two"); err == nil {
		t.Fatal("old password accepted after the grace window")
	}
	if _, err := a.Passwords(ctx, "app"); err == nil {
		t.Fatal("previous user accepted after the grace window")
	}
	if c, err := a.Passwords(ctx, "app_clone"); err != nil || len(c) != 1 {
		t.Fatalf("Passwords after the grace window = %+v %v", c, err)
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

func TestAuthenticator_Relogin(t *testing.T) {
	ctx := context.Background()
	src := &rotatingSecrets{cur: `{"username":"app","password":"one","dbname":"d"}`}
	a := NewAuthenticator(Deps{Cluster: config.Cluster{Name: "c", Proxy: &config.Proxy{AuthSecrets: []string{"s"}, IAMAuth: IAMDisabled}}, Secrets: src})
	old, err := a.CheckPassword(ctx, "app", "one")
	if err != nil {
		t.Fatal(err)
	}
	old.Database = "client_db"
	if _, ok := a.Relogin(ctx, old); ok {
		t.Fatal("Relogin offered a login with nothing changed")
	}
	// The set step runs: the pending password is the grace value while
	// the current one stays AWSCURRENT.
	src.set(`{"username":"app","password":"one","dbname":"d"}`, `{"username":"app","password":"two","dbname":"d"}`)
	l, ok := a.Relogin(ctx, old)
	if !ok || l.User != "app" || l.Password != "two" || l.Database != "client_db" || l.SecretARN != "arn:s" {
		t.Fatalf("Relogin while setting = %+v %v", l, ok)
	}
	// Finished: a client that logged in before gets the current login.
	src.set(`{"username":"app","password":"two","dbname":"d"}`, `{"username":"app","password":"one","dbname":"d"}`)
	if l, ok := a.Relogin(ctx, old); !ok || l.Password != "two" {
		t.Fatalf("Relogin after the rotation = %+v %v", l, ok)
	}
	if _, ok := a.Relogin(ctx, Login{User: "app", Password: "x"}); ok {
		t.Fatal("Relogin for a login from no secret")
	}
}

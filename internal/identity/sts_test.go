package identity

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
)

func trustDoc(principalARN string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole"}]}`, principalARN)
}

// assumeFixture is a user alice with a key, and role "app" that trusts her
// and may run ExecuteStatement on the default cluster.
func assumeFixture(t *testing.T) (*testStore, *iam.Principal, *Role) {
	t.Helper()
	ctx := context.Background()
	s := newTestStore(t)
	u := mustUser(t, s, "alice")
	mustUser(t, s, "mallory")
	k := mustKey(t, s, "alice")
	p, err := s.Principal(ctx, k.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	role, err := s.CreateRole(ctx, "app", "", trustDoc(u.ARN), "", 7200)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutRolePolicy(ctx, "app", "exec", allowDoc("rds-data:ExecuteStatement", clusterDefault)); err != nil {
		t.Fatal(err)
	}
	return s, p, role
}

func TestStore_CreateRole(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	trust := trustDoc("arn:aws:iam::" + testAccount + ":user/alice")
	r, err := s.CreateRole(ctx, "app", "/svc/", trust, "d", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.ARN != "arn:aws:iam::"+testAccount+":role/svc/app" || r.MaxSessionDuration != 3600 || r.RoleID[:4] != "AROA" {
		t.Errorf("got %+v", r)
	}
	tests := []struct {
		name, role, trust string
		maxSession        int
		want              error
	}{
		{"duplicate", "app", trust, 0, ErrExists},
		{"duplicate ignoring case", "APP", trust, 0, ErrExists},
		{"bad name", "a/b", trust, 0, ErrInvalidInput},
		{"malformed trust", "x", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, 0, ErrMalformedPolicy},
		{"short session", "x", trust, 3599, ErrInvalidInput},
		{"long session", "x", trust, 43201, ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateRole(ctx, tt.role, "", tt.trust, "", tt.maxSession)
			wantErr(t, err, tt.want)
		})
	}
	roles, err := s.ListRoles(ctx)
	if err != nil || len(roles) != 1 {
		t.Fatalf("got %v, %v", roles, err)
	}
	if err := s.DeleteRole(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteRole(ctx, "app"), ErrNotFound)
}

func TestStore_AssumeRole(t *testing.T) {
	ctx := context.Background()
	s, alice, role := assumeFixture(t)
	sess, c, err := s.AssumeRole(ctx, alice, AssumeInput{RoleARN: role.ARN, SessionName: "s1", Duration: 0})
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID[:4] != "ASIA" || c.SessionToken == "" || len(c.SecretAccessKey) != 40 {
		t.Errorf("got %+v", c)
	}
	if want := s.clock.Now().Add(time.Hour); !c.Expiration.Equal(want) || !sess.Expiration.Equal(want) {
		t.Errorf("expiration %v, want %v", c.Expiration, want)
	}
	if want := "arn:aws:sts::" + testAccount + ":assumed-role/app/s1"; sess.AssumedRoleARN != want {
		t.Errorf("assumed role ARN %s, want %s", sess.AssumedRoleARN, want)
	}
	secret, token, err := s.SecretKey(ctx, c.AccessKeyID)
	if err != nil || secret != c.SecretAccessKey || token != c.SessionToken {
		t.Fatalf("SecretKey: %v", err)
	}
	p, err := s.Principal(ctx, c.AccessKeyID)
	if err != nil || p.ARN != sess.AssumedRoleARN || p.RoleARN != role.ARN || p.UserID != role.RoleID+":s1" {
		t.Fatalf("got %+v, %v", p, err)
	}
	// The session has the role's permissions, not the caller's.
	if err := authorizeAs(t, s, c.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err != nil {
		t.Fatal(err)
	}
	if err := authorizeAs(t, s, c.AccessKeyID, "rds-data:BeginTransaction", clusterDefault); err == nil {
		t.Fatal("session allowed an action its role does not grant")
	}

	tests := []struct {
		name     string
		caller   *iam.Principal
		role     string
		session  string
		duration time.Duration
		want     error
	}{
		{"not trusted", &iam.Principal{ARN: "arn:aws:iam::" + testAccount + ":user/mallory", UserName: "mallory"}, role.ARN, "s2", 0, ErrAssumeDenied},
		{"other account", &iam.Principal{ARN: "arn:aws:iam::999999999999:user/alice", UserName: "alice"}, role.ARN, "s2", 0, ErrAssumeDenied},
		{"missing role", alice, "arn:aws:iam::" + testAccount + ":role/nope", "s2", 0, ErrNotFound},
		{"wrong path", alice, "arn:aws:iam::" + testAccount + ":role/x/app", "s2", 0, ErrNotFound},
		{"too short", alice, role.ARN, "s2", 14 * time.Minute, ErrInvalidInput},
		{"too long", alice, role.ARN, "s2", 7201 * time.Second, ErrInvalidInput},
		{"bad session name", alice, role.ARN, "a b", 0, ErrInvalidInput},
		{"short session name", alice, role.ARN, "a", 0, ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.AssumeRole(ctx, tt.caller, AssumeInput{RoleARN: tt.role, SessionName: tt.session, Duration: tt.duration})
			wantErr(t, err, tt.want)
		})
	}
	t.Run("limits", func(t *testing.T) {
		for _, d := range []time.Duration{15 * time.Minute, 2 * time.Hour} {
			if _, _, err := s.AssumeRole(ctx, alice, AssumeInput{RoleARN: role.ARN, SessionName: "s3", Duration: d}); err != nil {
				t.Errorf("duration %v: %v", d, err)
			}
		}
	})
}

func TestStore_AssumeRoleExpiry(t *testing.T) {
	ctx := context.Background()
	s, alice, role := assumeFixture(t)
	_, cached, err := s.AssumeRole(ctx, alice, AssumeInput{RoleARN: role.ARN, SessionName: "cached", Duration: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	_, cold, err := s.AssumeRole(ctx, alice, AssumeInput{RoleARN: role.ARN, SessionName: "cold", Duration: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SecretKey(ctx, cached.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(15*time.Minute - time.Second)
	if _, _, err := s.SecretKey(ctx, cached.AccessKeyID); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	s.clock.Advance(time.Second)
	for _, c := range []Credentials{cached, cold} {
		_, _, err := s.SecretKey(ctx, c.AccessKeyID)
		wantErr(t, err, ErrExpiredToken)
		_, err = s.Principal(ctx, c.AccessKeyID)
		wantErr(t, err, ErrExpiredToken)
		if !IsAuthError(err) {
			t.Errorf("IsAuthError(%v) = false", err)
		}
		p := &iam.Principal{ARN: "arn:aws:sts::" + testAccount + ":assumed-role/app/x", AccessKeyID: c.AccessKeyID, RoleARN: role.ARN}
		actx := iam.WithPrincipal(ctx, p, iam.RequestInfo{})
		if err := (Authorizer{Store: s.Store}).Authorize(actx, "rds-data:ExecuteStatement", clusterDefault); err == nil {
			t.Error("expired session authorized")
		}
	}
}

func TestStore_AssumeRoleDeletedRole(t *testing.T) {
	ctx := context.Background()
	s, alice, role := assumeFixture(t)
	_, c, err := s.AssumeRole(ctx, alice, AssumeInput{RoleARN: role.ARN, SessionName: "s1", Duration: 0})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SecretKey(ctx, c.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRolePolicy(ctx, "app", "exec"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRole(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	// Re-created with the same name and a policy: the old session must not
	// inherit it.
	if _, err := s.CreateRole(ctx, "app", "", trustDoc(alice.ARN), "", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRolePolicy(ctx, "app", "exec", allowDoc("*", "*")); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.SecretKey(ctx, c.AccessKeyID)
	wantErr(t, err, ErrNotFound)
}

func TestStore_PruneSessions(t *testing.T) {
	ctx := context.Background()
	s, alice, role := assumeFixture(t)
	_, old, err := s.AssumeRole(ctx, alice, AssumeInput{RoleARN: role.ARN, SessionName: "old", Duration: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(25 * time.Hour)
	if _, _, err := s.AssumeRole(ctx, alice, AssumeInput{RoleARN: role.ARN, SessionName: "new", Duration: 0}); err != nil {
		t.Fatal(err)
	}
	kvs, err := s.st.List(ctx, nsSessions, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range kvs {
		if strings.Contains(kv.Key, old.AccessKeyID) {
			t.Errorf("session expired a day ago not pruned")
		}
	}
	if len(kvs) != 1 {
		t.Errorf("%d sessions stored, want 1", len(kvs))
	}
}

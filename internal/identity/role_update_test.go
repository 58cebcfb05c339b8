package identity

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

func TestStore_RoleEdits(t *testing.T) {
	ctx := context.Background()
	s, caller, role := assumeFixture(t)
	desc := "edited"
	if err := s.UpdateRole(ctx, "app", &desc, 10800); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.UpdateRole(ctx, "app", nil, 60), ErrInvalidInput)
	wantErr(t, s.UpdateRole(ctx, "nope", &desc, 0), ErrNotFound)
	wantErr(t, s.UpdateAssumeRolePolicy(ctx, "app", `{"Statement":[]}`), ErrMalformedPolicy)
	if err := s.PutRolePolicy(ctx, "app", "a-first", allowDoc("secretsmanager:GetSecretValue", "*")); err != nil {
		t.Fatal(err)
	}
	names, err := s.ListRolePolicies(ctx, "app")
	if err != nil || !slices.Equal(names, []string{"a-first", "exec"}) {
		t.Fatalf("ListRolePolicies = %v, %v", names, err)
	}
	r, err := s.GetRole(ctx, "app")
	if err != nil || r.Description != "edited" || r.MaxSessionDuration != 10800 || !r.LastUsed.IsZero() {
		t.Fatalf("role %+v %v", r, err)
	}

	// A session's use is recorded as RoleLastUsed, with the region.
	_, creds, err := s.AssumeRole(ctx, caller, AssumeInput{RoleARN: role.ARN, SessionName: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	rctx := iam.WithPrincipal(ctx, caller, iam.RequestInfo{Region: "eu-west-1"})
	if _, err := s.Principal(rctx, creds.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "RoleLastUsed recorded", func() bool {
		r, err = s.GetRole(ctx, "app")
		return err == nil && !r.LastUsed.IsZero()
	})
	if !r.LastUsed.Equal(s.Store.clock()) || r.LastUsedRegion != "eu-west-1" {
		t.Fatalf("LastUsed %v %q", r.LastUsed, r.LastUsedRegion)
	}

	// After the trust policy changes, alice may no longer assume the role.
	if err := s.UpdateAssumeRolePolicy(ctx, "app", trustDoc("arn:aws:iam::"+testAccount+":user/mallory")); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.AssumeRole(ctx, caller, AssumeInput{RoleARN: role.ARN, SessionName: "s2"})
	if !errors.Is(err, ErrAssumeDenied) {
		t.Fatalf("assume after trust change: %v", err)
	}
}

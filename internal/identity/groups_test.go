package identity

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

func TestStore_Groups(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "fn")
	k := mustKey(t, s, "fn")
	g, err := s.CreateGroup(ctx, "readers", "/team/")
	if err != nil || g.ARN != "arn:aws:iam::000000000000:group/team/readers" || g.GroupID[:4] != "AGPA" {
		t.Fatalf("CreateGroup = %+v, %v", g, err)
	}
	_, err = s.CreateGroup(ctx, "READERS", "")
	wantErr(t, err, ErrExists)
	wantErr(t, s.AddUserToGroup(ctx, "nope", "fn"), ErrNotFound)
	wantErr(t, s.AddUserToGroup(ctx, "readers", "nobody"), ErrNotFound)

	// A group's inline and attached policies apply to its members only.
	if err := s.PutGroupPolicy(ctx, "readers", "seed", seedPolicy); err != nil {
		t.Fatal(err)
	}
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err == nil {
		t.Fatal("a group policy applies to a user outside the group")
	}
	if err := s.AddUserToGroup(ctx, "readers", "fn"); err != nil {
		t.Fatal(err)
	}
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err != nil {
		t.Fatalf("member denied by its group's inline policy: %v", err)
	}
	mp, err := s.CreatePolicy(ctx, "secrets", "", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AttachGroupPolicy(ctx, "readers", mp.ARN); err != nil {
		t.Fatal(err)
	}
	if err := authorizeAs(t, s, k.AccessKeyID, "secretsmanager:ListSecrets", "*"); err != nil {
		t.Fatalf("member denied by its group's attached policy: %v", err)
	}
	if p, _ := s.GetPolicy(ctx, mp.ARN); p.AttachmentCount != 1 {
		t.Fatalf("attachment count %d, want 1 (the group)", p.AttachmentCount)
	}
	members, err := s.GroupMembers(ctx, "readers")
	if err != nil || len(members) != 1 || members[0].UserName != "fn" {
		t.Fatalf("GroupMembers = %v, %v", members, err)
	}
	if gs, err := s.ListGroupsForUser(ctx, "fn"); err != nil || len(gs) != 1 || gs[0].GroupName != "readers" {
		t.Fatalf("ListGroupsForUser = %v, %v", gs, err)
	}

	// Members and policies block deletion, as on AWS.
	wantErr(t, s.DeleteGroup(ctx, "readers"), ErrDeleteConflict)
	wantErr(t, s.DeleteUser(ctx, "fn"), ErrDeleteConflict)
	wantErr(t, s.DeletePolicy(ctx, mp.ARN), ErrDeleteConflict)
	if err := s.RemoveUserFromGroup(ctx, "readers", "fn"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.RemoveUserFromGroup(ctx, "readers", "fn"), ErrNotFound)
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err == nil {
		t.Fatal("a removed member keeps the group's permissions")
	}
	wantErr(t, s.DeleteGroup(ctx, "readers"), ErrDeleteConflict) // policies left
	if err := s.DeleteGroupPolicy(ctx, "readers", "seed"); err != nil {
		t.Fatal(err)
	}
	if err := s.DetachGroupPolicy(ctx, "readers", mp.ARN); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, "readers"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetGroup(ctx, "readers")
	wantErr(t, err, ErrNotFound)
}

// TestStore_GroupWatch: a change to a group made by another node (another
// Store over the same state) reaches this node's cached permissions.
func TestStore_GroupWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newTestStore(t)
	other := New(s.st, s.b, testAccount)
	mustUser(t, s, "fn")
	k := mustKey(t, s, "fn")
	if _, err := s.CreateGroup(ctx, "readers", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUserToGroup(ctx, "readers", "fn"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Run(ctx, slog.New(slog.DiscardHandler)); close(done) }()
	defer func() { cancel(); <-done }()
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err == nil {
		t.Fatal("allowed before any policy")
	}
	if err := other.PutGroupPolicy(ctx, "readers", "seed", seedPolicy); err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, 2*time.Second, 10*time.Millisecond, "group policy put on another node applies", func() bool {
		return authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault) == nil
	})
	if err := other.RemoveUserFromGroup(ctx, "readers", "fn"); err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, 2*time.Second, 10*time.Millisecond, "membership removed on another node applies", func() bool {
		return authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault) != nil
	})
}

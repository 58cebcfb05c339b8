package identity

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/iam"
)

// seedPolicy is the seed's least-privilege policy, verbatim.
const seedPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rds-data:ExecuteStatement","rds-data:BatchExecuteStatement","rds-data:BeginTransaction","rds-data:CommitTransaction","rds-data:RollbackTransaction"],"Resource":"arn:aws:rds:us-east-1:000000000000:cluster:default"},{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":"arn:aws:secretsmanager:us-east-1:000000000000:secret:default-*"}]}`

const (
	clusterDefault = "arn:aws:rds:us-east-1:000000000000:cluster:default"
	secretDefault  = "arn:aws:secretsmanager:us-east-1:000000000000:secret:default-AbCdEf"
)

func allowDoc(action, resource string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%q,"Resource":%q}]}`, action, resource)
}

func denyDoc(action, resource string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":%q,"Resource":%q}]}`, action, resource)
}

// authorizeAs evaluates action on resource for the key's principal.
func authorizeAs(t *testing.T, s *testStore, akid, action, resource string) error {
	t.Helper()
	p, err := s.Principal(context.Background(), akid)
	if err != nil {
		t.Fatalf("principal %s: %v", akid, err)
	}
	ctx := iam.WithPrincipal(context.Background(), p, iam.RequestInfo{SourceIP: "127.0.0.1"})
	return Authorizer{Store: s.Store}.Authorize(ctx, action, resource)
}

func TestStore_CreatePolicy(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	p, err := s.CreatePolicy(ctx, "seed", "/app/", seedPolicy, "the seed")
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:iam::" + testAccount + ":policy/app/seed"; p.ARN != want || p.DefaultVersionID != "v1" || len(p.Versions) != 1 {
		t.Fatalf("got %+v, want ARN %s", p, want)
	}
	t.Run("duplicate", func(t *testing.T) {
		_, err := s.CreatePolicy(ctx, "seed", "", seedPolicy, "")
		wantErr(t, err, ErrExists)
		_, err = s.CreatePolicy(ctx, "SEED", "/other/", seedPolicy, "")
		wantErr(t, err, ErrExists)
	})
	t.Run("malformed", func(t *testing.T) {
		for _, doc := range []string{
			`{`,
			`{"Version":"2012-10-17","Statement":[]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Action":"*","Resource":"*"}]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}]}`,
		} {
			_, err := s.CreatePolicy(ctx, "bad", "", doc, "")
			wantErr(t, err, ErrMalformedPolicy)
		}
	})
	t.Run("too large", func(t *testing.T) {
		doc := allowDoc("rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:"+strings.Repeat("a", iam.MaxManagedPolicySize))
		_, err := s.CreatePolicy(ctx, "big", "", doc, "")
		wantErr(t, err, ErrLimitExceeded)
	})
	t.Run("get", func(t *testing.T) {
		got, err := s.GetPolicy(ctx, p.ARN)
		if err != nil || got.PolicyID != p.PolicyID || got.AttachmentCount != 0 {
			t.Fatalf("got %+v, %v", got, err)
		}
		for _, arn := range []string{
			"arn:aws:iam::" + testAccount + ":policy/seed", // wrong path
			"arn:aws:iam::999999999999:policy/app/seed",    // other account
			"arn:aws:iam::" + testAccount + ":policy/",
			"seed",
		} {
			_, err := s.GetPolicy(ctx, arn)
			wantErr(t, err, ErrNotFound)
		}
	})
}

func TestStore_CreatePolicyVersion(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "alice")
	k := mustKey(t, s, "alice")
	p, err := s.CreatePolicy(ctx, "p", "", allowDoc("rds-data:ExecuteStatement", clusterDefault), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AttachUserPolicy(ctx, "alice", p.ARN); err != nil {
		t.Fatal(err)
	}
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err != nil {
		t.Fatalf("v1: %v", err)
	}
	// v2 not default: permissions unchanged.
	v2, err := s.CreatePolicyVersion(ctx, p.ARN, allowDoc("rds-data:BeginTransaction", clusterDefault), false)
	if err != nil || v2.VersionID != "v2" || v2.IsDefault {
		t.Fatalf("got %+v, %v", v2, err)
	}
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:BeginTransaction", clusterDefault); err == nil {
		t.Fatal("non-default version v2 granted BeginTransaction")
	}
	// v3 default: v1's grant is gone at once, v3's is there.
	if _, err := s.CreatePolicyVersion(ctx, p.ARN, allowDoc("rds-data:CommitTransaction", clusterDefault), true); err != nil {
		t.Fatal(err)
	}
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err == nil {
		t.Fatal("old default version v1 still grants ExecuteStatement")
	}
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:CommitTransaction", clusterDefault); err != nil {
		t.Fatalf("v3: %v", err)
	}
	got, err := s.GetPolicy(ctx, p.ARN)
	if err != nil || got.DefaultVersionID != "v3" {
		t.Fatalf("got %+v, %v", got, err)
	}
	defaults := 0
	for _, v := range got.Versions {
		if v.IsDefault {
			defaults++
		}
	}
	if defaults != 1 {
		t.Errorf("%d default versions", defaults)
	}
	t.Run("limit", func(t *testing.T) {
		for i := 4; i <= MaxPolicyVersions; i++ {
			if _, err := s.CreatePolicyVersion(ctx, p.ARN, seedPolicy, false); err != nil {
				t.Fatalf("v%d: %v", i, err)
			}
		}
		_, err := s.CreatePolicyVersion(ctx, p.ARN, seedPolicy, false)
		wantErr(t, err, ErrLimitExceeded)
	})
	t.Run("get version", func(t *testing.T) {
		v, err := s.GetPolicyVersion(ctx, p.ARN, "v2")
		if err != nil || !strings.Contains(v.Document, "BeginTransaction") {
			t.Fatalf("got %+v, %v", v, err)
		}
		_, err = s.GetPolicyVersion(ctx, p.ARN, "v9")
		wantErr(t, err, ErrNotFound)
	})
	t.Run("malformed", func(t *testing.T) {
		_, err := s.CreatePolicyVersion(ctx, p.ARN, `{"Statement":"x"}`, true)
		wantErr(t, err, ErrMalformedPolicy)
	})
	t.Run("missing policy", func(t *testing.T) {
		_, err := s.CreatePolicyVersion(ctx, "arn:aws:iam::"+testAccount+":policy/nope", seedPolicy, true)
		wantErr(t, err, ErrNotFound)
	})
}

func TestStore_AttachUserPolicy(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "alice")
	k := mustKey(t, s, "alice")
	trust := trustDoc("arn:aws:iam::" + testAccount + ":user/alice")
	if _, err := s.CreateRole(ctx, "r", "", trust, "", 0); err != nil {
		t.Fatal(err)
	}
	p, err := s.CreatePolicy(ctx, "seed", "", seedPolicy, "")
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		got, err := s.GetPolicy(ctx, p.ARN)
		if err != nil {
			t.Fatal(err)
		}
		return got.AttachmentCount
	}
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err == nil {
		t.Fatal("user without policies is allowed")
	}
	if err := s.AttachUserPolicy(ctx, "alice", p.ARN); err != nil {
		t.Fatal(err)
	}
	if err := s.AttachUserPolicy(ctx, "alice", p.ARN); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := s.AttachRolePolicy(ctx, "r", p.ARN); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 2 {
		t.Errorf("attachment count %d, want 2", got)
	}
	all, err := s.ListPolicies(ctx)
	if err != nil || len(all) != 1 || all[0].AttachmentCount != 2 {
		t.Fatalf("list: %+v, %v", all, err)
	}
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err != nil {
		t.Fatalf("attached policy does not allow: %v", err)
	}
	wantErr(t, s.DeletePolicy(ctx, p.ARN), ErrDeleteConflict)
	wantErr(t, s.DeleteRole(ctx, "r"), ErrDeleteConflict)

	if err := s.DetachUserPolicy(ctx, "alice", p.ARN); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DetachUserPolicy(ctx, "alice", p.ARN), ErrNotFound)
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err == nil {
		t.Fatal("detached policy still allows")
	}
	if err := s.DetachRolePolicy(ctx, "r", p.ARN); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DetachRolePolicy(ctx, "r", p.ARN), ErrNotFound)
	if got := count(); got != 0 {
		t.Errorf("attachment count %d, want 0", got)
	}
	if err := s.DeletePolicy(ctx, p.ARN); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetPolicy(ctx, p.ARN)
	wantErr(t, err, ErrNotFound)

	t.Run("missing", func(t *testing.T) {
		missing := "arn:aws:iam::" + testAccount + ":policy/nope"
		wantErr(t, s.AttachUserPolicy(ctx, "alice", missing), ErrNotFound)
		wantErr(t, s.AttachRolePolicy(ctx, "r", missing), ErrNotFound)
		wantErr(t, s.DeletePolicy(ctx, missing), ErrNotFound)
		p2, err := s.CreatePolicy(ctx, "p2", "", seedPolicy, "")
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.AttachUserPolicy(ctx, "nobody", p2.ARN), ErrNotFound)
		wantErr(t, s.AttachRolePolicy(ctx, "nobody", p2.ARN), ErrNotFound)
	})
}

func TestStore_PutUserPolicy(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "alice")
	k := mustKey(t, s, "alice")
	if err := s.PutUserPolicy(ctx, "alice", "seed", seedPolicy); err != nil {
		t.Fatal(err)
	}
	doc, err := s.GetUserPolicy(ctx, "alice", "seed")
	if err != nil || doc != seedPolicy {
		t.Fatalf("got %q, %v", doc, err)
	}
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err != nil {
		t.Fatal(err)
	}
	// Replacing the document takes effect at once.
	if err := s.PutUserPolicy(ctx, "alice", "seed", allowDoc("rds-data:BeginTransaction", clusterDefault)); err != nil {
		t.Fatal(err)
	}
	if err := authorizeAs(t, s, k.AccessKeyID, "rds-data:ExecuteStatement", clusterDefault); err == nil {
		t.Fatal("replaced inline policy still allows")
	}
	if err := s.PutUserPolicy(ctx, "alice", "other", seedPolicy); err != nil {
		t.Fatal(err)
	}
	names, err := s.ListUserPolicies(ctx, "alice")
	if err != nil || strings.Join(names, ",") != "other,seed" {
		t.Fatalf("got %v, %v", names, err)
	}
	if err := s.DeleteUserPolicy(ctx, "alice", "other"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteUserPolicy(ctx, "alice", "other"), ErrNotFound)
	_, err = s.GetUserPolicy(ctx, "alice", "other")
	wantErr(t, err, ErrNotFound)
	wantErr(t, s.PutUserPolicy(ctx, "alice", "bad", `{"Version":"2012-10-17"}`), ErrMalformedPolicy)
	wantErr(t, s.PutUserPolicy(ctx, "alice", "bad name", seedPolicy), ErrInvalidInput)
	wantErr(t, s.PutUserPolicy(ctx, "nobody", "seed", seedPolicy), ErrNotFound)
}

func TestStore_PutRolePolicy(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	if _, err := s.CreateRole(ctx, "r", "", trustDoc("arn:aws:iam::"+testAccount+":root"), "", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRolePolicy(ctx, "r", "seed", seedPolicy); err != nil {
		t.Fatal(err)
	}
	doc, err := s.GetRolePolicy(ctx, "r", "seed")
	if err != nil || doc != seedPolicy {
		t.Fatalf("got %q, %v", doc, err)
	}
	wantErr(t, s.DeleteRole(ctx, "r"), ErrDeleteConflict)
	if err := s.DeleteRolePolicy(ctx, "r", "seed"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteRolePolicy(ctx, "r", "seed"), ErrNotFound)
	_, err = s.GetRolePolicy(ctx, "r", "seed")
	wantErr(t, err, ErrNotFound)
	wantErr(t, s.PutRolePolicy(ctx, "r", "bad", `[]`), ErrMalformedPolicy)
	wantErr(t, s.PutRolePolicy(ctx, "nobody", "seed", seedPolicy), ErrNotFound)
	if err := s.DeleteRole(ctx, "r"); err != nil {
		t.Fatal(err)
	}
}

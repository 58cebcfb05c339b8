package identity

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

const (
	allowExec = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:ExecuteStatement","Resource":"*"}]}`
	denyExec  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"rds-data:ExecuteStatement","Resource":"*"}]}`
)

// authorizeFrom authorizes action on resource for key akid as a request
// from sourceIP with the resource policy rp (nil for none).
func authorizeFrom(t *testing.T, s *Store, akid, sourceIP string, rp *iam.Policy, action, resource string) error {
	t.Helper()
	p, err := s.Principal(context.Background(), akid)
	if err != nil {
		return err
	}
	ctx := iam.WithPrincipal(context.Background(), p, iam.RequestInfo{SourceIP: sourceIP})
	if rp != nil {
		ctx = iam.WithResourcePolicy(ctx, rp)
	}
	return Authorizer{Store: s}.Authorize(ctx, action, resource)
}

// cachedDecisions is how many decisions key akid has cached.
func cachedDecisions(s *Store, akid string) int {
	e, err := s.lookup(context.Background(), akid)
	if err != nil {
		return -1
	}
	e.decisions.mu.RLock()
	defer e.decisions.mu.RUnlock()
	return len(e.decisions.m)
}

// Every change that can change a cached decision changes it at once: the
// decision is cached (and answered from the cache) until then.
func TestAuthorizer_DecisionCacheInvalidation(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "dc")
	k := mustKey(t, s, "dc").AccessKeyID
	if _, err := s.CreateGroup(ctx, "blocked", "/"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutGroupPolicy(ctx, "blocked", "deny", denyExec); err != nil {
		t.Fatal(err)
	}
	mp, err := s.CreatePolicy(ctx, "managed-deny", "/", denyExec, "")
	if err != nil {
		t.Fatal(err)
	}
	rpDeny, err := iam.ParseResourcePolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"rds-data:ExecuteStatement","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	// want checks the decision twice: the second answer comes from the
	// cache, which must hold it.
	want := func(step string, allow bool, rp *iam.Policy) {
		t.Helper()
		for i := range 2 {
			err := authorizeFrom(t, s.Store, k, "127.0.0.1", rp, "rds-data:ExecuteStatement", clusterDefault)
			if (err == nil) != allow {
				t.Fatalf("%s (call %d): got %v, want allowed=%v", step, i+1, err, allow)
			}
		}
		if n := cachedDecisions(s.Store, k); n < 1 {
			t.Fatalf("%s: %d decisions cached, want the condition-free one", step, n)
		}
	}
	want("no policy", false, nil)
	steps := []struct {
		name  string
		write func() error
		allow bool
	}{
		{"inline allow", func() error { return s.PutUserPolicy(ctx, "dc", "p", allowExec) }, true},
		{"inline allow replaced by deny", func() error { return s.PutUserPolicy(ctx, "dc", "p", denyExec) }, false},
		{"inline allow again", func() error { return s.PutUserPolicy(ctx, "dc", "p", allowExec) }, true},
		{"member of a denying group", func() error { return s.AddUserToGroup(ctx, "blocked", "dc") }, false},
		{"out of the group", func() error { return s.RemoveUserFromGroup(ctx, "blocked", "dc") }, true},
		{"managed deny attached", func() error { return s.AttachUserPolicy(ctx, "dc", mp.ARN) }, false},
		{"managed policy's new default version allows", func() error {
			_, err := s.CreatePolicyVersion(ctx, mp.ARN, allowExec, true)
			return err
		}, true},
		{"inline policy deleted (managed allows)", func() error { return s.DeleteUserPolicy(ctx, "dc", "p") }, true},
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		want(st.name, st.allow, nil)
	}
	// A resource policy is part of the key: a denying one is not answered
	// from the decision cached without it, and the other way round.
	want("denying resource policy", false, rpDeny)
	want("no resource policy", true, nil)
	// A deactivated key is refused, whatever was cached.
	if err := s.UpdateAccessKey(ctx, "dc", k, "Inactive"); err != nil {
		t.Fatal(err)
	}
	if err := authorizeFrom(t, s.Store, k, "127.0.0.1", nil, "rds-data:ExecuteStatement", clusterDefault); err == nil {
		t.Fatal("inactive key allowed")
	}
}

// A write on another node reaches a cached decision through the state
// store's watcher (Run).
func TestAuthorizer_DecisionCacheOtherNode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newTestStore(t)
	other := New(s.st, s.b, testAccount)
	mustUser(t, s, "dn")
	k := mustKey(t, s, "dn").AccessKeyID
	if err := s.PutUserPolicy(ctx, "dn", "p", allowExec); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Run(ctx, slog.New(slog.DiscardHandler)); close(done) }()
	defer func() { cancel(); <-done }()
	for range 2 {
		if err := authorizeFrom(t, s.Store, k, "127.0.0.1", nil, "rds-data:ExecuteStatement", clusterDefault); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.PutUserPolicy(ctx, "dn", "p", denyExec); err != nil {
		t.Fatal(err)
	}
	testdb.EventuallyState(t, time.Second, 10*time.Millisecond, func() (bool, string) {
		err := authorizeFrom(t, s.Store, k, "127.0.0.1", nil, "rds-data:ExecuteStatement", clusterDefault)
		return err != nil, "a deny written on another node is not seen"
	})
}

// A decision that reads the request context is never cached: the same
// key, action and resource get the answer their own request calls for,
// in any order.
func TestAuthorizer_DecisionCacheSkipsContext(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "cc")
	k := mustKey(t, s, "cc").AccessKeyID
	policies := map[string]string{
		"source ip condition": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:ExecuteStatement","Resource":"*",
			"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
		"conditional deny beside an allow": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:ExecuteStatement","Resource":"*"},
			{"Effect":"Deny","Action":"rds-data:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
		"policy variable": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:ExecuteStatement",
			"Resource":"arn:aws:rds:us-east-1:000000000000:cluster:${aws:SourceIp}"}]}`,
	}
	for name, doc := range policies {
		t.Run(name, func(t *testing.T) {
			if err := s.PutUserPolicy(ctx, "cc", "p", doc); err != nil {
				t.Fatal(err)
			}
			resource := clusterDefault
			if name == "policy variable" {
				resource = "arn:aws:rds:us-east-1:000000000000:cluster:10.1.2.3"
			}
			for i, ip := range []string{"10.1.2.3", "127.0.0.1", "10.1.2.3", "127.0.0.1"} {
				err := authorizeFrom(t, s.Store, k, ip, nil, "rds-data:ExecuteStatement", resource)
				if allow := ip == "10.1.2.3"; (err == nil) != allow {
					t.Fatalf("call %d from %s: got %v, want allowed=%v", i+1, ip, err, allow)
				}
			}
			if n := cachedDecisions(s.Store, k); n != 0 {
				t.Fatalf("%d context-dependent decisions cached", n)
			}
		})
	}
}

// A principal tag condition reads the principal's tags; tagging the user
// changes the decision at once.
func TestAuthorizer_DecisionCachePrincipalTag(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	mustUser(t, s, "tg")
	k := mustKey(t, s, "tg").AccessKeyID
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:ExecuteStatement","Resource":"*",
		"Condition":{"StringEquals":{"aws:PrincipalTag/team":"db"}}}]}`
	if err := s.PutUserPolicy(ctx, "tg", "p", doc); err != nil {
		t.Fatal(err)
	}
	for i, tag := range []string{"", "db", "web", "db"} {
		if tag != "" {
			if err := s.TagUser(ctx, "tg", Tags{{Key: "team", Value: tag}}); err != nil {
				t.Fatal(err)
			}
		}
		err := authorizeFrom(t, s.Store, k, "127.0.0.1", nil, "rds-data:ExecuteStatement", clusterDefault)
		if allow := tag == "db"; (err == nil) != allow {
			t.Fatalf("step %d (team=%q): got %v, want allowed=%v", i, tag, err, allow)
		}
	}
}

func BenchmarkAuthorizerCached(b *testing.B) {
	ctx := context.Background()
	s := newTestStore(b).Store
	if _, err := s.CreateUser(ctx, "bench", ""); err != nil {
		b.Fatal(err)
	}
	_, c, err := s.CreateAccessKey(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if err := s.PutUserPolicy(ctx, "bench", "p", seedPolicy); err != nil {
		b.Fatal(err)
	}
	p, err := s.Principal(ctx, c.AccessKeyID)
	if err != nil {
		b.Fatal(err)
	}
	rctx := iam.WithPrincipal(ctx, p, iam.RequestInfo{SourceIP: "127.0.0.1"})
	a := Authorizer{Store: s}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Authorize(rctx, "rds-data:ExecuteStatement", clusterDefault); err != nil {
			b.Fatal(fmt.Sprint(err))
		}
	}
}

package secretsapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/secrets"
	"github.com/sqlgate/sqlgate/internal/state"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

type testEnv struct {
	client *secretsmanager.Client
	url    string
	store  *secrets.Store
	st     *state.SQLite
	dbPath string
	clock  *testdb.Clock
	logs   *testdb.LogBuffer
	api    *API
}

// testHeaderUser makes the test middleware authenticate as a non-root user.
const testHeaderUser = "X-Test-User"

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	env := &testEnv{dbPath: filepath.Join(dir, "state.db"), clock: testdb.NewClock(time.Date(2026, 11, 24, 7, 35, 0, 0, time.UTC)), logs: &testdb.LogBuffer{}}
	st, err := state.OpenSQLite(env.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	env.st = st
	key := make([]byte, barrier.KeySize)
	rand.Read(key)
	b, err := barrier.New(map[uint32][]byte{1: key}, 1)
	if err != nil {
		t.Fatal(err)
	}
	env.store = secrets.New(st, b, secrets.Options{Now: env.clock.Now})
	log := slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env.api = New(env.store, iam.RootOnly{}, log)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := &iam.Principal{ARN: "arn:aws:iam::000000000000:root", AccessKeyID: "AKIDEXAMPLE", Root: true}
		if u := r.Header.Get(testHeaderUser); u != "" {
			p = &iam.Principal{ARN: "arn:aws:iam::000000000000:user/" + u, AccessKeyID: "AKIDUSER", UserName: u}
		}
		env.api.ServeHTTP(w, r.WithContext(iam.WithPrincipal(r.Context(), p, iam.RequestInfo{SourceIP: r.RemoteAddr})))
	}))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	env.url = srv.URL
	env.client = secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""),
		Retryer:      aws.NopRetryer{},
	})
	return env
}

var arnRE = regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:(.+)-[A-Za-z0-9]{6}$`)

func (e *testEnv) create(t *testing.T, name, value string) *secretsmanager.CreateSecretOutput {
	t.Helper()
	out, err := e.client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: &name, SecretString: &value})
	if err != nil {
		t.Fatalf("CreateSecret %s: %v", name, err)
	}
	return out
}

// wantAPIError asserts err is the SDK error type T and, if msg is set,
// carries that message.
func wantAPIError[T smithy.APIError](t *testing.T, err error, msg string) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("got error %T %v, want %T", err, err, target)
	}
	if msg != "" && target.ErrorMessage() != msg {
		t.Fatalf("message = %q, want %q", target.ErrorMessage(), msg)
	}
	return target
}

func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("code = %s (%v), want %s", ae.ErrorCode(), err, code)
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("message = %q, want %q", ae.ErrorMessage(), msg)
	}
}

func TestAPI_CreateSecret(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	t.Run("string", func(t *testing.T) {
		out, err := e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String("app/db"), SecretString: aws.String(`{"username":"u","password":"p"}`),
			Description: aws.String("the db"), KmsKeyId: aws.String("alias/mine"),
			Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if m := arnRE.FindStringSubmatch(*out.ARN); m == nil || m[1] != "app/db" {
			t.Fatalf("ARN = %s", *out.ARN)
		}
		if *out.Name != "app/db" || out.VersionId == nil {
			t.Fatalf("out = %+v", out)
		}
	})
	t.Run("binary", func(t *testing.T) {
		bin := []byte{0, 1, 2, 0xff}
		_, err := e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bin"), SecretBinary: bin})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("bin")})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.SecretBinary, bin) || got.SecretString != nil {
			t.Fatalf("got %v / %v", got.SecretBinary, got.SecretString)
		}
	})
	t.Run("no value", func(t *testing.T) {
		out, err := e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("empty")})
		if err != nil {
			t.Fatal(err)
		}
		if out.VersionId != nil {
			t.Fatalf("VersionId = %v, want none", *out.VersionId)
		}
		_, err = e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("empty")})
		wantAPIError[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")
	})
	t.Run("exists", func(t *testing.T) {
		_, err := e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("x")})
		wantAPIError[*types.ResourceExistsException](t, err, "The operation failed because the secret app/db already exists.")
	})
	t.Run("idempotent token", func(t *testing.T) {
		tok := "11111111-2222-3333-4444-555555555555"
		in := &secretsmanager.CreateSecretInput{Name: aws.String("idem"), SecretString: aws.String("v"), ClientRequestToken: &tok}
		a, err := e.client.CreateSecret(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.client.CreateSecret(ctx, in)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if *a.ARN != *b.ARN || *a.VersionId != tok || *b.VersionId != tok {
			t.Fatalf("retry returned %s %s, first %s %s", *b.ARN, *b.VersionId, *a.ARN, *a.VersionId)
		}
		in.SecretString = aws.String("different")
		_, err = e.client.CreateSecret(ctx, in)
		wantAPIError[*types.ResourceExistsException](t, err, "")
	})
	t.Run("both values", func(t *testing.T) {
		_, err := e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("s"), SecretBinary: []byte("b")})
		wantAPIError[*types.InvalidParameterException](t, err, msgBothValues)
	})
	t.Run("invalid name", func(t *testing.T) {
		_, err := e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name!"), SecretString: aws.String("s")})
		wantAPIError[*types.InvalidParameterException](t, err, "")
	})
}

func TestAPI_GetSecretValue(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.create(t, "db-cred", "s3cr3t")
	arn := *c.ARN
	partial := arn[:len(arn)-7]
	for _, id := range []string{"db-cred", arn, partial} {
		t.Run(id, func(t *testing.T) {
			got, err := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &id})
			if err != nil {
				t.Fatal(err)
			}
			if *got.SecretString != "s3cr3t" || *got.ARN != arn || *got.Name != "db-cred" || *got.VersionId != *c.VersionId {
				t.Fatalf("got %+v", got)
			}
			if len(got.VersionStages) != 1 || got.VersionStages[0] != "AWSCURRENT" {
				t.Fatalf("stages = %v", got.VersionStages)
			}
			if !got.CreatedDate.Equal(e.clock.Now()) {
				t.Fatalf("CreatedDate = %v, want %v", got.CreatedDate, e.clock.Now())
			}
		})
	}
	tests := []struct {
		name  string
		in    secretsmanager.GetSecretValueInput
		check func(t *testing.T, err error)
	}{
		{"missing", secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")}, func(t *testing.T, err error) {
			wantAPIError[*types.ResourceNotFoundException](t, err, msgNotFound)
		}},
		{"wrong suffix", secretsmanager.GetSecretValueInput{SecretId: aws.String(partial + "-ZZZZZZ")}, func(t *testing.T, err error) {
			wantAPIError[*types.ResourceNotFoundException](t, err, msgNotFound)
		}},
		{"other account", secretsmanager.GetSecretValueInput{SecretId: aws.String("arn:aws:secretsmanager:us-east-1:111111111111:secret:db-cred")}, func(t *testing.T, err error) {
			wantAPIError[*types.ResourceNotFoundException](t, err, msgNotFound)
		}},
		{"unknown version", secretsmanager.GetSecretValueInput{SecretId: aws.String("db-cred"), VersionId: aws.String("00000000-0000-0000-0000-000000000000")}, func(t *testing.T, err error) {
			wantAPIError[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret value for VersionId: 00000000-0000-0000-0000-000000000000")
		}},
		{"unknown stage", secretsmanager.GetSecretValueInput{SecretId: aws.String("db-cred"), VersionStage: aws.String("AWSPREVIOUS")}, func(t *testing.T, err error) {
			wantAPIError[*types.ResourceNotFoundException](t, err, "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS")
		}},
		{"stage mismatch", secretsmanager.GetSecretValueInput{SecretId: aws.String("db-cred"), VersionId: c.VersionId, VersionStage: aws.String("AWSPENDING")}, func(t *testing.T, err error) {
			wantAPIError[*types.InvalidRequestException](t, err, msgStageMismatch)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client.GetSecretValue(ctx, &tt.in)
			tt.check(t, err)
		})
	}
}

func TestAPI_PutSecretValue(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.create(t, "rot", "v1")
	e.clock.Advance(time.Minute)
	p, err := e.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("rot"), SecretString: aws.String("v2")})
	if err != nil {
		t.Fatal(err)
	}
	if *p.VersionId == *c.VersionId || len(p.VersionStages) != 1 || p.VersionStages[0] != "AWSCURRENT" {
		t.Fatalf("put = %+v", p)
	}
	cur, _ := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("rot")})
	prev, err := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("rot"), VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil {
		t.Fatal(err)
	}
	if *cur.SecretString != "v2" || *prev.SecretString != "v1" || *prev.VersionId != *c.VersionId {
		t.Fatalf("current %q previous %q", *cur.SecretString, *prev.SecretString)
	}
	byID, err := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("rot"), VersionId: c.VersionId})
	if err != nil || *byID.SecretString != "v1" {
		t.Fatalf("by id: %v", err)
	}

	t.Run("pending stage", func(t *testing.T) {
		out, err := e.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String("rot"), SecretString: aws.String("v3"), VersionStages: []string{"AWSPENDING"},
		})
		if err != nil {
			t.Fatal(err)
		}
		cur, _ := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("rot")})
		if *cur.SecretString != "v2" {
			t.Fatalf("AWSCURRENT moved to %q", *cur.SecretString)
		}
		pend, _ := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("rot"), VersionStage: aws.String("AWSPENDING")})
		if *pend.VersionId != *out.VersionId {
			t.Fatal("AWSPENDING not on new version")
		}
	})
	t.Run("idempotent token", func(t *testing.T) {
		tok := "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
		in := &secretsmanager.PutSecretValueInput{SecretId: aws.String("rot"), SecretString: aws.String("v4"), ClientRequestToken: &tok}
		for range 2 {
			out, err := e.client.PutSecretValue(ctx, in)
			if err != nil || *out.VersionId != tok {
				t.Fatalf("put: %v", err)
			}
		}
		in.SecretString = aws.String("v5")
		_, err := e.client.PutSecretValue(ctx, in)
		wantAPIError[*types.ResourceExistsException](t, err, msgVersionExists)
	})
	t.Run("no value", func(t *testing.T) {
		_, err := e.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("rot")})
		wantAPIError[*types.InvalidRequestException](t, err, msgNoValue)
	})
	t.Run("missing secret", func(t *testing.T) {
		_, err := e.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String("x")})
		wantAPIError[*types.ResourceNotFoundException](t, err, msgNotFound)
	})
}

func TestAPI_UpdateSecret(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.create(t, "u", "v1")
	out, err := e.client.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String("u"), Description: aws.String("new desc"), KmsKeyId: aws.String("k2")})
	if err != nil {
		t.Fatal(err)
	}
	if out.VersionId != nil || *out.ARN != *c.ARN {
		t.Fatalf("metadata-only update returned %+v", out)
	}
	out, err = e.client.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: c.ARN, SecretString: aws.String("v2")})
	if err != nil {
		t.Fatal(err)
	}
	if out.VersionId == nil {
		t.Fatal("no version for value update")
	}
	d, err := e.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("u")})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Description != "new desc" || *d.KmsKeyId != "k2" {
		t.Fatalf("describe = %+v", d)
	}
	if got := d.VersionIdsToStages[*out.VersionId]; len(got) != 1 || got[0] != "AWSCURRENT" {
		t.Fatalf("stages of new version = %v", got)
	}
	if got := d.VersionIdsToStages[*c.VersionId]; len(got) != 1 || got[0] != "AWSPREVIOUS" {
		t.Fatalf("stages of old version = %v", got)
	}
	_, err = e.client.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String("nope"), Description: aws.String("x")})
	wantAPIError[*types.ResourceNotFoundException](t, err, msgNotFound)
}

func TestAPI_DescribeSecret(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c, err := e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("d"), SecretString: aws.String("x"), Description: aws.String("desc"),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("d")}); err != nil {
		t.Fatal(err)
	}
	d, err := e.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("d")})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if *d.ARN != *c.ARN || *d.Name != "d" || *d.Description != "desc" || len(d.Tags) != 1 || *d.Tags[0].Key != "a" {
		t.Fatalf("describe = %+v", d)
	}
	if !d.CreatedDate.Equal(now) || !d.LastChangedDate.Equal(now) || !d.LastAccessedDate.Equal(now.Truncate(24*time.Hour)) {
		t.Fatalf("dates created=%v changed=%v accessed=%v", d.CreatedDate, d.LastChangedDate, d.LastAccessedDate)
	}
	if d.DeletedDate != nil {
		t.Fatal("DeletedDate set on live secret")
	}
	_, err = e.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("nope")})
	wantAPIError[*types.ResourceNotFoundException](t, err, msgNotFound)
}

func TestAPI_DeleteRestore(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.create(t, "del", "x")
	out, err := e.client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("del")})
	if err != nil {
		t.Fatal(err)
	}
	if want := e.clock.Now().Add(30 * 24 * time.Hour); !out.DeletionDate.Equal(want) {
		t.Fatalf("DeletionDate = %v, want %v", out.DeletionDate, want)
	}
	_, err = e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("del")})
	wantAPIError[*types.InvalidRequestException](t, err, msgMarkedDeleted)
	_, err = e.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("del"), SecretString: aws.String("y")})
	wantAPIError[*types.InvalidRequestException](t, err, msgMarkedDeleted)
	_, err = e.client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("del")})
	wantAPIError[*types.InvalidRequestException](t, err, msgMarkedDeleted)
	_, err = e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("del"), SecretString: aws.String("x")})
	wantAPIError[*types.InvalidRequestException](t, err, msgCreateDeleted)
	d, err := e.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("del")})
	if err != nil || d.DeletedDate == nil || !d.DeletedDate.Equal(e.clock.Now()) {
		t.Fatalf("describe scheduled: %v %+v", err, d)
	}
	if _, err := e.client.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String("del")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("del")}); err != nil {
		t.Fatalf("after restore: %v", err)
	}

	t.Run("window bounds", func(t *testing.T) {
		for _, days := range []int64{6, 31} {
			_, err := e.client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("del"), RecoveryWindowInDays: aws.Int64(days)})
			wantAPIError[*types.InvalidParameterException](t, err, "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
	})
	t.Run("force and window", func(t *testing.T) {
		_, err := e.client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("del"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)})
		wantAPIError[*types.InvalidParameterException](t, err, msgForceAndWindow)
	})
	t.Run("purge after window", func(t *testing.T) {
		e.create(t, "purge", "x")
		if _, err := e.client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("purge"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(7*24*time.Hour + time.Second)
		_, err := e.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("purge")})
		wantAPIError[*types.ResourceNotFoundException](t, err, msgNotFound)
		if _, err := e.st.Get(ctx, "secrets", "purge"); !errors.Is(err, state.ErrNotFound) {
			t.Fatalf("record not purged: %v", err)
		}
		e.create(t, "purge", "reborn") // the name is free again
	})
	t.Run("force", func(t *testing.T) {
		out, err := e.client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("del"), ForceDeleteWithoutRecovery: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if !out.DeletionDate.Equal(e.clock.Now()) {
			t.Fatalf("DeletionDate = %v", out.DeletionDate)
		}
		_, err = e.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("del")})
		wantAPIError[*types.ResourceNotFoundException](t, err, msgNotFound)
		_, err = e.client.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String("del")})
		wantAPIError[*types.ResourceNotFoundException](t, err, msgNotFound)
	})
}

func TestAPI_TagUntag(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.create(t, "t", "x")
	_, err := e.client.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("t"), Tags: []types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("t"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("9")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String("t"), TagKeys: []string{"b", "zz"}}); err != nil {
		t.Fatal(err)
	}
	d, _ := e.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("t")})
	if len(d.Tags) != 1 || *d.Tags[0].Key != "a" || *d.Tags[0].Value != "9" {
		t.Fatalf("tags = %+v", d.Tags)
	}
	_, err = e.client.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("nope"), Tags: []types.Tag{}})
	wantAPIError[*types.ResourceNotFoundException](t, err, msgNotFound)
}

func TestAPI_UpdateSecretVersionStage(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.create(t, "s", "v1")
	p, _ := e.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("v2")})
	v1, v2 := *c.VersionId, *p.VersionId

	_, err := e.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: &v1})
	wantAPIError[*types.InvalidParameterException](t, err, "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version "+v2+", so you must explicitly reference that version in RemoveFromVersionId.")

	// Roll back: AWSCURRENT to v1, and v2 becomes AWSPREVIOUS.
	_, err = e.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: &v1, RemoveFromVersionId: &v2})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := e.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	if got := d.VersionIdsToStages; len(got[v1]) != 1 || got[v1][0] != "AWSCURRENT" || len(got[v2]) != 1 || got[v2][0] != "AWSPREVIOUS" {
		t.Fatalf("stages = %v", got)
	}
	// Custom label on, then off.
	if _, err := e.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("blue"), MoveToVersionId: &v2}); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("blue")})
	if err != nil || *got.SecretString != "v2" {
		t.Fatalf("blue: %v", err)
	}
	if _, err := e.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("blue"), RemoveFromVersionId: &v2}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("blue")})
	wantAPIError[*types.ResourceNotFoundException](t, err, "")
	_, err = e.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"), RemoveFromVersionId: &v1})
	wantAPIError[*types.InvalidParameterException](t, err, "")
	_, err = e.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("x"), MoveToVersionId: aws.String("00000000-0000-0000-0000-000000000000")})
	wantAPIError[*types.ResourceNotFoundException](t, err, "")
}

func TestAPI_AccessDenied(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.create(t, "guarded", "x")
	asBob := func(o *secretsmanager.Options) {
		o.APIOptions = append(o.APIOptions, addHeader(testHeaderUser, "bob"))
	}
	_, err := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("guarded")}, asBob)
	// The secret is named as the request named it: the same message
	// whether it exists or not, and not its full ARN.
	wantCode(t, err, "AccessDeniedException",
		"User: arn:aws:iam::000000000000:user/bob is not authorized to perform: secretsmanager:GetSecretValue on resource: guarded"+
			" because no identity-based policy allows the secretsmanager:GetSecretValue action")
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != 400 {
		t.Fatalf("status = %d, want 400", re.HTTPStatusCode())
	}
	// A missing secret is denied too, not reported missing.
	_, err = e.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("nope")}, asBob)
	wantCode(t, err, "AccessDeniedException", "")
	_, err = e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("new"), SecretString: aws.String("x")}, asBob)
	wantCode(t, err, "AccessDeniedException", "")
	_, err = e.client.ListSecrets(ctx, &secretsmanager.ListSecretsInput{}, asBob)
	wantCode(t, err, "AccessDeniedException", "User: arn:aws:iam::000000000000:user/bob is not authorized to perform: secretsmanager:ListSecrets on resource: * because no identity-based policy allows the secretsmanager:ListSecrets action")
}

// TestAPI_ConcurrentPut races PutSecretValue calls; every one must leave a
// version behind.
func TestAPI_ConcurrentPut(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.create(t, "hot", "v0")
	const n = 40
	var wg sync.WaitGroup
	ids := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			out, err := e.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("hot"), SecretString: aws.String("v" + string(rune('a'+i%26)))})
			if err != nil {
				t.Error(err)
				return
			}
			ids <- *out.VersionId
		})
	}
	wg.Wait()
	close(ids)
	out, err := e.client.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("hot"), IncludeDeprecated: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string][]string{}
	for _, v := range out.Versions {
		have[*v.VersionId] = v.VersionStages
	}
	if len(have) != n+1 {
		t.Fatalf("%d versions, want %d", len(have), n+1)
	}
	for id := range ids {
		if _, ok := have[id]; !ok {
			t.Errorf("version %s lost", id)
		}
	}
	var cur, prev int
	for _, st := range have {
		for _, s := range st {
			cur += b2i(s == "AWSCURRENT")
			prev += b2i(s == "AWSPREVIOUS")
		}
	}
	if cur != 1 || prev != 1 {
		t.Fatalf("AWSCURRENT on %d versions, AWSPREVIOUS on %d", cur, prev)
	}
	// Without IncludeDeprecated only the two labeled versions are listed.
	out, _ = e.client.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("hot")})
	if len(out.Versions) != 2 {
		t.Fatalf("labeled versions = %d", len(out.Versions))
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

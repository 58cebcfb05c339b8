package secretsapi

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// addHeader is an SDK option adding a header to the request.
func addHeader(k, v string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Build.Add(middleware.BuildMiddlewareFunc("testHeader"+k, func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				req.Header.Set(k, v)
			}
			return next.HandleBuild(ctx, in)
		}), middleware.After)
	}
}

func TestAPI_ListSecrets(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	mk := func(name, desc string, tags ...string) {
		in := &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("x"), Description: aws.String(desc)}
		for i := 0; i < len(tags); i += 2 {
			in.Tags = append(in.Tags, types.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
		}
		if _, err := e.client.CreateSecret(ctx, in); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
	}
	mk("prod/db", "Production database", "env", "prod", "team", "core")
	mk("prod/cache", "redis", "env", "prod")
	mk("dev/db", "development Database", "env", "dev")
	mk("credsDatabase892", "other")
	mk("gone", "to delete")
	if _, err := e.client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}

	f := func(key types.FilterNameStringType, vals ...string) types.Filter {
		return types.Filter{Key: key, Values: vals}
	}
	tests := []struct {
		name string
		in   secretsmanager.ListSecretsInput
		want []string
	}{
		{"all by created", secretsmanager.ListSecretsInput{}, []string{"prod/db", "prod/cache", "dev/db", "credsDatabase892"}},
		{"desc", secretsmanager.ListSecretsInput{SortOrder: types.SortOrderTypeDesc}, []string{"credsDatabase892", "dev/db", "prod/cache", "prod/db"}},
		{"sort by name", secretsmanager.ListSecretsInput{SortBy: types.SortByTypeName}, []string{"credsDatabase892", "dev/db", "prod/cache", "prod/db"}},
		{"planned deletion", secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)}, []string{"prod/db", "prod/cache", "dev/db", "credsDatabase892", "gone"}},
		{"name prefix", secretsmanager.ListSecretsInput{Filters: []types.Filter{f("name", "prod/")}}, []string{"prod/db", "prod/cache"}},
		{"name case-sensitive", secretsmanager.ListSecretsInput{Filters: []types.Filter{f("name", "Prod/")}}, nil},
		{"name negated", secretsmanager.ListSecretsInput{Filters: []types.Filter{f("name", "!prod/")}}, []string{"dev/db", "credsDatabase892"}},
		{"name or", secretsmanager.ListSecretsInput{Filters: []types.Filter{f("name", "dev", "creds")}}, []string{"dev/db", "credsDatabase892"}},
		{"description any case", secretsmanager.ListSecretsInput{Filters: []types.Filter{f("description", "production")}}, []string{"prod/db"}},
		{"tag-key", secretsmanager.ListSecretsInput{Filters: []types.Filter{f("tag-key", "tea")}}, []string{"prod/db"}},
		{"tag-value and name", secretsmanager.ListSecretsInput{Filters: []types.Filter{f("tag-value", "prod"), f("name", "!prod/db")}}, []string{"prod/cache"}},
		{"all words", secretsmanager.ListSecretsInput{Filters: []types.Filter{f("all", "DATABASE")}}, []string{"prod/db", "dev/db", "credsDatabase892"}},
		{"all split", secretsmanager.ListSecretsInput{Filters: []types.Filter{f("all", "redis#zzz")}}, []string{"prod/cache"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.client.ListSecrets(ctx, &tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range out.SecretList {
				got = append(got, *s.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("entry fields", func(t *testing.T) {
		out, _ := e.client.ListSecrets(ctx, &secretsmanager.ListSecretsInput{Filters: []types.Filter{f("name", "prod/db")}})
		s := out.SecretList[0]
		if s.ARN == nil || s.CreatedDate == nil || s.LastChangedDate == nil || len(s.Tags) != 2 || len(s.SecretVersionsToStages) != 1 || *s.Description != "Production database" {
			t.Fatalf("entry = %+v", s)
		}
	})
	t.Run("paginate", func(t *testing.T) {
		p := secretsmanager.NewListSecretsPaginator(e.client, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(3), IncludePlannedDeletion: aws.Bool(true)})
		var got []string
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, s := range out.SecretList {
				got = append(got, *s.Name)
			}
		}
		if pages != 2 || len(got) != 5 {
			t.Fatalf("%d pages, %q", pages, got)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		_, err := e.client.ListSecrets(ctx, &secretsmanager.ListSecretsInput{NextToken: aws.String("garbage")})
		wantAPIError[*types.InvalidNextTokenException](t, err, msgBadNextToken)
	})
	t.Run("token bound to filters", func(t *testing.T) {
		out, _ := e.client.ListSecrets(ctx, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(1)})
		_, err := e.client.ListSecrets(ctx, &secretsmanager.ListSecretsInput{NextToken: out.NextToken, Filters: []types.Filter{f("name", "x")}})
		wantAPIError[*types.InvalidNextTokenException](t, err, "")
	})
	t.Run("max results", func(t *testing.T) {
		_, err := e.client.ListSecrets(ctx, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(101)})
		wantCode(t, err, "ValidationException", "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100")
	})
}

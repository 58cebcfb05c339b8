package secretsapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/door"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/secrets"
	"github.com/sqlgate/sqlgate/internal/state"
)

// FuzzAPI_Handle feeds arbitrary bodies to every operation: Handle must
// never panic and must answer 200 or a well-formed AWS 4xx error.
func FuzzAPI_Handle(f *testing.F) {
	st, err := state.OpenSQLite(filepath.Join(f.TempDir(), "state.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	b, _ := barrier.New(map[uint32][]byte{1: make([]byte, 32)}, 1)
	store := secrets.New(st, b, secrets.Options{})
	api := New(store, iam.RootOnly{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := iam.WithPrincipal(context.Background(), &iam.Principal{ARN: "arn:aws:iam::000000000000:root", Root: true}, iam.RequestInfo{})
	_, _ = store.Create(ctx, secrets.CreateInput{Name: "seed", Value: &secrets.Payload{SecretString: new(string)}})

	ops := []string{"CreateSecret", "GetSecretValue", "PutSecretValue", "UpdateSecret", "DescribeSecret", "ListSecrets",
		"ListSecretVersionIds", "DeleteSecret", "RestoreSecret", "TagResource", "UntagResource", "UpdateSecretVersionStage",
		"GetRandomPassword", "BatchGetSecretValue", "GetResourcePolicy", "PutResourcePolicy", "DeleteResourcePolicy",
		"ValidateResourcePolicy", "RotateSecret", "CancelRotateSecret", "Bogus"}
	seeds := []string{
		`{"SecretId":"seed"}`, `{"Name":"n","SecretString":"v"}`, `{"SecretId":"seed","SecretBinary":"AAAA"}`,
		`{"Filters":[{"Key":"all","Values":["!a","b"]}],"MaxResults":1,"NextToken":"eyJvIjoxfQ"}`,
		`{"SecretId":"arn:aws:secretsmanager:us-east-1:000000000000:secret:seed-abcdef"}`,
		`{"SecretId":"seed","RecoveryWindowInDays":7,"ForceDeleteWithoutRecovery":true}`,
		`{"SecretId":"seed","VersionStage":"AWSCURRENT","MoveToVersionId":"x"}`,
		`{"SecretId":"seed","Tags":[{"Key":null}]}`, `null`, `[]`, `{`, ``, `{"SecretId":1e999}`,
		`{"PasswordLength":5,"ExcludeCharacters":"abc","IncludeSpace":true,"RequireEachIncludedType":true}`,
		`{"PasswordLength":4097}`, `{"ExcludeNumbers":true,"ExcludePunctuation":true,"ExcludeUppercase":true,"ExcludeLowercase":true}`,
		`{"SecretIdList":["seed","nope"]}`, `{"Filters":[{"Key":"name","Values":["se"]}],"MaxResults":1}`,
		`{"SecretId":"seed","ResourcePolicy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"secretsmanager:*\",\"Resource\":\"*\"}]}","BlockPublicPolicy":true}`,
		`{"ResourcePolicy":"{"}`,
		`{"SecretId":"seed","RotationRules":{"ScheduleExpression":"cron(0 4 ? * MON-FRI *)","Duration":"3h"},"RotateImmediately":false}`,
		`{"SecretId":"seed","RotationRules":{"AutomaticallyAfterDays":0}}`, `{"SecretId":"seed","RotationRules":{"ScheduleExpression":"rate(5 hours)"}}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, opIdx uint8, body string) {
		op := ops[int(opIdx)%len(ops)]
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", nil).WithContext(ctx)
		api.Serve(rec, door.Request{HTTP: req, Op: "secretsmanager." + op, Body: []byte(body)})
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("%s %q: status %d: %s", op, body, rec.Code, rec.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s %q: response not a JSON object: %s", op, body, rec.Body)
		}
		if rec.Code == 400 {
			if code, _ := m["__type"].(string); code == "" || !strings.HasSuffix(code, "Exception") && code != "DecryptionFailure" {
				t.Fatalf("%s %q: bad error body %s", op, body, rec.Body)
			}
		}
	})
}

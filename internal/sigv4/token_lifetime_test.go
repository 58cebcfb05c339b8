package sigv4

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// presignToken signs an rds-db connect token for host with X-Amz-Expires
// expires (seconds; "" = none), as generate-db-auth-token does.
func presignToken(t *testing.T, host, expires string, at time.Time) string {
	t.Helper()
	u := "https://" + host + "/?Action=connect&DBUser=app"
	if expires != "" {
		u += "&X-Amz-Expires=" + expires
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret},
		req, emptySHA256, "rds-db", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(signed, "https://")
}

// TestVerifyPresigned_tokenLifetime: an IAM database auth token lives at
// most 15 minutes from its X-Amz-Date, whatever X-Amz-Expires says.
func TestVerifyPresigned_tokenLifetime(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		expires string
		after   time.Duration
		ok      bool
	}{
		{"900", 14 * time.Minute, true},
		{"900", 16 * time.Minute, false},
		{"", 14 * time.Minute, true},
		{"", 16 * time.Minute, false},
		{"60", 30 * time.Second, true},
		{"60", 2 * time.Minute, false},
		{"901", time.Minute, false},
		{"604800", time.Minute, false},
		{"604800", 2 * time.Hour, false},
	}
	for _, tc := range tests {
		tok := presignToken(t, "db:5432", tc.expires, at)
		v := &Verifier{Keys: fakeKeys{testAKID: {testSecret, ""}}, Now: func() time.Time { return at.Add(tc.after) }}
		id, q, err := v.VerifyPresigned(context.Background(), "", tok)
		if tc.ok != (err == nil) {
			t.Errorf("X-Amz-Expires=%q after %v: err %v, want ok=%v", tc.expires, tc.after, err, tc.ok)
			continue
		}
		if tc.ok && (id.Service != "rds-db" || q.Get("DBUser") != "app") {
			t.Errorf("identity %+v, query %v", id, q)
		}
	}
}

package sigv4

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// rdsToken is a token from `aws rds generate-db-auth-token` (testdata/rds-db-tokens.txt).
type rdsToken struct {
	session string // X-Amz-Security-Token the key requires, "" for none
	token   string
	at      time.Time // its X-Amz-Date
}

func loadTokens(t testing.TB) []rdsToken {
	t.Helper()
	f, err := os.Open("testdata/rds-db-tokens.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rdsToken
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		session, token, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(session, "#") {
			continue
		}
		u, err := url.Parse("https://" + token)
		if err != nil {
			t.Fatal(err)
		}
		at, err := time.Parse(timeFormat, u.Query().Get("X-Amz-Date"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rdsToken{session: strings.TrimPrefix(session, "-"), token: token, at: at})
	}
	if len(out) == 0 {
		t.Fatal("no tokens")
	}
	return out
}

func tokenVerifier(tok rdsToken, now time.Time) *Verifier {
	return &Verifier{
		Keys: fakeKeys{testAKID: {testSecret, tok.session}},
		Now:  func() time.Time { return now },
	}
}

func TestVerifier_VerifyPresigned(t *testing.T) {
	ctx := context.Background()
	for i, tok := range loadTokens(t) {
		t.Run("token"+string(rune('1'+i)), func(t *testing.T) {
			t.Run("accepted", func(t *testing.T) {
				id, q, err := tokenVerifier(tok, tok.at.Add(time.Minute)).VerifyPresigned(ctx, "", tok.token)
				if err != nil {
					t.Fatal(err)
				}
				if id.Service != "rds-db" || id.AccessKeyID != testAKID || !id.SignedAt.Equal(tok.at) ||
					id.SessionToken != tok.session || q.Get("Action") != "connect" || q.Get("DBUser") == "" {
					t.Errorf("got %+v %v", id, q)
				}
			})
			t.Run("with scheme", func(t *testing.T) {
				_, _, err := tokenVerifier(tok, tok.at).VerifyPresigned(ctx, "GET", "https://"+tok.token)
				if err != nil {
					t.Fatal(err)
				}
			})
			rejects := []struct {
				name   string
				now    time.Time
				method string
				token  string
				keys   fakeKeys
				code   string
			}{
				{"expired", tok.at.Add(900*time.Second + time.Second), "GET", tok.token, nil, CodeInvalidSignature},
				{"not yet current", tok.at.Add(-6 * time.Minute), "GET", tok.token, nil, CodeInvalidSignature},
				{"other user", tok.at, "GET", strings.Replace(tok.token, "DBUser=", "DBUser=x", 1), nil, CodeInvalidSignature},
				{"other host", tok.at, "GET", "x" + tok.token, nil, CodeInvalidSignature},
				{"other method", tok.at, "POST", tok.token, nil, CodeInvalidSignature},
				{"unknown key", tok.at, "GET", tok.token, fakeKeys{}, CodeUnrecognizedClient},
				{"token mismatch", tok.at, "GET", tok.token, fakeKeys{testAKID: {testSecret, tok.session + "x"}}, CodeUnrecognizedClient},
				{"no signature", tok.at, "GET", tok.token[:strings.Index(tok.token, "&X-Amz-Signature")], nil, CodeIncompleteSignature},
				{"long expiry", tok.at, "GET", strings.Replace(tok.token, "X-Amz-Expires=900", "X-Amz-Expires=99999999999999999", 1), nil, CodeIncompleteSignature},
				{"garbage", tok.at, "GET", "%zz", nil, CodeIncompleteSignature},
				{"scheme in query", tok.at, "GET", tok.token + "&x=http://y", nil, CodeInvalidSignature},
			}
			for _, tt := range rejects {
				t.Run(tt.name, func(t *testing.T) {
					v := tokenVerifier(tok, tt.now)
					if tt.keys != nil {
						v.Keys = tt.keys
					}
					_, _, err := v.VerifyPresigned(ctx, tt.method, tt.token)
					wantCode(t, err, tt.code)
				})
			}
		})
	}
}

func TestVerifier_VerifyPresigned_expiredMessage(t *testing.T) {
	tok := loadTokens(t)[0]
	_, _, err := tokenVerifier(tok, tok.at.Add(16*time.Minute)).VerifyPresigned(context.Background(), "", tok.token)
	want := "Signature expired: 20261129T090312Z is now earlier than 20261129T090412Z (20261129T091912Z - 15 min.)"
	if e := wantCode(t, err, CodeInvalidSignature); e.Msg != want || e.HTTPStatus() != http.StatusForbidden {
		t.Errorf("got %d %q, want 403 %q", e.HTTPStatus(), e.Msg, want)
	}
}

// TestVerifier_Verify_presignedQuery checks that Verify accepts query
// authentication when a request has no Authorization header.
func TestVerifier_Verify_presignedQuery(t *testing.T) {
	tok := loadTokens(t)[0]
	host, rest, _ := strings.Cut(tok.token, "/")
	r := httptest.NewRequest(http.MethodGet, "/"+rest, nil)
	r.Host = host
	id, err := tokenVerifier(tok, tok.at).Verify(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id.Service != "rds-db" {
		t.Errorf("got service %q", id.Service)
	}
}

// TestVerifier_Verify_dateHeader signs a request dated by the HTTP Date
// header instead of X-Amz-Date, which SigV4 also allows.
func TestVerifier_Verify_dateHeader(t *testing.T) {
	at := time.Date(2026, 11, 24, 7, 35, 3, 0, time.UTC)
	body := []byte(`{"SecretId":"x"}`)
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	r.Host = "127.0.0.1:9"
	r.Header.Set("Date", at.Format(http.TimeFormat))
	in := requestInput(r, []string{"date", "host"}, "20261124", "us-east-1", "secretsmanager")
	in.amzDate, in.payload = stamp(at), hex.EncodeToString(sha256Sum(body))
	key := deriveKey(testSecret, in.date, in.region, in.service)
	sig, err := in.signature(key[:])
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAKID+"/20261124/us-east-1/secretsmanager/aws4_request, SignedHeaders=date;host, Signature="+hex.EncodeToString(sig[:]))
	id, err := testVerifier(at).Verify(context.Background(), r, body)
	if err != nil {
		t.Fatal(err)
	}
	if !id.SignedAt.Equal(at) || id.Service != "secretsmanager" {
		t.Errorf("got %+v", id)
	}
	_, err = (&Verifier{Now: func() time.Time { return at }}).Verify(context.Background(), r, body)
	if !errors.Is(err, errNoKeyStore) {
		t.Errorf("nil Keys: got %v", err)
	}
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

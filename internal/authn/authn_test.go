package authn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/state"
)

const (
	testAccount = "000000000000"
	rootID      = "AKIAROOTROOTROOTROOT"
	rootSecret  = "rootsecretrootsecretrootsecretrootsecre"
)

func newAuthenticator(t *testing.T) (*Authenticator, *identity.Store) {
	t.Helper()
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := barrier.New(map[uint32][]byte{1: bytes.Repeat([]byte{7}, barrier.KeySize)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.New(st, b, testAccount)
	t.Cleanup(ids.Wait)
	return New(Config{Region: "eu-west-1", Account: testAccount, RootKeyID: rootID, RootSecret: rootSecret, Identities: ids}), ids
}

// signed returns a request to the Data API signed for service and region.
func signed(t *testing.T, akid, secret, token, service, region string, body []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://sqlgate.test/Execute", bytes.NewReader(body))
	r.RemoteAddr = "192.0.2.7:40000"
	r.Header.Set("User-Agent", "authn-test")
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	r.Header.Set("X-Amz-Content-Sha256", h)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: token},
		r, h, service, region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAuthenticator_Request(t *testing.T) {
	a, ids := newAuthenticator(t)
	ctx := context.Background()
	if _, err := ids.CreateUser(ctx, "alice", "/"); err != nil {
		t.Fatal(err)
	}
	_, alice, err := ids.CreateAccessKey(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"sql":"SELECT 1"}`)
	tests := []struct {
		name          string
		akid, secret  string
		service, reg  string
		services      []string
		wantARN       string
		wantCode      string
		wantStatus    int
		wantSignedFor string
	}{
		{"root", rootID, rootSecret, "rds-data", "eu-west-1", []string{"rds-data"}, "arn:aws:iam::" + testAccount + ":root", "", 0, "rds-data"},
		{"user", alice.AccessKeyID, alice.SecretAccessKey, "rds-data", "eu-west-1", []string{"rds-data"}, "arn:aws:iam::" + testAccount + ":user/alice", "", 0, "rds-data"},
		{"iam in us-east-1", rootID, rootSecret, "iam", "us-east-1", []string{"iam", "sts"}, "arn:aws:iam::" + testAccount + ":root", "", 0, "iam"},
		{"other service", rootID, rootSecret, "s3", "eu-west-1", []string{"rds-data"}, "", "InvalidSignatureException", 403, ""},
		{"other region", rootID, rootSecret, "rds-data", "us-east-1", []string{"rds-data"}, "", "InvalidSignatureException", 403, ""},
		{"secrets manager answers 400", rootID, rootSecret, "secretsmanager", "us-east-1", []string{"secretsmanager"}, "", "InvalidSignatureException", 400, ""},
		{"unknown key", "AKIAUNKNOWNUNKNOWN00", rootSecret, "rds-data", "eu-west-1", []string{"rds-data"}, "", "UnrecognizedClientException", 403, ""},
		{"wrong secret", alice.AccessKeyID, rootSecret, "rds-data", "eu-west-1", []string{"rds-data"}, "", "InvalidSignatureException", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotCtx, service, err := a.Request(signed(t, tt.akid, tt.secret, "", tt.service, tt.reg, body), body, true, tt.services...)
			if tt.wantCode != "" {
				e := awserr.As(err)
				if err == nil || e.Code != tt.wantCode || e.Status != tt.wantStatus {
					t.Fatalf("err = %v, want %s %d", err, tt.wantCode, tt.wantStatus)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := iam.PrincipalFrom(gotCtx).ARN; got != tt.wantARN {
				t.Errorf("principal = %s, want %s", got, tt.wantARN)
			}
			if service != tt.wantSignedFor {
				t.Errorf("service = %s, want %s", service, tt.wantSignedFor)
			}
			info := iam.RequestInfoFrom(gotCtx)
			if info.SourceIP != "192.0.2.7" || !info.Secure || info.Region != tt.reg || info.UserAgent != "authn-test" {
				t.Errorf("request info = %+v", info)
			}
		})
	}
}

func TestAuthenticator_VerifyKey(t *testing.T) {
	a, ids := newAuthenticator(t)
	ctx := context.Background()
	if _, err := ids.CreateUser(ctx, "bob", "/"); err != nil {
		t.Fatal(err)
	}
	_, bob, err := ids.CreateAccessKey(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, akid, secret, token string
		wantARN                   string
	}{
		{"root", rootID, rootSecret, "", "arn:aws:iam::" + testAccount + ":root"},
		{"user", bob.AccessKeyID, bob.SecretAccessKey, "", "arn:aws:iam::" + testAccount + ":user/bob"},
		{"wrong secret", bob.AccessKeyID, rootSecret, "", ""},
		{"token on a long-term key", bob.AccessKeyID, bob.SecretAccessKey, "tok", ""},
		{"unknown key", "AKIAUNKNOWNUNKNOWN00", "x", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.VerifyKey(ctx, tt.akid, tt.secret, tt.token)
			if tt.wantARN == "" {
				if !errors.Is(err, ErrBadCredentials) {
					t.Fatalf("err = %v, want ErrBadCredentials", err)
				}
				return
			}
			if err != nil || p.ARN != tt.wantARN {
				t.Fatalf("got %v, %v; want %s", p, err, tt.wantARN)
			}
		})
	}
}

func TestError(t *testing.T) {
	tests := []struct {
		err     error
		service string
		code    string
		status  int
	}{
		{identity.ErrExpiredToken, "rds-data", "ExpiredTokenException", 403},
		{identity.ErrNotFound, "secretsmanager", "UnrecognizedClientException", 400},
		{errors.New("disk on fire"), "rds-data", "InternalFailure", 500},
	}
	for _, tt := range tests {
		e := awserr.As(Error(tt.err, tt.service))
		if e.Code != tt.code || e.Status != tt.status {
			t.Errorf("Error(%v, %s) = %s %d, want %s %d", tt.err, tt.service, e.Code, e.Status, tt.code, tt.status)
		}
		if strings.Contains(e.Msg, "disk") {
			t.Errorf("cause leaked into the message: %q", e.Msg)
		}
	}
}

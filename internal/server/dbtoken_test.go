package server

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// dbToken signs an IAM database auth token as `aws rds
// generate-db-auth-token` does, with X-Amz-Expires expires ("" = none).
func dbToken(t *testing.T, c creds, host, user, region, expires string, at time.Time) string {
	t.Helper()
	u := "https://" + host + "/?Action=connect&DBUser=" + user
	if expires != "" {
		u += "&X-Amz-Expires=" + expires
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.akid, SecretAccessKey: c.secret},
		req, empty, "rds-db", region, at)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(signed, "https://")
}

// TestProxy_IAMTokens: IAM database auth tokens through psql and the
// mariadb CLI — a fresh token for the proxy's address connects; an expired,
// over-long, foreign-host or foreign-region token is refused; rds-db:connect
// sees the client's address.
func TestProxy_IAMTokens(t *testing.T) {
	for _, bin := range []string{"psql", "mariadb"} {
		_, err := exec.LookPath(bin)
		testdb.NeedTool(t, err == nil, bin)
	}
	pg, my := proxyTargets(t, 4)
	pg.cluster.Proxy.AdvertisedHosts = []string{"pg.proxy.example:6432"}
	rs := startRunning(t, configFor(pg, my), pg, my)
	ctx := context.Background()
	ids := rs.srv.ids
	user := func(name, cond string) creds {
		if _, err := ids.CreateUser(ctx, name, ""); err != nil {
			t.Fatal(err)
		}
		if err := ids.PutUserPolicy(ctx, name, "connect", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-db:connect","Resource":"*"`+cond+`}]}`); err != nil {
			t.Fatal(err)
		}
		_, c, err := ids.CreateAccessKey(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return creds{akid: c.AccessKeyID, secret: c.SecretAccessKey}
	}
	ok := user("dbok", `,"Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"},"Bool":{"aws:SecureTransport":"true"}}`)
	far := user("dbfar", `,"Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)
	psql := func(host, user, token string) error {
		h, p, _ := net.SplitHostPort(host)
		cmd := exec.Command("psql", "-X", "-A", "-t", "-c", "select 1",
			"host="+h+" port="+p+" user="+user+" dbname="+rs.pg.cluster.Database+" sslmode=require connect_timeout=10")
		cmd.Env = append(os.Environ(), "PGPASSWORD="+token)
		out, err := cmd.CombinedOutput()
		if err == nil && strings.TrimSpace(string(out)) != "1" {
			t.Fatalf("psql: %s", out)
		}
		return err
	}
	mariadb := func(host, user, token string) error {
		h, p, _ := net.SplitHostPort(host)
		out, err := exec.Command("mariadb", "--connect-timeout=10", "-h"+h, "-P"+p, "-u"+user, "-p"+token, "--ssl", "-N", "-B",
			"-e", "select 1", rs.my.cluster.Database).CombinedOutput()
		if err == nil && strings.TrimSpace(string(out)) != "1" {
			t.Fatalf("mariadb: %s", out)
		}
		if err != nil && !strings.Contains(string(out), "1045") {
			t.Fatalf("mariadb refused without 1045: %s", out)
		}
		return err
	}
	now := time.Now()
	for _, tc := range []struct {
		name string
		pass bool
		tok  func(proxyAddr, user string) string
	}{
		{"fresh", true, func(a, u string) string { return dbToken(t, ok, a, u, "us-east-1", "900", now) }},
		{"default expiry", true, func(a, u string) string { return dbToken(t, ok, a, u, "us-east-1", "", now.Add(-time.Minute)) }},
		{"expired", false, func(a, u string) string { return dbToken(t, ok, a, u, "us-east-1", "900", now.Add(-16*time.Minute)) }},
		{"over-long, fresh", false, func(a, u string) string { return dbToken(t, ok, a, u, "us-east-1", "604800", now) }},
		{"over-long, 2h old", false, func(a, u string) string { return dbToken(t, ok, a, u, "us-east-1", "604800", now.Add(-2*time.Hour)) }},
		{"foreign host", false, func(a, u string) string {
			_, p, _ := net.SplitHostPort(a)
			return dbToken(t, ok, "db.elsewhere.example:"+p, u, "us-east-1", "900", now)
		}},
		{"other port", false, func(a, u string) string { return dbToken(t, ok, "127.0.0.1:1", u, "us-east-1", "900", now) }},
		{"foreign region", false, func(a, u string) string { return dbToken(t, ok, a, u, "eu-west-1", "900", now) }},
		{"source ip not allowed", false, func(a, u string) string { return dbToken(t, far, a, u, "us-east-1", "900", now) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, try := range map[string]func() error{
				"psql":    func() error { return psql(rs.pgProxy, rs.pg.user, tc.tok(rs.pgProxy, rs.pg.user)) },
				"mariadb": func() error { return mariadb(rs.myProxy, rs.my.user, tc.tok(rs.myProxy, rs.my.user)) },
			} {
				if err := try(); (err == nil) != tc.pass {
					t.Errorf("%s: err %v, want pass=%v", name, err, tc.pass)
				}
			}
		})
	}
	t.Run("advertised host", func(t *testing.T) {
		tok := dbToken(t, ok, "pg.proxy.example:6432", rs.pg.user, "us-east-1", "900", now)
		if err := psql(rs.pgProxy, rs.pg.user, tok); err != nil {
			t.Fatalf("token for an advertised host: %v", err)
		}
		// Advertised on the pg proxy only.
		if err := mariadb(rs.myProxy, rs.my.user, dbToken(t, ok, "pg.proxy.example:6432", rs.my.user, "us-east-1", "900", now)); err == nil {
			t.Fatal("the maria proxy accepted a token for the pg proxy's advertised host")
		}
	})
	if strings.Contains(rs.logs.String(), "X-Amz-Signature=") {
		t.Fatal("a token reached the log")
	}
}

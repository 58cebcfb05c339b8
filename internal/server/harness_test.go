package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/lane"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

const (
	testAKID   = "AKIDSQLGATETEST00001"
	testSecret = "sqlgate-test-secret-access-key-000000000"
)

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer = testdb.LogBuffer

// testEnv is an in-process sqlgate with SDK clients signed by the root key.
type testEnv struct {
	srv     *Server
	http    *httptest.Server
	lean    *lane.Listener // hs's listener
	logs    *syncBuffer
	data    *rdsdata.Client
	secrets *secretsmanager.Client
	dataDir string
	// akid and secretKey are the root key the clients sign with.
	akid, secretKey string
}

// newTestEnv starts a server over cfg (data dir and listeners set here)
// with the fixed test root key taken from the environment.
func newTestEnv(t testing.TB, cfg *config.Config) *testEnv {
	t.Helper()
	t.Setenv("SQLGATE_ROOT_ACCESS_KEY_ID", testAKID)
	t.Setenv("SQLGATE_ROOT_SECRET_ACCESS_KEY", testSecret)
	return startTestEnv(t, cfg)
}

// startTestEnv starts a server over cfg without touching the process
// environment, so parallel tests may call it: the clients sign with
// whatever root key the server loaded (generated into its data dir unless
// the environment names one).
func startTestEnv(t testing.TB, cfg *config.Config) *testEnv {
	t.Helper()
	cfg.DataDir = t.TempDir()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv, err := New(context.Background(), cfg, Options{Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	reaperDone := make(chan struct{})
	go func() { srv.txns.Run(ctx); close(reaperDone) }()
	// The real plain-HTTP listener's lean path in front of net/http, so
	// that the SDK and raw-HTTP tests go through both.
	hs := httptest.NewUnstartedServer(srv.Handler(false))
	lean := srv.LeanListener(hs.Listener, false)
	hs.Listener = lean
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = lean.Shutdown(sctx)
		scancel()
		cancel()
		<-reaperDone
		srv.Close()
	})
	akid, secret := srv.root.AccessKeyID, srv.root.SecretAccessKey
	return &testEnv{srv: srv, http: hs, lean: lean, logs: logs, dataDir: cfg.DataDir, akid: akid, secretKey: secret,
		data: rdsdata.New(rdsdata.Options{BaseEndpoint: aws.String(hs.URL), Region: "us-east-1",
			Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, ""),
			RetryMaxAttempts: 1}),
		secrets: secretsmanager.New(secretsmanager.Options{BaseEndpoint: aws.String(hs.URL), Region: "us-east-1",
			Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, ""),
			RetryMaxAttempts: 1}),
	}
}

// clusterARN returns the ARN of cluster name.
func (e *testEnv) clusterARN(name string) string { return e.srv.ClusterARN(name) }

// createSecret stores {"username","password"} and returns its ARN.
func (e *testEnv) createSecret(t *testing.T, name, user, password string) string {
	t.Helper()
	out, err := e.secrets.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q}`, user, password))})
	if err != nil {
		t.Fatal(err)
	}
	return *out.ARN
}

// dbTarget is a test database: a cluster config and the login for its secret.
type dbTarget struct {
	cluster        config.Cluster
	user, password string
}

// mysqlTarget parses SQLGATE_TEST_MYSQL_DSN (user:pw@tcp(host:port)/db).
func mysqlTarget(t *testing.T, name string) dbTarget {
	dsn := testdb.MySQLDSN(t)
	var user, pw, addr, db string
	cred, rest, ok := strings.Cut(dsn, "@tcp(")
	if ok {
		user, pw, _ = strings.Cut(cred, ":")
		addr, rest, _ = strings.Cut(rest, ")/")
		db, _, _ = strings.Cut(rest, "?")
	}
	if addr == "" {
		t.Fatalf("cannot parse SQLGATE_TEST_MYSQL_DSN %q", dsn)
	}
	return dbTarget{cluster: config.Cluster{Name: name, Engine: "mysql", Address: addr, Database: db}, user: user, password: pw}
}

// pgTarget parses SQLGATE_TEST_PG_URL (postgres://user:pw@host:port/db).
func pgTarget(t *testing.T, name string) dbTarget {
	u, err := url.Parse(testdb.PGURL(t))
	if err != nil || u.Host == "" {
		t.Fatalf("cannot parse SQLGATE_TEST_PG_URL: %v", err)
	}
	pw, _ := u.User.Password()
	host := u.Host
	if u.Port() == "" {
		host += ":5432"
	}
	return dbTarget{cluster: config.Cluster{Name: name, Engine: "postgres", Address: host, Database: strings.TrimPrefix(u.Path, "/")},
		user: u.User.Username(), password: pw}
}

// configFor returns a validated-ready config with the given clusters.
func configFor(targets ...dbTarget) *config.Config {
	cfg := config.Default()
	cfg.Clusters = nil
	for _, tg := range targets {
		cfg.Clusters = append(cfg.Clusters, tg.cluster)
	}
	c, _ := config.Parse([]byte("{}"))
	c.Clusters = cfg.Clusters
	if len(c.Clusters) == 0 {
		c.Clusters = config.Default().Clusters
	}
	c.ApplyClusterDefaults()
	return c
}

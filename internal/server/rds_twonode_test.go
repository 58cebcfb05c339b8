package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// runNode runs a Server over cfg (Run, as the binary does) until the
// test ends and returns it once it listens.
func runNode(t *testing.T, cfg *config.Config) *Server {
	t.Helper()
	return runNodeOn(t, cfg, config.Listen{HTTP: "127.0.0.1:0"})
}

// runNodeOn is runNode with the HTTP listeners of listen (one of them).
func runNodeOn(t *testing.T, cfg *config.Config, listen config.Listen) *Server {
	t.Helper()
	cfg.DataDir = t.TempDir()
	cfg.Listen = listen
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := New(context.Background(), cfg, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	testdb.Eventually(t, 10*time.Second, 10*time.Millisecond, "listening", func() bool { return len(srv.Addrs()) == 1 })
	return srv
}

// TestRDS_TwoNodes runs two nodes on one PostgreSQL state store: a proxy
// created through node A listens on node B too (on B's proxy_host), and
// A's Data API switch applies on B.
func TestRDS_TwoNodes(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.PGSchemaURL(t, "sqlgate_twonode_test_")
	key := make([]byte, barrier.KeySize)
	_, _ = rand.Read(key)
	t.Setenv(barrier.EnvMasterKey, base64.StdEncoding.EncodeToString(key))
	t.Setenv("SQLGATE_ROOT_ACCESS_KEY_ID", testAKID)
	t.Setenv("SQLGATE_ROOT_SECRET_ACCESS_KEY", testSecret)
	pg := pgTarget(t, "pg")
	ports := freePorts(t, 3)
	node := func(host string) *Server {
		cfg := configFor(pg)
		cfg.State = config.State{Driver: "postgres", DSN: dsn}
		cfg.RDS = config.RDS{ProxyHost: host, ProxyPorts: ports}
		return runNode(t, cfg)
	}
	a, b := node("127.0.0.1"), node("127.0.0.2")
	creds := credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")
	sm := secretsmanager.New(secretsmanager.Options{BaseEndpoint: aws.String("http://" + a.Addrs()[0].String()), Region: "us-east-1",
		Credentials: creds, RetryMaxAttempts: 1})
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("pg-login"),
		SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q}`, pg.user, pg.password))}); err != nil {
		t.Fatal(err)
	}
	ra, rb := rdsClient(a), rdsClient(b)
	if _, err := ra.CreateDBProxy(ctx, &rds.CreateDBProxyInput{DBProxyName: aws.String("shared"), EngineFamily: rdstypes.EngineFamilyPostgresql,
		RoleArn: aws.String("r"), VpcSubnetIds: []string{"s"}, Auth: []rdstypes.UserAuthConfig{{SecretArn: aws.String("pg-login")}}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := ra.RegisterDBProxyTargets(ctx, &rds.RegisterDBProxyTargetsInput{DBProxyName: aws.String("shared"),
		DBClusterIdentifiers: []string{"pg"}}); err != nil {
		t.Fatal(err)
	}
	desc, err := rb.DescribeDBProxies(ctx, &rds.DescribeDBProxiesInput{DBProxyName: aws.String("shared")})
	if err != nil {
		t.Fatalf("node B does not know the proxy: %v", err)
	}
	addrB := aws.ToString(desc.DBProxies[0].Endpoint)
	testdb.Eventually(t, 10*time.Second, 5*time.Millisecond, "proxy live on node B", func() bool {
		c, err := pgAt(ctx, pg, addrB)
		if err == nil {
			c.Close(ctx)
		}
		return err == nil
	})
	t.Logf("proxy created on A served a client on B (%s) after %v", addrB, time.Since(start))

	// The Data API switch flipped on A applies on B.
	if _, err := ra.DisableHttpEndpoint(ctx, &rds.DisableHttpEndpointInput{ResourceArn: aws.String(a.ClusterARN("pg"))}); err != nil {
		t.Fatal(err)
	}
	dataB := rdsdata.New(rdsdata.Options{BaseEndpoint: aws.String("http://" + b.Addrs()[0].String()), Region: "us-east-1",
		Credentials: creds, RetryMaxAttempts: 1})
	testdb.Eventually(t, 10*time.Second, 5*time.Millisecond, "Data API off on node B", func() bool {
		_, err := dataB.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(b.ClusterARN("pg")),
			SecretArn: aws.String("pg-login"), Sql: aws.String("select 1")})
		return errorCode(err) == "BadRequestException"
	})

	// Deleted on B: gone from A.
	if _, err := rb.DeleteDBProxy(ctx, &rds.DeleteDBProxyInput{DBProxyName: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	addrA := "127.0.0.1" + addrB[len("127.0.0.2"):]
	testdb.Eventually(t, 10*time.Second, 10*time.Millisecond, "proxy stopped on node A", func() bool {
		c, err := pgAt(ctx, pg, addrA)
		if err == nil {
			c.Close(ctx)
		}
		return err != nil
	})
}

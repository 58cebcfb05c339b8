package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/server"
)

const (
	benchAKID   = "AKIDSQLGATEBENCH0001"
	benchSecret = "sqlgate-bench-secret-access-key-00000000"
	benchRegion = "us-east-1"
	// maxConns is every cluster's max_connections: at least the largest N.
	maxConns = 32
)

// target is one database reachable both through sqlgate and directly.
type target struct {
	engine    string // "postgres", "mysql", "sqlite"
	cluster   config.Cluster
	user, pw  string
	dsn       string // the driver's DSN; "" for sqlite (sqlgate only)
	secretARN string // set once the server runs
}

// targets returns the databases configured in the environment, in order
// PostgreSQL, MariaDB, SQLite. SQLite is always present.
func targets(tb testing.TB) []*target {
	tb.Helper()
	var out []*target
	if u := os.Getenv("SQLGATE_TEST_PG_URL"); u != "" {
		pc, err := pgx.ParseConfig(u)
		if err != nil {
			tb.Fatalf("parse SQLGATE_TEST_PG_URL: %v", err)
		}
		addr := net.JoinHostPort(pc.Host, strconv.Itoa(int(pc.Port)))
		out = append(out, &target{engine: "postgres", dsn: u, user: pc.User, pw: pc.Password,
			cluster: config.Cluster{Name: "bench-pg", Engine: "postgres", Address: addr, Database: pc.Database, MaxConnections: maxConns}})
	} else if os.Getenv("SQLGATE_REQUIRE_DB") != "" {
		tb.Fatal("SQLGATE_TEST_PG_URL unset")
	}
	if d := os.Getenv("SQLGATE_TEST_MYSQL_DSN"); d != "" {
		mc, err := mysql.ParseDSN(d)
		if err != nil {
			tb.Fatalf("parse SQLGATE_TEST_MYSQL_DSN: %v", err)
		}
		out = append(out, &target{engine: "mysql", dsn: d, user: mc.User, pw: mc.Passwd,
			cluster: config.Cluster{Name: "bench-mysql", Engine: "mysql", Address: mc.Addr, Database: mc.DBName, MaxConnections: maxConns}})
	} else if os.Getenv("SQLGATE_REQUIRE_DB") != "" {
		tb.Fatal("SQLGATE_TEST_MYSQL_DSN unset")
	}
	out = append(out, &target{engine: "sqlite", user: "sqlgate", pw: "unused",
		cluster: config.Cluster{Name: "bench-sqlite", Engine: "sqlite", MaxConnections: maxConns}})
	return out
}

// env is an in-process sqlgate on a real loopback listener.
type env struct {
	srv     *server.Server
	baseURL string
	hc      *http.Client // keep-alive, shared by both sqlgate clients
}

// startServer runs sqlgate over the targets' clusters and creates one
// secret per target through the Secrets Manager API.
func startServer(tb testing.TB, ts []*target) *env {
	tb.Helper()
	tb.Setenv("SQLGATE_ROOT_ACCESS_KEY_ID", benchAKID)
	tb.Setenv("SQLGATE_ROOT_SECRET_ACCESS_KEY", benchSecret)
	cfg, err := config.Parse([]byte("{}"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.DataDir = tb.TempDir()
	cfg.Clusters = nil
	for _, t := range ts {
		cfg.Clusters = append(cfg.Clusters, t.cluster)
	}
	cfg.ApplyClusterDefaults()
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	// The access log is formatted as in production but not written out:
	// the bench measures sqlgate, not the terminal.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, server.Options{Log: log, Stdout: io.Discard})
	if err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		tb.Fatal(err)
	}
	hs := &http.Server{Handler: labelled(srv.Handler(false)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(l) }()
	e := &env{srv: srv, baseURL: "http://" + l.Addr().String(), hc: newHTTPClient()}
	tb.Cleanup(func() {
		e.hc.CloseIdleConnections()
		_ = hs.Close()
		srv.Close()
	})
	sm := secretsmanager.New(secretsmanager.Options{BaseEndpoint: aws.String(e.baseURL), Region: benchRegion,
		Credentials: credentials.NewStaticCredentialsProvider(benchAKID, benchSecret, ""), RetryMaxAttempts: 1, HTTPClient: e.hc})
	for _, t := range ts {
		v, _ := json.Marshal(map[string]string{"username": t.user, "password": t.pw})
		out, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
			Name: aws.String(t.cluster.Name), SecretString: aws.String(string(v))})
		if err != nil {
			tb.Fatalf("create secret %s: %v", t.cluster.Name, err)
		}
		t.secretARN = aws.ToString(out.ARN)
	}
	return e
}

// labelled tags sqlgate's request goroutines with pprof label
// side=sqlgate when a CPU profile is being written, so
// `go tool pprof -tagfocus side=sqlgate` isolates the server from the
// clients running in the same process.
func labelled(h http.Handler) http.Handler {
	if f := flag.Lookup("test.cpuprofile"); f == nil || f.Value.String() == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pprof.Do(r.Context(), pprof.Labels("side", "sqlgate"), func(ctx context.Context) {
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	})
}

// newHTTPClient is a keep-alive client with enough idle connections for
// every goroutine of the largest case.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4 * maxConns,
		MaxIdleConnsPerHost: 2 * maxConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
}

// op is one SELECT 1 round trip.
type op func(context.Context) error

// sdkOp is ExecuteStatement through the AWS SDK for Go v2 rds-data client.
func (e *env) sdkOp(t *target) op {
	c := rdsdata.New(rdsdata.Options{BaseEndpoint: aws.String(e.baseURL), Region: benchRegion,
		Credentials: credentials.NewStaticCredentialsProvider(benchAKID, benchSecret, ""), RetryMaxAttempts: 1, HTTPClient: e.hc})
	in := &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(e.srv.ClusterARN(t.cluster.Name)),
		SecretArn: aws.String(t.secretARN), Sql: aws.String("SELECT 1")}
	if t.cluster.Database != "" {
		in.Database = aws.String(t.cluster.Database)
	}
	return func(ctx context.Context) error {
		out, err := c.ExecuteStatement(ctx, in)
		if err != nil {
			return err
		}
		if len(out.Records) != 1 || len(out.Records[0]) != 1 {
			return fmt.Errorf("unexpected records %v", out.Records)
		}
		if v, ok := out.Records[0][0].(*types.FieldMemberLongValue); !ok || v.Value != 1 {
			return fmt.Errorf("unexpected field %#v", out.Records[0][0])
		}
		return nil
	}
}

// rawOp is ExecuteStatement through rawClient; the response is checked once
// here, then only its status.
func (e *env) rawOp(tb testing.TB, t *target) op {
	tb.Helper()
	req := map[string]string{"resourceArn": e.srv.ClusterARN(t.cluster.Name), "secretArn": t.secretARN, "sql": "SELECT 1"}
	if t.cluster.Database != "" {
		req["database"] = t.cluster.Database
	}
	body, _ := json.Marshal(req)
	c := &rawClient{hc: e.hc, url: e.baseURL + "/Execute", body: body,
		sig: &signer{akid: benchAKID, secret: benchSecret, region: benchRegion, service: "rds-data"}}
	b, err := c.do(context.Background())
	if err != nil {
		tb.Fatalf("raw client: %v", err)
	}
	var resp struct {
		Records [][]map[string]any `json:"records"`
	}
	if err := json.Unmarshal(b, &resp); err != nil || len(resp.Records) != 1 || len(resp.Records[0]) != 1 ||
		resp.Records[0][0]["longValue"] != float64(1) {
		tb.Fatalf("raw client: unexpected response %s (%v)", b, err)
	}
	return func(ctx context.Context) error { _, err := c.do(ctx); return err }
}

// directOp opens a pool of n connections with the engine's Go driver and
// returns SELECT 1 on it.
func directOp(tb testing.TB, t *target, n int) op {
	tb.Helper()
	ctx := context.Background()
	switch t.engine {
	case "postgres":
		// N pgx.Conns handed out through a channel: the same pool shape as
		// sqlgate's, without pgxpool (its puddle dependency is not in go.mod).
		pool := make(chan *pgx.Conn, n)
		for range n {
			c, err := pgx.Connect(ctx, t.dsn)
			if err != nil {
				tb.Fatalf("pgx connect: %v", err)
			}
			tb.Cleanup(func() { _ = c.Close(context.Background()) })
			pool <- c
		}
		return func(ctx context.Context) error {
			c := <-pool
			defer func() { pool <- c }()
			var v int
			if err := c.QueryRow(ctx, "SELECT 1").Scan(&v); err != nil {
				return err
			}
			if v != 1 {
				return errors.New("SELECT 1 returned " + strconv.Itoa(v))
			}
			return nil
		}
	case "mysql":
		db, err := sql.Open("mysql", t.dsn)
		if err != nil {
			tb.Fatalf("mysql open: %v", err)
		}
		tb.Cleanup(func() { _ = db.Close() })
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		return func(ctx context.Context) error {
			var v int
			if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&v); err != nil {
				return err
			}
			if v != 1 {
				return errors.New("SELECT 1 returned " + strconv.Itoa(v))
			}
			return nil
		}
	}
	return nil
}

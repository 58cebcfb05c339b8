package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/server"
)

// The targets, at N=64 client goroutines.
const (
	endpointsTargetRatio    = 0.6
	endpointsTargetAddedP50 = 300 * time.Microsecond
	endpointsRows           = 1000
	benchAPIKey             = "bench-api-key-0123456789abcdef"
)

// TestBenchEndpoints compares a GET endpoint (one row by primary key) and
// a POST insert endpoint with the same SQL through the direct driver.
// It runs only with SQLGATE_BENCH=1. Knobs as TestBenchDataAPI, plus
// SQLGATE_BENCH_N (default "1,64") and SQLGATE_BENCH_CONNS, the backend
// connection budget of both sqlgate's pool and the direct pool (default
// 40: both pools stay open during interleaved rounds, and 2×40 fits
// PostgreSQL's default max_connections of 100).
func TestBenchEndpoints(t *testing.T) {
	if os.Getenv("SQLGATE_BENCH") != "1" {
		t.Skip("benchmark: set SQLGATE_BENCH=1 (see bench/run.sh)")
	}
	dur := envDuration(t, "SQLGATE_BENCH_DURATION", 3*time.Second)
	warm := envDuration(t, "SQLGATE_BENCH_WARMUP", time.Second)
	rounds := envInts(t, "SQLGATE_BENCH_ROUNDS", []int{3})[0]
	ns := envInts(t, "SQLGATE_BENCH_N", []int{1, 64})
	conns := envInts(t, "SQLGATE_BENCH_CONNS", []int{40})[0]
	filter := regexp.MustCompile(os.Getenv("SQLGATE_BENCH_CASES"))

	var ts []*target
	for _, tg := range targets(t) {
		if tg.dsn != "" {
			tg.cluster.MaxConnections = conns
			ts = append(ts, tg)
		}
	}
	if len(ts) == 0 {
		t.Skip("no PostgreSQL or MariaDB configured")
	}
	tables := map[*target]string{}
	for _, tg := range ts {
		tables[tg] = createBenchTable(t, tg)
	}
	baseURL, hc := startEndpointServer(t, ts, tables)
	var cases []*benchCase
	for _, tg := range ts {
		direct := newDirect(t, tg, conns)
		for _, kind := range []string{"get", "post"} {
			for _, n := range ns {
				add := func(client string, o op) {
					c := &benchCase{engine: tg.engine + "/" + kind, client: client, n: n, op: o}
					if filter.MatchString(c.name()) {
						cases = append(cases, c)
					}
				}
				add("direct", direct.op(kind, tables[tg]))
				add("sqlgate-endpoint", endpointOp(t, hc, baseURL, tg.engine, kind))
			}
		}
	}
	runRounds(t, cases, rounds, warm, dur)
	fmt.Printf("\nSQL endpoints, %v per case in %d interleaved rounds after %v warm-up; backend connections %d; GOMAXPROCS=%d\n\n",
		dur, rounds, warm, conns, runtime.GOMAXPROCS(0))
	writeTable(os.Stdout, cases)
	fmt.Println("\nTargets (N=64):")
	direct := map[string]*benchCase{}
	for _, c := range cases {
		if c.client == "direct" {
			direct[c.engine+"/"+strconv.Itoa(c.n)] = c
		}
	}
	for _, c := range cases {
		d := direct[c.engine+"/"+strconv.Itoa(c.n)]
		if c.client == "direct" || d == nil || c.n != 64 {
			continue
		}
		r, add := c.res.opsPerSec()/d.res.opsPerSec(), c.res.pct(.5)-d.res.pct(.5)
		fmt.Printf("- %s: throughput %.2f× direct — target ≥ %.1f× %s; added p50 %s — target ≤ %s %s\n", c.name(), r,
			endpointsTargetRatio, pass(r >= endpointsTargetRatio), us(add), us(endpointsTargetAddedP50), pass(add <= endpointsTargetAddedP50))
	}
}

// createBenchTable creates and fills a table of endpointsRows rows.
func createBenchTable(t *testing.T, tg *target) string {
	t.Helper()
	tbl := fmt.Sprintf("bench_ep_%d", time.Now().UnixNano()%1e12)
	id := "id SERIAL PRIMARY KEY"
	if tg.engine == "mysql" {
		id = "id INT AUTO_INCREMENT PRIMARY KEY"
	}
	d := newDirect(t, tg, 1)
	ctx := context.Background()
	if err := d.exec(ctx, "CREATE TABLE "+tbl+" ("+id+", k1 VARCHAR(200), k2 INT)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = newDirect(t, tg, 1).exec(context.Background(), "DROP TABLE "+tbl) })
	var vals []string
	for i := range endpointsRows {
		vals = append(vals, fmt.Sprintf("('seed%d', %d)", i, i))
	}
	if err := d.exec(ctx, "INSERT INTO "+tbl+" (k1, k2) VALUES "+strings.Join(vals, ",")); err != nil {
		t.Fatal(err)
	}
	return tbl
}

// startEndpointServer runs sqlgate with a GET and a POST endpoint per
// target and returns its URL and a keep-alive client.
func startEndpointServer(t *testing.T, ts []*target, tables map[*target]string) (string, *http.Client) {
	t.Helper()
	t.Setenv("SQLGATE_ROOT_ACCESS_KEY_ID", benchAKID)
	t.Setenv("SQLGATE_ROOT_SECRET_ACCESS_KEY", benchSecret)
	cfg, err := config.Parse([]byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.Clusters = nil
	for _, tg := range ts {
		cfg.Clusters = append(cfg.Clusters, tg.cluster)
		tbl, name := tables[tg], tg.cluster.Name
		cfg.Endpoints = append(cfg.Endpoints, config.Endpoint{Name: "get-" + tg.engine, Method: "GET",
			Path: "/bench/" + tg.engine + "/items/{id}", Cluster: name, Secret: name, APIKeyRequired: true,
			SQL:    config.Statements{"SELECT id, k1, k2 FROM " + tbl + " WHERE id = :id LIMIT :limit OFFSET :offset"},
			Params: map[string]config.Param{"id": {From: "path", Type: "integer"}},
		}, config.Endpoint{Name: "post-" + tg.engine, Method: "POST",
			Path: "/bench/" + tg.engine + "/items", Cluster: name, Secret: name, APIKeyRequired: true,
			SQL: config.Statements{"INSERT INTO " + tbl + " (k1, k2) VALUES (:key1, :key2)"},
			Params: map[string]config.Param{"key1": {From: "body", Type: "string", Required: true, MaxLength: 200},
				"key2": {From: "body", Type: "integer"}},
		})
	}
	cfg.APIKeys = []config.APIKey{{Name: "bench", Value: benchAPIKey}}
	cfg.ApplyClusterDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), cfg, server.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	hs := &http.Server{Handler: labelled(srv.Handler(false)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(l) }()
	baseURL, hc := "http://"+l.Addr().String(), newHTTPClient()
	hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 128
	t.Cleanup(func() {
		hc.CloseIdleConnections()
		_ = hs.Close()
		srv.Close()
	})
	sm := secretsmanager.New(secretsmanager.Options{BaseEndpoint: aws.String(baseURL), Region: benchRegion,
		Credentials: credentials.NewStaticCredentialsProvider(benchAKID, benchSecret, ""), RetryMaxAttempts: 1, HTTPClient: hc})
	for _, tg := range ts {
		v, _ := json.Marshal(map[string]string{"username": tg.user, "password": tg.pw})
		if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
			Name: aws.String(tg.cluster.Name), SecretString: aws.String(string(v))}); err != nil {
			t.Fatalf("create secret: %v", err)
		}
	}
	return baseURL, hc
}

// endpointOp is one endpoint call: GET a random row, or POST one row.
// The first response is checked in full, later ones by status.
func endpointOp(t *testing.T, hc *http.Client, baseURL, engine, kind string) op {
	var seq atomic.Int64
	call := func(ctx context.Context) (int, []byte, error) {
		var req *http.Request
		if kind == "get" {
			req, _ = http.NewRequestWithContext(ctx, "GET", baseURL+"/bench/"+engine+"/items/"+strconv.Itoa(1+rand.IntN(endpointsRows)), nil)
		} else {
			n := seq.Add(1)
			req, _ = http.NewRequestWithContext(ctx, "POST", baseURL+"/bench/"+engine+"/items",
				bytes.NewReader(fmt.Appendf(nil, `{"key1":"bench%d","key2":%d}`, n, n)))
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("X-Api-Key", benchAPIKey)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	status, b, err := call(context.Background())
	want := 200
	if kind == "post" {
		want = 201
	}
	if err != nil || status != want || (kind == "get" && !bytes.HasPrefix(b, []byte(`{"items":[{"id":`))) ||
		(kind == "post" && !bytes.HasPrefix(b, []byte(`{"updated":1,`))) {
		t.Fatalf("%s %s: %d %s %v", engine, kind, status, b, err)
	}
	return func(ctx context.Context) error {
		status, b, err := call(ctx)
		if err == nil && status != want {
			err = fmt.Errorf("status %d: %s", status, b)
		}
		return err
	}
}

// direct is a pool of driver connections for the same SQL.
type direct struct {
	pg    chan *pgx.Conn
	mysql *sql.DB
	seq   atomic.Int64
}

func newDirect(t *testing.T, tg *target, n int) *direct {
	t.Helper()
	d := &direct{}
	switch tg.engine {
	case "postgres":
		d.pg = make(chan *pgx.Conn, n)
		for range n {
			c, err := pgx.Connect(context.Background(), tg.dsn)
			if err != nil {
				t.Fatalf("pgx connect: %v", err)
			}
			t.Cleanup(func() { _ = c.Close(context.Background()) })
			d.pg <- c
		}
	case "mysql":
		// interpolateParams: one round trip per statement, as sqlgate's
		// engine does, rather than prepare/execute/close.
		dsn := tg.dsn
		if strings.Contains(dsn, "?") {
			dsn += "&interpolateParams=true"
		} else {
			dsn += "?interpolateParams=true"
		}
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		t.Cleanup(func() { _ = db.Close() })
		d.mysql = db
	}
	return d
}

func (d *direct) exec(ctx context.Context, q string, args ...any) error {
	if d.pg != nil {
		c := <-d.pg
		defer func() { d.pg <- c }()
		_, err := c.Exec(ctx, q, args...)
		return err
	}
	_, err := d.mysql.ExecContext(ctx, q, args...)
	return err
}

func (d *direct) op(kind, tbl string) op {
	ph := func(i int) string {
		if d.pg != nil {
			return "$" + strconv.Itoa(i)
		}
		return "?"
	}
	if kind == "post" {
		q := "INSERT INTO " + tbl + " (k1, k2) VALUES (" + ph(1) + ", " + ph(2) + ")"
		return func(ctx context.Context) error {
			n := d.seq.Add(1)
			return d.exec(ctx, q, "direct"+strconv.FormatInt(n, 10), n)
		}
	}
	q := "SELECT id, k1, k2 FROM " + tbl + " WHERE id = " + ph(1) + " LIMIT 2 OFFSET 0"
	return func(ctx context.Context) error {
		var id, k2 int64
		var k1 string
		id0 := int64(1 + rand.IntN(endpointsRows))
		var err error
		if d.pg != nil {
			c := <-d.pg
			err = c.QueryRow(ctx, q, id0).Scan(&id, &k1, &k2)
			d.pg <- c
		} else {
			err = d.mysql.QueryRowContext(ctx, q, id0).Scan(&id, &k1, &k2)
		}
		if err == nil && id != id0 {
			err = errors.New("wrong row")
		}
		return err
	}
}

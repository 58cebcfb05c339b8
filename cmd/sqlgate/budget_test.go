package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// budgetNode is one `sqlgate serve` process of the three-node test.
type budgetNode struct {
	cmd    *exec.Cmd
	http   string // base URL
	proxy  string // host:port
	logs   *testdb.LogBuffer
	exited chan error
}

// TestServe_ThreeNodesShareBudget runs three sqlgate processes on one
// PostgreSQL state store, each with a proxy in front of the same
// database (max_connections: 20), under a storm of 600 clients that each
// connect for one transaction at a time. The database never sees more
// than 20 connections of sqlgate's role (sampled from pg_stat_activity)
// and no client fails; after one node is killed its share goes to the
// other two.
func TestServe_ThreeNodesShareBudget(t *testing.T) {
	pgURL := testdb.PGURL(t)
	stateDSN := testdb.PGSchemaURL(t, "sqlgate_budget_test_")
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	role := fmt.Sprintf("sqlgate_budget_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD 'budgetpw'", role)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role)
		_, _ = admin.Exec(ctx, "DROP ROLE IF EXISTS "+role)
	})
	bin := sqlgateBinary(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := append(os.Environ(), "SQLGATE_MASTER_KEY="+base64.StdEncoding.EncodeToString(key),
		"SQLGATE_ROOT_ACCESS_KEY_ID=AKIDSQLGATEBUDGET0001", "SQLGATE_ROOT_SECRET_ACCESS_KEY=sqlgate-budget-secret-access-key-0000000")
	dir := t.TempDir()
	start := func(i int) *budgetNode {
		return startBudgetNode(t, bin, env, filepath.Join(dir, fmt.Sprint("node", i)), stateDSN, freePort(t))
	}

	// The sampler counts the role's connections from before the second
	// node starts to the end.
	var highWater atomic.Int64
	stopSampling := sampleConnections(t, pgURL, role, &highWater)
	defer stopSampling()

	nodes := []*budgetNode{start(0)}
	creds := credentials.NewStaticCredentialsProvider("AKIDSQLGATEBUDGET0001", "sqlgate-budget-secret-access-key-0000000", "")
	sm := secretsmanager.New(secretsmanager.Options{BaseEndpoint: aws.String(nodes[0].http), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1})
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("budget-login"),
		SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":"budgetpw"}`, role))}); err != nil {
		t.Fatal(err)
	}
	nodes = append(nodes, start(1), start(2))
	for i, n := range nodes {
		testdb.Eventually(t, 60*time.Second, 50*time.Millisecond, fmt.Sprintf("node %d sees 3 nodes", i), func() bool {
			return n.metric(t, "sqlgate_pool_lease_nodes") == 3
		})
	}

	failed := storm(t, role, nodes, 600, 3)
	if len(failed) > 0 {
		t.Errorf("%d of 600 clients failed; first: %v", len(failed), failed[0])
		for i, n := range nodes {
			t.Logf("node %d warnings and errors:\n%s", i, n.problems())
		}
	}
	if hw := highWater.Load(); hw > 20 || hw == 0 {
		t.Errorf("database high-water mark of sqlgate's connections = %d, want 1..20", hw)
	} else {
		t.Logf("high-water mark over three nodes: %d connections (max_connections 20)", hw)
	}
	for i, n := range nodes {
		t.Logf("node %d: share %d, in use %d, fenced %d times", i, n.metric(t, "sqlgate_pool_lease_share"),
			n.metric(t, "sqlgate_pool_lease_in_use"), n.metric(t, "sqlgate_pool_lease_fences"))
	}

	// Kill node 2 (no graceful leave): its lease expires and its share
	// goes to nodes 0 and 1.
	killed := time.Now()
	_ = nodes[2].cmd.Process.Kill()
	<-nodes[2].exited
	testdb.Eventually(t, 60*time.Second, 50*time.Millisecond, "nodes 0 and 1 share all 20", func() bool {
		return nodes[0].metric(t, "sqlgate_pool_lease_share")+nodes[1].metric(t, "sqlgate_pool_lease_share") == 20 &&
			nodes[0].metric(t, "sqlgate_pool_lease_nodes") == 2
	})
	t.Logf("killed node's share handed over after %v (lease_ttl 6s)", time.Since(killed).Round(100*time.Millisecond))
	if failed := storm(t, role, nodes[:2], 200, 2); len(failed) > 0 {
		t.Errorf("after the kill: %d of 200 clients failed; first: %v", len(failed), failed[0])
	}
	if hw := highWater.Load(); hw > 20 {
		t.Errorf("high-water mark after the kill = %d, want <= 20", hw)
	}
	for _, n := range nodes[:2] {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		if err := <-n.exited; err != nil {
			t.Errorf("node exit: %v\n%s", err, n.logs)
		}
	}
}

// startBudgetNode starts one node with a proxy in front of the test
// database and waits for its HTTP and proxy listeners.
func startBudgetNode(t *testing.T, bin string, env []string, dir, stateDSN, proxyAddr string) *budgetNode {
	t.Helper()
	raw := testdb.PGURL(t)
	host, db := "127.0.0.1:5432", "sqlgate_test"
	if m := regexp.MustCompile(`@([^/]+)/([^?]+)`).FindStringSubmatch(raw); m != nil {
		host, db = m[1], m[2]
	}
	cfg := fmt.Sprintf(`data_dir: %s
listen: {http: 127.0.0.1:0}
state: {driver: postgres, dsn: %q}
clusters:
  - name: pg
    engine: postgres
    address: %q
    database: %s
    max_connections: 20
    tls: {mode: disable}
    proxy:
      listen: %s
      auth_secrets: [budget-login]
`, filepath.Join(dir, "data"), stateDSN, host, db, proxyAddr)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "sqlgate.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	n := &budgetNode{cmd: exec.Command(bin, "serve", "--config", file), proxy: proxyAddr, logs: &testdb.LogBuffer{}, exited: make(chan error, 1)}
	n.cmd.Env = env
	n.cmd.Stdout = io.Discard
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.cmd.Process.Kill() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`msg=listening proto=http addr=(\S+)`)
		for sc.Scan() {
			fmt.Fprintln(n.logs, sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
		n.exited <- n.cmd.Wait()
	}()
	select {
	case a := <-ready:
		n.http = "http://" + a
	case err := <-n.exited:
		t.Fatalf("sqlgate exited at start: %v\n%s", err, n.logs)
	case <-time.After(2 * time.Minute):
		t.Fatalf("sqlgate did not start\n%s", n.logs)
	}
	testdb.Eventually(t, time.Minute, 20*time.Millisecond, "proxy listening", func() bool {
		c, err := net.Dial("tcp", proxyAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return n
}

// problems returns the node's log lines at WARN and ERROR level.
func (n *budgetNode) problems() string {
	var b strings.Builder
	for _, line := range strings.Split(n.logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// metric sums the series of a gauge on the node's /metrics.
func (n *budgetNode) metric(t *testing.T, name string) int {
	resp, err := http.Get(n.http + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sum := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += int(v)
	}
	return sum
}

// storm runs clients clients, spread over the nodes' proxies, each
// connecting rounds times for one transaction, all at once; it returns
// the clients' errors.
func storm(t *testing.T, role string, nodes []*budgetNode, clients, rounds int) []error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var failed []error
	var wg sync.WaitGroup
	for i := range clients {
		n := nodes[i%len(nodes)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				if err := oneTransaction(ctx, role, n.proxy, i, r); err != nil {
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return failed
}

// oneTransaction connects to the proxy at addr, runs one transaction that
// holds its backend for a moment, and disconnects.
func oneTransaction(ctx context.Context, role, addr string, client, round int) error {
	host, port, _ := net.SplitHostPort(addr)
	c, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%s user=%s password=budgetpw dbname=sqlgate_test sslmode=disable", host, port, role))
	if err != nil {
		return fmt.Errorf("client %d round %d: connect: %w", client, round, err)
	}
	defer c.Close(context.Background())
	err = pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT $1::int FROM pg_sleep(0.02)", client).Scan(&n); err != nil {
			return err
		}
		if n != client {
			return fmt.Errorf("got %d", n)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("client %d round %d: %w", client, round, err)
	}
	return nil
}

// sampleConnections counts the role's connections in pg_stat_activity
// until the returned stop is called, keeping the highest count.
func sampleConnections(t *testing.T, pgURL, role string, high *atomic.Int64) (stop func()) {
	c, err := pgx.Connect(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer c.Close(context.Background())
		for ctx.Err() == nil {
			var n int64
			if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", role).Scan(&n); err == nil && n > high.Load() {
				high.Store(n)
			}
			testdb.Elapse(5 * time.Millisecond)
		}
	}()
	return func() { cancel(); <-done }
}

// freePort returns a loopback address with a port free at the moment.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

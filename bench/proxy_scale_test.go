package bench

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestBenchProxyScale is the client side of bench/proxy_scale.sh (targets:
// "5,000 concurrent clients over ≤ 20 backend connections with 0
// errors; 10,000 idle clients ≤ 200 MiB RSS"). The sqlgate binary runs as
// its own process; this test connects to its proxies:
//
//	SQLGATE_BENCH_PG_PROXY, SQLGATE_BENCH_MY_PROXY  host:port of the proxies
//	SQLGATE_BENCH_METRICS_URL                       the server's /metrics
//	SQLGATE_BENCH_SERVER_PID                        for VmRSS
//	SQLGATE_BENCH_CLIENTS (5000), SQLGATE_BENCH_IDLE (10000)
func TestBenchProxyScale(t *testing.T) {
	if os.Getenv("SQLGATE_BENCH") == "" || os.Getenv("SQLGATE_BENCH_PG_PROXY") == "" {
		t.Skip("run bench/proxy_scale.sh")
	}
	clients := envInt("SQLGATE_BENCH_CLIENTS", 5000)
	idle := envInt("SQLGATE_BENCH_IDLE", 10000)
	pid := os.Getenv("SQLGATE_BENCH_SERVER_PID")
	fmt.Printf("server RSS at start: %.1f MiB\n", rssMiB(t, pid))
	// Idle first, on a fresh process: the concurrent runs leave their peak
	// heap behind in RSS.
	t.Run("pg idle", func(t *testing.T) {
		idleRun(t, "pg", pid, idle, func(ctx context.Context) (scaleClient, error) {
			c, err := pgx.Connect(ctx, "postgres://sqlgate:sqlgatepw@"+os.Getenv("SQLGATE_BENCH_PG_PROXY")+"/sqlgate_test?sslmode=disable")
			if err != nil {
				return nil, err
			}
			return pgScaleClient{c}, nil
		})
	})
	t.Run("mysql idle", func(t *testing.T) {
		db := mysqlDB(t, idle)
		idleRun(t, "mysql", pid, idle, func(ctx context.Context) (scaleClient, error) {
			c, err := db.Conn(ctx)
			if err != nil {
				return nil, err
			}
			return myScaleClient{c}, nil
		})
	})
	t.Run("pg concurrent", func(t *testing.T) {
		scaleRun(t, "postgres", clients, func(ctx context.Context) (scaleClient, error) {
			c, err := pgx.Connect(ctx, "postgres://sqlgate:sqlgatepw@"+os.Getenv("SQLGATE_BENCH_PG_PROXY")+"/sqlgate_test?sslmode=disable")
			if err != nil {
				return nil, err
			}
			return pgScaleClient{c}, nil
		})
	})
	t.Run("mysql concurrent", func(t *testing.T) {
		db := mysqlDB(t, clients)
		scaleRun(t, "mysql", clients, func(ctx context.Context) (scaleClient, error) {
			c, err := db.Conn(ctx)
			if err != nil {
				return nil, err
			}
			return myScaleClient{c}, nil
		})
	})
}

// idleRun connects n clients with dial and samples the server's RSS 2 s
// after the last connected, and again once every session has been idle
// long enough to rest (2 s idle, 1 s janitor period).
func idleRun(t *testing.T, proto, pid string, n int, dial func(context.Context) (scaleClient, error)) {
	before := rssMiB(t, pid)
	conns := connectAll(t, n, dial)
	testdb.Elapse(2 * time.Second)
	after := rssMiB(t, pid)
	fmt.Printf("RESULT %s idle clients=%d server_rss_mib=%.1f (before %.1f, %.1f KiB/client) backend_conns=%s\n",
		proto, len(conns), after, before, (after-before)*1024/float64(max(len(conns), 1)), backendConns(t, clusterOf(proto)))
	testdb.Elapse(4 * time.Second)
	rested := rssMiB(t, pid)
	fmt.Printf("RESULT %s idle clients=%d after 6 s server_rss_mib=%.1f (%.1f KiB/client)\n",
		proto, len(conns), rested, (rested-before)*1024/float64(max(len(conns), 1)))
	saveIdleProfile(t, proto)
	for _, c := range conns {
		c.close()
	}
	if len(conns) != n {
		t.Errorf("%d of %d idle clients connected", len(conns), n)
	}
	if after > 200 {
		t.Errorf("server RSS %.1f MiB with %d idle clients, target ≤ 200 MiB", after, n)
	}
}

// clusterOf names the benchmark's cluster of a proxy protocol.
func clusterOf(proto string) string {
	if proto == "mysql" {
		return "maria"
	}
	return proto
}

// mysqlDB opens the MySQL proxy with room for n connections held at once.
func mysqlDB(t *testing.T, n int) *sql.DB {
	mc := mysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = "sqlgate", "sqlgatepw", "tcp", os.Getenv("SQLGATE_BENCH_MY_PROXY"), "sqlgate_test"
	mc.Timeout = time.Minute
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxIdleConns(n)
	return db
}

// scaleClient is one client connection of either driver.
type scaleClient interface {
	query(ctx context.Context, i int) error
	close()
}

type pgScaleClient struct{ c *pgx.Conn }

func (p pgScaleClient) query(ctx context.Context, i int) error {
	tx, err := p.c.Begin(ctx)
	if err != nil {
		return err
	}
	var got int
	if err := tx.QueryRow(ctx, "select $1::int + 1", i).Scan(&got); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	if got != i+1 {
		return fmt.Errorf("got %d, want %d", got, i+1)
	}
	return tx.Commit(ctx)
}

func (p pgScaleClient) close() { _ = p.c.Close(context.Background()) }

type myScaleClient struct{ c *sql.Conn }

func (m myScaleClient) query(ctx context.Context, i int) error {
	tx, err := m.c.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	var got int
	if err := tx.QueryRowContext(ctx, "select ? + 1", i).Scan(&got); err != nil {
		_ = tx.Rollback()
		return err
	}
	if got != i+1 {
		return fmt.Errorf("got %d, want %d", got, i+1)
	}
	return tx.Commit()
}

func (m myScaleClient) close() { _ = m.c.Close() }

// connectAll opens n clients, 200 handshakes at a time, and returns the
// ones that connected (errors are reported).
func connectAll(t *testing.T, n int, dial func(context.Context) (scaleClient, error)) []scaleClient {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var out []scaleClient
	var errs atomic.Int64
	var first atomic.Value
	sem := make(chan struct{}, 200)
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(ctx)
			if err != nil {
				errs.Add(1)
				first.CompareAndSwap(nil, err.Error())
				return
			}
			mu.Lock()
			out = append(out, c)
			mu.Unlock()
		}()
	}
	wg.Wait()
	fmt.Printf("connected %d clients in %v (%d errors)\n", len(out), time.Since(start).Round(time.Millisecond), errs.Load())
	if errs.Load() > 0 {
		t.Errorf("%d connect errors, first: %v", errs.Load(), first.Load())
	}
	return out
}

// scaleRun connects n clients, then has all of them run rounds
// transactions at once, and reports errors and the backend connections
// the proxy held (sampled from /metrics).
func scaleRun(t *testing.T, engine string, n int, dial func(context.Context) (scaleClient, error)) {
	const rounds = 5
	conns := connectAll(t, n, dial)
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	cluster := map[string]string{"postgres": "pg", "mysql": "maria"}[engine]
	stop := make(chan struct{})
	var peak atomic.Int64
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if v, err := strconv.Atoi(backendConns(t, cluster)); err == nil && int64(v) > peak.Load() {
					peak.Store(int64(v))
				}
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var errs, ok atomic.Int64
	var first atomic.Value
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			for r := range rounds {
				if err := c.query(ctx, i*rounds+r); err != nil {
					errs.Add(1)
					first.CompareAndSwap(nil, err.Error())
					return
				}
				ok.Add(1)
			}
		}()
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	fmt.Printf("RESULT %s concurrent clients=%d transactions=%d errors=%d elapsed=%v tps=%.0f peak_backend_conns=%d server_rss_mib=%.1f\n",
		engine, len(conns), ok.Load(), errs.Load(), elapsed.Round(time.Millisecond), float64(ok.Load())/elapsed.Seconds(),
		peak.Load(), rssMiB(t, os.Getenv("SQLGATE_BENCH_SERVER_PID")))
	if errs.Load() > 0 || len(conns) != n {
		t.Errorf("%d errors (first: %v), %d of %d clients", errs.Load(), first.Load(), len(conns), n)
	}
	if peak.Load() > 20 {
		t.Errorf("peak backend connections %d > 20", peak.Load())
	}
}

// backendConns returns busy+idle sqlgate_proxy_database_connections of
// cluster from /metrics, as text.
func backendConns(t *testing.T, cluster string) string {
	resp, err := http.Get(os.Getenv("SQLGATE_BENCH_METRICS_URL"))
	if err != nil {
		return "?"
	}
	defer resp.Body.Close()
	total := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "sqlgate_proxy_database_connections{") && strings.Contains(line, `cluster="`+cluster+`"`) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += v
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return strconv.Itoa(int(total))
}

// rssMiB reads VmRSS of pid from /proc.
func rssMiB(t *testing.T, pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Logf("read RSS: %v", err)
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	return -1
}

// saveIdleProfile keeps the server's heap profile of the idle phase in
// bench/out when SQLGATE_BENCH_PPROF names the server's --pprof address.
func saveIdleProfile(t *testing.T, proto string) {
	addr := os.Getenv("SQLGATE_BENCH_PPROF")
	if addr == "" {
		return
	}
	dir := "bench/out" // the script runs the test binary from the repository root
	if _, err := os.Stat(dir); err != nil {
		dir = "out"
	}
	for name, query := range map[string]string{"heap.pb.gz": "", "heap.txt": "?debug=1"} {
		resp, err := http.Get("http://" + addr + "/debug/pprof/heap" + query)
		if err != nil {
			t.Logf("heap profile: %v", err)
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			err = os.WriteFile(dir+"/idle-"+proto+"-"+name, b, 0o644)
		}
		if err != nil {
			t.Logf("heap profile: %v", err)
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

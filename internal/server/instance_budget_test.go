package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// instanceBudgetN is the max_connections of the cluster under test.
const instanceBudgetN = 3

// TestInstanceBudget_PGWriterAndReader: max_connections is the budget of
// each instance, so a cluster of a writer and a reader with
// max_connections N holds N transactions through the writer proxy and N
// through the reader endpoint at once, and the (N+1)th on either waits
// for its instance alone. Idle proxy connections to the reader give
// their slots to a reader SQL endpoint, while the writer's are untouched.
// pg_stat_activity on each instance never shows more than N of sqlgate's
// connections (health checks included).
func TestInstanceBudget_PGWriterAndReader(t *testing.T) {
	r := testdb.NeedReplicas(t)
	replicaScript(t, r)("start", "all")
	pg, my := replicatedTargets(r, 200*time.Millisecond)
	pg.cluster.MaxConnections = instanceBudgetN
	roAddr := "127.0.0.1:" + strings.Split(freePorts(t, 1), "-")[0]
	pg.cluster.Proxy.Endpoints = []config.ProxyEndpoint{{Name: "pg-file-ro", Listen: roAddr, TargetRole: config.TargetReadOnly}}
	pg.cluster.Proxy.BorrowTimeout = time.Second
	pg.cluster.Readers = config.Readers{MaxReplicaLag: 30 * time.Second}
	cfg := configFor(pg, my)
	cfg.Endpoints = append(cfg.Endpoints, config.Endpoint{Name: "ro-pg", Method: "GET", Path: "/ro/pg", Cluster: "pg",
		Secret: "pg-proxy", Target: config.TargetReader, SQL: config.Statements{"select inet_server_port() as port"}})
	rs := startRunning(t, cfg, pg, my) // rs.myProxy is pg-file-ro here: unused
	env := &readerEnv{rs: rs}
	ctx := context.Background()

	stop := make(chan struct{})
	var peaks sync.WaitGroup
	peak := map[string]*int{r.PGPrimary: new(int), r.PGReplica: new(int)}
	for addr, p := range peak {
		peaks.Add(1)
		go func() {
			defer peaks.Done()
			samplePeak(t, addr, stop, p)
		}()
	}

	open := func(addr, app string) (*pgx.Conn, int, error) {
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://sqlgate:sqlgatepw@%s/sqlgate_test?sslmode=disable&application_name=%s", addr, app))
		if err != nil {
			return nil, 0, err
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		if _, err := c.Exec(ctx, "begin"); err != nil {
			return c, 0, err
		}
		var p int
		err = c.QueryRow(ctx, "select inet_server_port()").Scan(&p)
		return c, p, err
	}
	// The reader is eligible once a health check found it replicating.
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		c, p, err := open(roAddr, "budget-probe")
		if c != nil {
			_ = c.Close(ctx)
		}
		return err == nil && p == port(t, r.PGReplica), fmt.Sprintf("read through the endpoint: port %d, %v", p, err)
	})
	var readers []*pgx.Conn
	for _, side := range []struct{ addr, app, inst string }{{rs.pgProxy, "budget-w", r.PGPrimary}, {roAddr, "budget-r", r.PGReplica}} {
		for i := range instanceBudgetN {
			c, p, err := open(side.addr, side.app)
			if err != nil || p != port(t, side.inst) {
				t.Fatalf("transaction %d of %d through %s: port %d, %v; want %s", i+1, instanceBudgetN, side.app, p, err, side.inst)
			}
			if side.app == "budget-r" {
				readers = append(readers, c)
			}
		}
	}
	for _, inst := range []string{r.PGPrimary, r.PGReplica} {
		series := `sqlgate_pool_instance_connections{cluster="pg",instance="` + inst + `"}`
		if v := env.metric(t, series); v != fmt.Sprint(instanceBudgetN) {
			t.Errorf("%s = %q, want %d", series, v, instanceBudgetN)
		}
	}
	for _, side := range []struct{ addr, app string }{{rs.pgProxy, "budget-w"}, {roAddr, "budget-r"}} {
		_, p, err := open(side.addr, side.app+"-extra")
		if err == nil || !strings.Contains(err.Error(), "timed out waiting for a database connection") {
			t.Fatalf("transaction %d through %s: port %d, %v; want the borrow timeout (its instance's budget is full)", instanceBudgetN+1, side.app, p, err)
		}
	}
	for inst, app := range map[string]string{r.PGPrimary: "budget-w", r.PGReplica: "budget-r"} {
		if n := countBackends(t, inst, "application_name = '"+app+"'"); n != instanceBudgetN {
			t.Errorf("%s: %d connections of %s in pg_stat_activity, want %d", inst, n, app, instanceBudgetN)
		}
	}

	// The reader's proxy connections go idle: the reader SQL endpoint
	// gets one of their slots; the writer's transactions stay.
	for _, c := range readers {
		if _, err := c.Exec(ctx, "rollback"); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := env.endpointPort("pg"); err != nil || p != port(t, r.PGReplica) {
		t.Fatalf("reader SQL endpoint while the reader's slots are idle proxy connections: port %d, %v", p, err)
	}
	if n := countBackends(t, r.PGPrimary, "application_name = 'budget-w' and state = 'idle in transaction'"); n != instanceBudgetN {
		t.Errorf("writer transactions after the reader's eviction: %d, want %d", n, instanceBudgetN)
	}
	close(stop)
	peaks.Wait()
	for inst, p := range peak {
		if *p > instanceBudgetN {
			t.Errorf("%s: up to %d connections of sqlgate at once, over max_connections %d", inst, *p, instanceBudgetN)
		}
	}
}

// samplePeak records in *peak the most sqlgate connections seen at once
// on the instance at addr until stop is closed.
func samplePeak(t *testing.T, addr string, stop chan struct{}, peak *int) {
	for {
		if n := countBackends(t, addr, "true"); n > *peak {
			*peak = n
		}
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// countBackends counts the client connections of user sqlgate on the
// instance at addr matching where, its own excepted. The shared replicas
// are locked for the test (testdb.NeedReplicas): no other test's
// connections are there.
func countBackends(t *testing.T, addr, where string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, "postgres://sqlgate:sqlgatepw@"+addr+"/sqlgate_test?sslmode=disable&application_name=budget-counter")
	if err != nil {
		t.Errorf("count on %s: %v", addr, err)
		return 0
	}
	defer c.Close(context.Background())
	var n int
	err = c.QueryRow(ctx, "select count(*) from pg_stat_activity where usename = 'sqlgate' and backend_type = 'client backend' and pid <> pg_backend_pid() and application_name <> 'budget-counter' and "+where).Scan(&n)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("count on %s: %v", addr, err)
	}
	return n
}

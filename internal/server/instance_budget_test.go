package server

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/barrier"
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
	pg.cluster.Proxy.BorrowTimeout = 3 * time.Second // a health check may hold a slot for a moment under load
	pg.cluster.Readers = config.Readers{MaxReplicaLag: 30 * time.Second}
	cfg := configFor(pg, my)
	cfg.Endpoints = append(cfg.Endpoints, config.Endpoint{Name: "ro-pg", Method: "GET", Path: "/ro/pg", Cluster: "pg",
		Secret: "pg-proxy", Target: config.TargetReader, SQL: config.Statements{"select inet_server_port() as port"}})
	rs := startRunning(t, cfg, pg, my) // rs.myProxy is pg-file-ro here: unused
	env := &readerEnv{rs: rs}
	ctx := context.Background()

	checkPeaks := samplePeaks(t, func(t *testing.T, addr string) []int64 { return pgBackends(t, addr, "true") }, false, r.PGPrimary, r.PGReplica)

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
	checkPeaks()
}

// samplePeaks samples the instances at addrs (samplePeak) until the
// returned function is called or the test ends; that function stops the
// samplers and fails the test unless each instance's peak was exactly
// instanceBudgetN.
func samplePeaks(t *testing.T, ids func(t *testing.T, addr string) []int64, confirm bool, addrs ...string) (check func()) {
	stop := make(chan struct{})
	var peaks sync.WaitGroup
	var stopOnce sync.Once
	stopSampling := func() {
		stopOnce.Do(func() { close(stop) })
		peaks.Wait()
	}
	t.Cleanup(stopSampling) // also when the test fails early: no sample after it ends
	peak := map[string]*int{}
	for _, addr := range addrs {
		p := new(int)
		peak[addr] = p
		peaks.Add(1)
		go func() {
			defer peaks.Done()
			samplePeak(stop, p, func() []int64 { return ids(t, addr) }, confirm)
		}()
	}
	return func() {
		stopSampling()
		for inst, p := range peak {
			if *p != instanceBudgetN {
				t.Errorf("%s: up to %d connections of sqlgate at once, want max_connections %d (held for a second)", inst, *p, instanceBudgetN)
			}
		}
	}
}

// samplePeak records in *peak the most sqlgate connections seen at once
// on an instance, sampled every 20 ms until stop is closed; ids lists
// their server ids (PID, connection ID). PostgreSQL connections count in
// every sample (strict): sqlgate closes them synchronously, waiting for
// the backend to exit before the slot is free. With confirm, a
// connection counts only when two samples 20 ms apart both list it:
// MariaDB closes the socket before it drops the thread from its process
// list, so one sqlgate has closed (its slot free again) may stay listed
// for a moment beside the connection that took its slot.
func samplePeak(stop chan struct{}, peak *int, ids func() []int64, confirm bool) {
	var prev []int64
	for {
		cur := ids()
		n := 0
		for _, id := range cur {
			if !confirm || slices.Contains(prev, id) {
				n++
			}
		}
		*peak = max(*peak, n)
		prev = cur
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// countBackends counts the client connections of user sqlgate on the
// instance at addr matching where (pgBackends).
func countBackends(t *testing.T, addr, where string) int { return len(pgBackends(t, addr, where)) }

// pgBackends lists the PIDs of the client connections of user sqlgate on
// the instance at addr matching where, the counters' own excepted. The
// shared replicas are locked for the test (testdb.NeedReplicas): no
// other test's connections are there.
func pgBackends(t *testing.T, addr, where string) []int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, "postgres://sqlgate:sqlgatepw@"+addr+"/sqlgate_test?sslmode=disable&application_name=budget-counter")
	if err != nil {
		t.Errorf("count on %s: %v", addr, err)
		return nil
	}
	defer c.Close(context.Background())
	rows, err := c.Query(ctx, "select pid from pg_stat_activity where usename = 'sqlgate' and backend_type = 'client backend' and application_name <> 'budget-counter' and "+where)
	if err != nil {
		t.Errorf("count on %s: %v", addr, err)
		return nil
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("count on %s: %v", addr, err)
	}
	return ids
}

// TestInstanceBudget_MySQLWriterAndReader is the same on MariaDB:
// max_connections transactions through the writer proxy and as many
// through a reader endpoint at once, one more waiting for its own
// instance, and information_schema.PROCESSLIST on each instance never
// showing more than max_connections of sqlgate's connections.
func TestInstanceBudget_MySQLWriterAndReader(t *testing.T) {
	r := testdb.NeedReplicas(t)
	replicaScript(t, r)("start", "all")
	pg, my := replicatedTargets(r, 200*time.Millisecond)
	my.cluster.MaxConnections = instanceBudgetN
	roAddr := "127.0.0.1:" + strings.Split(freePorts(t, 1), "-")[0]
	my.cluster.Proxy.Endpoints = []config.ProxyEndpoint{{Name: "maria-file-ro", Listen: roAddr, TargetRole: config.TargetReadOnly}}
	my.cluster.Proxy.BorrowTimeout = 3 * time.Second // a health check may hold a slot for a moment under load
	my.cluster.Readers = config.Readers{MaxReplicaLag: 30 * time.Second}
	rs := startRunning(t, configFor(pg, my), pg, my)
	ctx := context.Background()

	checkPeaks := samplePeaks(t, mysqlBackends, true, r.MySQLPrimary, r.MySQLReplica)
	open := func(addr string) (int, error) {
		mc := gomysql.NewConfig()
		mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = "sqlgate", "sqlgatepw", "tcp", addr, "sqlgate_test"
		mc.Timeout = 10 * time.Second
		db, err := sql.Open("mysql", mc.FormatDSN())
		if err != nil {
			return 0, err
		}
		t.Cleanup(func() { _ = db.Close() })
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		t.Cleanup(func() { _ = tx.Rollback() })
		var p int
		err = tx.QueryRowContext(ctx, "SELECT @@port").Scan(&p)
		return p, err
	}
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		mc := gomysql.NewConfig()
		mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = "sqlgate", "sqlgatepw", "tcp", roAddr, "sqlgate_test"
		db, err := sql.Open("mysql", mc.FormatDSN())
		if err != nil {
			return false, err.Error()
		}
		defer db.Close()
		var p int
		err = db.QueryRowContext(ctx, "SELECT @@port").Scan(&p)
		return err == nil && p == port(t, r.MySQLReplica), fmt.Sprintf("read through the endpoint: port %d, %v", p, err)
	})
	for _, side := range []struct{ addr, name, inst string }{{rs.myProxy, "writer proxy", r.MySQLPrimary}, {roAddr, "reader endpoint", r.MySQLReplica}} {
		for i := range instanceBudgetN {
			if p, err := open(side.addr); err != nil || p != port(t, side.inst) {
				t.Fatalf("transaction %d of %d through the %s: port %d, %v; want %s", i+1, instanceBudgetN, side.name, p, err, side.inst)
			}
		}
		if p, err := open(side.addr); err == nil || !strings.Contains(err.Error(), "waiting for a database connection") {
			t.Fatalf("transaction %d through the %s: port %d, %v; want the borrow timeout", instanceBudgetN+1, side.name, p, err)
		}
	}
	for _, inst := range []string{r.MySQLPrimary, r.MySQLReplica} {
		if n := countMySQLBackends(t, inst); n != instanceBudgetN {
			t.Errorf("%s: %d connections of sqlgate in the processlist, want %d:\n%s", inst, n, instanceBudgetN, mysqlProcesses(t, inst))
		}
	}
	checkPeaks()
}

// countMySQLBackends counts the connections of sqlgate on the instance
// at addr (mysqlBackends).
func countMySQLBackends(t *testing.T, addr string) int { return len(mysqlBackends(t, addr)) }

// mysqlBackends lists the IDs of the connections of user sqlgate to
// database sqlgate_test on the instance at addr — every connection of
// sqlgate's doors uses the cluster's database, while the counters and
// the replica's binlog dump (replication logs in as sqlgate too) have
// none. The shared replicas are locked for the test: no other test's
// connections are there.
func mysqlBackends(t *testing.T, addr string) []int64 {
	mc := gomysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr = "sqlgate", "sqlgatepw", "tcp", addr
	mc.Timeout = 5 * time.Second
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Errorf("count on %s: %v", addr, err)
		return nil
	}
	defer db.Close()
	rows, err := db.Query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'sqlgate' AND DB = 'sqlgate_test'")
	if err != nil {
		t.Errorf("count on %s: %v", addr, err)
		return nil
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Errorf("count on %s: %v", addr, err)
		}
		ids = append(ids, id)
	}
	return ids
}

// mysqlProcesses lists the processlist of the instance at addr (for a
// failure message).
func mysqlProcesses(t *testing.T, addr string) string {
	mc := gomysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr = "sqlgate", "sqlgatepw", "tcp", addr
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		return err.Error()
	}
	defer db.Close()
	rows, err := db.Query("SELECT ID, USER, COALESCE(DB, ''), COMMAND, TIME, COALESCE(STATE, ''), COALESCE(INFO, '') FROM information_schema.PROCESSLIST")
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, secs int
		var user, db, cmd, state, info string
		if err := rows.Scan(&id, &user, &db, &cmd, &secs, &state, &info); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "%d %s %s %s %ds %s %q\n", id, user, db, cmd, secs, state, info)
	}
	return b.String()
}

// TestInstanceBudget_TwoNodesLeasePerInstance: two nodes on one
// PostgreSQL state store lease each instance's max_connections on its
// own: a node busy on the writer gets most of the writer's budget while
// the other, busy on the reader, gets most of the reader's, each
// instance's shares summing to its max_connections. The instances are
// never dialled (no health checks run): only the budgets are used.
func TestInstanceBudget_TwoNodesLeasePerInstance(t *testing.T) {
	dsn := testdb.PGSchemaURL(t, "sqlgate_instance_lease_test_")
	key := make([]byte, barrier.KeySize)
	_, _ = rand.Read(key)
	t.Setenv(barrier.EnvMasterKey, base64.StdEncoding.EncodeToString(key))
	const w, r, n = "127.0.0.1:1", "127.0.0.1:2", 6
	cfg := func() *config.Config {
		return configFor(dbTarget{cluster: config.Cluster{Name: "pg", Engine: "postgres", Address: w, Database: "sqlgate_test", MaxConnections: n,
			Instances:   []config.Instance{{Address: w, Role: config.RoleWriter}, {Address: r, Role: config.RoleReader}},
			HealthCheck: config.HealthCheck{Secret: "pg-health"}}})
	}
	a, b := startNodeWith(t, dsn, cfg()), startNodeWith(t, dsn, cfg())
	ctx := context.Background()
	hold := func(e *testEnv, addr string, k int) {
		for range k {
			release, err := e.srv.cluster("pg").budgets.ReserveOn(ctx, addr)
			if err != nil {
				t.Fatalf("reserve on %s: %v", addr, err)
			}
			t.Cleanup(release)
		}
	}
	limit := func(e *testEnv, addr string) int { return e.srv.cluster("pg").budgets.Of(addr).Limit() }
	testdb.EventuallyState(t, 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		return limit(a, w)+limit(b, w) == n && limit(a, r)+limit(b, r) == n,
			fmt.Sprintf("limits w %d+%d, r %d+%d; want each instance's %d shared", limit(a, w), limit(b, w), limit(a, r), limit(b, r), n)
	})
	hold(a, w, 2)
	hold(b, r, 2)
	// a's third on the writer and b's third on the reader wait for their
	// node's share to grow, which it does as the demand is published.
	go func() {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if release, err := a.srv.cluster("pg").budgets.ReserveOn(rctx, w); err == nil {
			release()
		}
	}()
	testdb.EventuallyState(t, 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		aw, bw, ar, br := limit(a, w), limit(b, w), limit(a, r), limit(b, r)
		return aw+bw == n && ar+br == n && aw > bw && br > ar,
			fmt.Sprintf("limits w a %d b %d, r a %d b %d; want the writer's mostly a's and the reader's mostly b's, each summing to %d", aw, bw, ar, br, n)
	})
	var insts []string
	for _, st := range a.srv.leases.Stats() {
		insts = append(insts, st.Cluster+"@"+st.Instance)
	}
	if !slices.Equal(insts, []string{"pg@" + w, "pg@" + r}) {
		t.Fatalf("node a's leases: %v, want one per instance", insts)
	}
}

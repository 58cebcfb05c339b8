package server

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
	"github.com/sqlgate/sqlgate/internal/topology"
)

// TestReaders_Balance: a cluster with two readers — the PostgreSQL
// standby and a relay in front of it, a second address of the same
// server — behind a read-only endpoint declared in the file. Two open
// transactions run on different readers; one client's successive
// transactions alternate between them although idle connections to both
// exist. Then the relay refuses connections and resets those it carried
// (a reader dying between health checks): a client in a transaction on
// it gets an error, while new transactions keep succeeding on the other
// reader and the dead one is taken out before any check noticed.
func TestReaders_Balance(t *testing.T) {
	r, relay, rs, ro := twoReaders(t, "pg")
	topo := rs.srv.cluster("pg").topo
	readers := []string{r.PGReplica, relay.Addr()}

	ctx := context.Background()
	replicaPort := port(t, r.PGReplica)
	connect := func() *pgx.Conn {
		t.Helper()
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://sqlgate:sqlgatepw@%s/sqlgate_test?sslmode=disable", ro))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	// begin opens a transaction on c and returns the reader it runs on
	// (the one reader whose outstanding picks grew).
	begin := func(c *pgx.Conn) (pgx.Tx, string) {
		t.Helper()
		before := topo.readers.Open()
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var p int
		if err := tx.QueryRow(ctx, "select inet_server_port()").Scan(&p); err != nil || p != replicaPort {
			t.Fatalf("read in a transaction: port %d, %v; want the standby %d", p, err, replicaPort)
		}
		after := topo.readers.Open()
		for _, a := range readers {
			if after[a] == before[a]+1 {
				return tx, a
			}
		}
		t.Fatalf("outstanding picks %v -> %v: no reader took the transaction", before, after)
		return nil, ""
	}

	a, b := connect(), connect()
	txA, onA := begin(a)
	txB, onB := begin(b)
	if onA == onB {
		t.Fatalf("two open transactions both on %s, want one per reader (least outstanding)", onA)
	}
	for _, tx := range []pgx.Tx{txA, txB} {
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	picksSettled(t, topo.readers.Open)
	got := map[string]int{}
	for range 10 {
		tx, on := begin(a)
		got[on]++
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		picksSettled(t, topo.readers.Open)
	}
	if got[readers[0]] < 3 || got[readers[1]] < 3 || relay.Accepted() == 0 {
		t.Fatalf("one client's 10 transactions: %v (relay accepted %d), want both readers used", got, relay.Accepted())
	}
	picksSettled(t, topo.readers.Open)

	// A client in a transaction on the relay, and the relay dies.
	var inTx pgx.Tx
	for inTx == nil {
		tx, on := begin(connect())
		if on == relay.Addr() {
			inTx = tx
		} else if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rounds := topo.mon.Counters().Rounds
	relay.SetMode(proxytest.Refuse)
	relay.Reset()
	if _, err := inTx.Exec(ctx, "select 1"); err == nil {
		t.Fatal("a client in a transaction on the dead reader got no error")
	}
	// Idle connections to the dead reader are found gone and dropped
	// (each borrow that meets one picks again); once one borrow dials it,
	// it is marked down. Every transaction meanwhile succeeds.
	status := func() topology.Status {
		for _, s := range topo.mon.Instances() {
			if s.Address == relay.Addr() {
				return s
			}
		}
		return topology.Status{}
	}
	for i := 0; status().Healthy; i++ {
		if i == 50 {
			t.Fatalf("50 transactions after the reader died, and it is still healthy: %+v", status())
		}
		var p int
		if err := a.QueryRow(ctx, "select inet_server_port()").Scan(&p); err != nil || p != replicaPort {
			t.Fatalf("transaction %d after the reader died: port %d, %v; want the other reader", i, p, err)
		}
	}
	for i := range 5 {
		var p int
		if err := a.QueryRow(ctx, "select inet_server_port()").Scan(&p); err != nil || p != replicaPort {
			t.Fatalf("transaction %d with the dead reader down: port %d, %v", i, p, err)
		}
	}
	dead := status()
	if topo.mon.Counters().Rounds == rounds && !strings.Contains(dead.Reason, "since the last check") {
		t.Fatalf("no check ran, yet the dead reader's reason is %q; want it marked down by the failed connect", dead.Reason)
	}
}

// TestReaders_BalanceMySQL: the same balance through the MySQL proxy's
// read-only endpoint, over the MariaDB replica (@@server_id 2) and a relay
// to it: one client's successive transactions alternate between the two
// readers although idle connections to both exist.
func TestReaders_BalanceMySQL(t *testing.T) {
	r, relay, rs, ro := twoReaders(t, "maria")
	topo := rs.srv.cluster("maria").topo
	readers := []string{r.MySQLReplica, relay.Addr()}
	ctx := context.Background()
	mc := gomysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = "sqlgate", "sqlgatepw", "tcp", ro, "sqlgate_test"
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	got := map[string]int{}
	for range 10 {
		before := topo.readers.Open()
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var id int
		if err := tx.QueryRowContext(ctx, "SELECT @@server_id").Scan(&id); err != nil || id != 2 {
			t.Fatalf("read in a transaction: server id %d, %v; want the replica's 2", id, err)
		}
		after := topo.readers.Open()
		for _, a := range readers {
			if after[a] == before[a]+1 {
				got[a]++
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		picksSettled(t, topo.readers.Open)
	}
	if got[readers[0]] < 3 || got[readers[1]] < 3 || relay.Accepted() == 0 {
		t.Fatalf("one client's 10 transactions: %v (relay accepted %d), want both readers used", got, relay.Accepted())
	}
}

// picksSettled waits until no reader has an outstanding pick: a pick ends
// when its connection goes back to the pool, a moment after the client
// has COMMIT's reply.
func picksSettled(t *testing.T, open func() map[string]int) {
	t.Helper()
	testdb.EventuallyState(t, 5*time.Second, 10*time.Millisecond, func() (bool, string) {
		o := open()
		return len(o) == 0, fmt.Sprintf("outstanding picks after every commit: %v", o)
	})
}

// twoReaders runs a server whose cluster ("pg" or "maria") has two
// readers — the replica and a relay in front of it, a second address of
// the same server — behind a read-only endpoint declared in the file
// (listening on ro), and waits until both readers are healthy.
func twoReaders(t *testing.T, cluster string) (r testdb.Replicas, relay *proxytest.Relay, rs *runningServer, ro string) {
	r = testdb.NeedReplicas(t)
	replicaScript(t, r)("start", "all")
	pg, my := replicatedTargets(r, 10*time.Second)
	target, replica := &pg, r.PGReplica
	if cluster == "maria" {
		target, replica = &my, r.MySQLReplica
	}
	relay = proxytest.NewRelay(t, replica, nil)
	target.cluster.Instances = append(target.cluster.Instances, config.Instance{Address: relay.Addr(), Role: config.RoleReader})
	ro = "127.0.0.1:" + strings.Split(freePorts(t, 1), "-")[0]
	target.cluster.Proxy.Endpoints = []config.ProxyEndpoint{{Name: cluster + "-file-ro", Listen: ro, TargetRole: config.TargetReadOnly}}
	rs = startRunning(t, configFor(pg, my), pg, my)
	topo := rs.srv.cluster(cluster).topo
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		return len(topo.mon.Readers()) == 2, fmt.Sprintf("healthy readers: %+v", topo.mon.Instances())
	})
	return r, relay, rs, ro
}

package server

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// replicatedProxies runs a server (Run, both proxies) with the clusters
// "pg" and "maria" over the topology of e2e/replicas.sh, health-checked
// every 200 ms with the proxies' own auth secrets. The topology of engine
// is restored (the replica rebuilt) when the test ends.
func replicatedProxies(t *testing.T, engine string) (testdb.Replicas, *runningServer, func(...string)) {
	r := testdb.NeedReplicas(t)
	script := replicaScript(t, r)
	script("start", "all")
	t.Cleanup(func() { script("start", engine) })
	pg, my := replicatedTargets(r, 200*time.Millisecond)
	return r, startRunning(t, configFor(pg, my), pg, my), script
}

// replicaScript returns a runner of e2e/replicas.sh that fails t on error.
func replicaScript(t *testing.T, r testdb.Replicas) func(...string) {
	return func(args ...string) {
		t.Helper()
		if out, err := exec.Command("bash", append([]string{r.Script}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("replicas.sh %v: %v\n%s", args, err, out)
		}
	}
}

// port returns the port of a host:port address.
func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil {
		t.Fatalf("address %q: %v %v", addr, err, err2)
	}
	return n
}

// TestTopology_PGProxyFailover: the primary dies and the replica is
// promoted. A client idle on the PostgreSQL proxy keeps its connection
// and its next statements run on the new writer; a client that was in a
// transaction on the old writer gets an error, never a statement run
// somewhere else.
func TestTopology_PGProxyFailover(t *testing.T) {
	r, rs, script := replicatedProxies(t, "postgres")
	ctx := context.Background()
	idle, inTx, pinned := rs.pgConnect(t), rs.pgConnect(t), rs.pgConnect(t)
	serverPort := func() (int, error) {
		var p int
		err := idle.QueryRow(ctx, "select inet_server_port()").Scan(&p)
		return p, err
	}
	if _, err := inTx.Exec(ctx, "begin; select 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := pinned.Exec(ctx, "select pg_advisory_lock(1)"); err != nil {
		t.Fatal(err)
	}
	// Last: the idle client's own backend connection waits in the pool,
	// so its next statement would go to it without a reset.
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		p, err := serverPort()
		return err == nil && p == port(t, r.PGPrimary), fmt.Sprintf("before the failover: port %d, %v", p, err)
	})
	script("kill", "postgres", "primary")
	// With no writer the idle client's statement fails, and it stays
	// connected.
	if p, err := serverPort(); err == nil {
		t.Fatalf("a statement with the writer down ran on port %d", p)
	} else if idle.IsClosed() {
		t.Fatalf("the idle client was disconnected while the writer was down: %v", err)
	} else {
		t.Logf("idle client, writer down: %v", err)
	}
	script("promote", "postgres")
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		p, err := serverPort()
		return err == nil && p == port(t, r.PGReplica), fmt.Sprintf("the idle client's connection after the failover: port %d, %v", p, err)
	})
	var p int
	if err := inTx.QueryRow(ctx, "select inet_server_port()").Scan(&p); err == nil {
		t.Fatalf("a statement in a transaction on the dead writer ran on port %d, want an error", p)
	} else {
		t.Logf("in-transaction client: %v", err)
	}
	if err := pinned.QueryRow(ctx, "select inet_server_port()").Scan(&p); err == nil {
		t.Fatalf("a pinned session of the dead writer ran a statement on port %d, want an error", p)
	} else {
		t.Logf("pinned client: %v", err)
	}
	if _, err := idle.Exec(ctx, "create temp table t (i int); insert into t values (1)"); err != nil {
		t.Fatalf("write on the new writer: %v", err)
	}
}

// TestTopology_MySQLProxyFailover is TestTopology_PGProxyFailover for the
// MySQL proxy, the server told apart by @@server_id (1 primary, 2 replica).
func TestTopology_MySQLProxyFailover(t *testing.T) {
	_, rs, script := replicatedProxies(t, "mariadb")
	ctx := context.Background()
	db := rs.myDB(t)
	conn := func() *sql.Conn {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	idle, inTx, pinned := conn(), conn(), conn()
	serverID := func() (int, error) {
		var id int
		err := idle.QueryRowContext(ctx, "SELECT @@server_id").Scan(&id)
		return id, err
	}
	for _, q := range []string{"BEGIN", "SELECT 1"} {
		if _, err := inTx.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pinned.ExecContext(ctx, "CREATE TEMPORARY TABLE p (i INT)"); err != nil {
		t.Fatal(err)
	}
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		id, err := serverID()
		return err == nil && id == 1, fmt.Sprintf("before the failover: server id %d, %v", id, err)
	})
	script("kill", "mariadb", "primary")
	if id, err := serverID(); err == nil {
		t.Fatalf("a statement with the writer down ran on server %d", id)
	} else {
		t.Logf("idle client, writer down: %v", err)
	}
	script("promote", "mariadb")
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		id, err := serverID()
		return err == nil && id == 2, fmt.Sprintf("the idle client's connection after the failover: server id %d, %v", id, err)
	})
	var id int
	if err := inTx.QueryRowContext(ctx, "SELECT @@server_id").Scan(&id); err == nil {
		t.Fatalf("a statement in a transaction on the dead writer ran on server %d, want an error", id)
	} else {
		t.Logf("in-transaction client: %v", err)
	}
	if err := pinned.QueryRowContext(ctx, "SELECT @@server_id").Scan(&id); err == nil {
		t.Fatalf("a pinned session of the dead writer ran a statement on server %d, want an error", id)
	} else {
		t.Logf("pinned client: %v", err)
	}
	if _, err := idle.ExecContext(ctx, "CREATE TEMPORARY TABLE t (i INT)"); err != nil {
		t.Fatalf("write on the new writer: %v", err)
	}
}

// TestTopology_MySQLProxySwitchover promotes the replica while the old
// primary stays up, read-only: the pooled backend connection to it still
// works, but once the writer moved it is closed rather than reused, so
// the same client's statements land on the new writer, every one of them.
func TestTopology_MySQLProxySwitchover(t *testing.T) {
	r, rs, script := replicatedProxies(t, "mariadb")
	ctx := context.Background()
	c, err := rs.myDB(t).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	serverID := func() (int, error) {
		var id int
		err := c.QueryRowContext(ctx, "SELECT @@server_id").Scan(&id)
		return id, err
	}
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		id, err := serverID()
		return err == nil && id == 1, fmt.Sprintf("before the switchover: server id %d, %v", id, err)
	})
	script("promote", "mariadb")
	setReadOnly(t, r.MySQLPrimary)
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		id, err := serverID()
		return err == nil && id == 2, fmt.Sprintf("after the switchover: server id %d, %v", id, err)
	})
	for i := 0; i < 5; i++ {
		if id, err := serverID(); err != nil || id != 2 {
			t.Fatalf("statement %d after the switchover: server id %d, %v; want 2", i, id, err)
		}
	}
}

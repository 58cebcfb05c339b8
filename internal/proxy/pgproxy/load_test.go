package pgproxy

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// a connection storm of short-lived clients over a small pool.
func TestServer_Storm(t *testing.T) {
	const clients, pool = 1000, 10
	// Under -race on a loaded machine each client's SCRAM exchange (on
	// both ends, in this process) takes tens of milliseconds of CPU, and
	// a transaction's backend waits for its starved client: a waiter can
	// queue for more than the default 10 s without anything being wrong.
	tp := startProxy(t, pool, func(c *config.Cluster) { c.Proxy.BorrowTimeout = time.Minute })
	peak := proxytest.Peak(func() int64 { return int64(tp.budget.Used()) })
	var wg sync.WaitGroup
	var failures atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, 250)
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := func() error {
				c, err := pgx.Connect(ctx, tp.url(""))
				if err != nil {
					return err
				}
				defer c.Close(ctx)
				var n int
				if i%2 == 0 {
					return c.QueryRow(ctx, "select 1").Scan(&n)
				}
				tx, err := c.Begin(ctx)
				if err != nil {
					return err
				}
				if err := tx.QueryRow(ctx, "select $1::int", i).Scan(&n); err != nil {
					return err
				}
				return tx.Commit(ctx)
			}()
			if err != nil {
				failures.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}()
	}
	wg.Wait()
	maxUsed := peak()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d clients failed, first: %v; pool %+v", n, clients, firstErr.Load(), tp.srv.PoolStats())
	}
	if m := maxUsed; m > pool {
		t.Fatalf("backend connections peaked at %d > %d", m, pool)
	}
	testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "sessions to end", func() bool { return tp.srv.PoolStats().Busy == 0 })
}

// clients above max_client_connections get a clean 53300.
func TestServer_MaxClients(t *testing.T) {
	tp := startProxy(t, 2, func(c *config.Cluster) { c.Proxy.MaxClientConnections = 2 })
	a := tp.connect(t, "")
	b := tp.connect(t, "")
	_, err := pgx.Connect(context.Background(), tp.url(""))
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53300" {
		t.Fatalf("third client: got %v, want 53300", err)
	}
	_ = a.Close(context.Background())
	testdb.Eventually(t, 2*time.Second, 10*time.Millisecond, "slot", func() bool {
		c, err := pgx.Connect(context.Background(), tp.url(""))
		if err == nil {
			_ = c.Close(context.Background())
		}
		return err == nil
	})
	_ = b
}

// borrow timeout when the pool is held by open transactions.
func TestServer_BorrowTimeout(t *testing.T) {
	tp := startProxy(t, 2, func(c *config.Cluster) { c.Proxy.BorrowTimeout = 300 * time.Millisecond })
	ctx := context.Background()
	var txs []pgx.Tx
	for range 2 {
		c := tp.connect(t, "")
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, c, "select 1")
		txs = append(txs, tx)
	}
	c := tp.connect(t, "")
	start := time.Now()
	_, err := c.Exec(ctx, "select 1")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53300" {
		t.Fatalf("got %v, want borrow timeout 53300", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("borrow timeout after %v", d)
	}
	// The session survives the error and works once a backend frees up.
	if err := txs[0].Commit(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "select 1")
}

// the database goes away mid-load and comes back.
func TestServer_BackendRestart(t *testing.T) {
	u := testdb.PGURL(t)
	cfg, _ := pgconn.ParseConfig(u)
	relay := newFaultRelay(t, net_join(cfg.Host, cfg.Port))
	tp := startProxy(t, 4, viaRelay(relay), func(c *config.Cluster) { c.Proxy.BorrowTimeout = 2 * time.Second })
	ctx := context.Background()
	idle := tp.connect(t, "")
	exec(t, idle, "select 1")
	inTx := tp.connect(t, "")
	tx, err := inTx.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, inTx, "select 1")

	relay.SetMode(proxytest.Refuse)
	relay.Reset()
	// In-flight transaction: a clear error.
	if err := tx.Commit(ctx); err == nil {
		t.Fatal("commit after backend loss succeeded")
	}
	// While down: fail fast with a clear error, the idle client survives.
	start := time.Now()
	_, err = idle.Exec(ctx, "select 1")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "08006" {
		t.Fatalf("while down: got %v, want 08006", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("no fail-fast: %v", time.Since(start))
	}
	relay.SetMode(proxytest.Pass)
	testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "recovery", func() bool {
		_, err := idle.Exec(ctx, "select 1")
		return err == nil
	})
	fresh := tp.connect(t, "")
	exec(t, fresh, "select 1")
}

// connect timeout against a blackholed database, idle client timeout.
func TestServer_Timeouts(t *testing.T) {
	t.Run("blackhole", func(t *testing.T) {
		u := testdb.PGURL(t)
		cfg, _ := pgconn.ParseConfig(u)
		relay := newFaultRelay(t, net_join(cfg.Host, cfg.Port))
		// The borrow timeout bounds the dial too: 1.5 s lets the warm-up
		// login through on a loaded machine.
		tp := startProxy(t, 2, viaRelay(relay), func(c *config.Cluster) { c.Proxy.BorrowTimeout = 1500 * time.Millisecond })
		c := tp.connect(t, "") // warms the server parameters
		relay.SetMode(proxytest.Blackhole)
		relay.Reset()
		start := time.Now()
		_, err := c.Exec(context.Background(), "select 1")
		if err == nil {
			t.Fatal("query through a blackholed database succeeded")
		}
		if d := time.Since(start); d > 6*time.Second {
			t.Fatalf("took %v", d)
		}
	})
	t.Run("idle client", func(t *testing.T) {
		tp := startProxy(t, 2, func(c *config.Cluster) { c.Proxy.IdleClientTimeout = 300 * time.Millisecond })
		// c2 stays inside a transaction from before c's last query until
		// after the proxy closed c as idle: a client in a transaction is
		// not idle.
		c2 := tp.connect(t, "")
		exec(t, c2, "begin")
		c := tp.connect(t, "")
		exec(t, c, "select 1")
		waitClosed(t, c)
		if _, err := c.Exec(context.Background(), "select 1"); err == nil {
			t.Fatal("idle client not disconnected")
		}
		exec(t, c2, "commit")
	})
}

// graceful shutdown lets transactions finish, ends idle clients.
func TestServer_Shutdown(t *testing.T) {
	tp := startProxy(t, 2)
	ctx := context.Background()
	idle := tp.connect(t, "")
	exec(t, idle, "select 1")
	busy := tp.connect(t, "")
	exec(t, busy, "begin")
	exec(t, busy, "select 1")
	done := make(chan error, 1)
	go func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		done <- tp.srv.Shutdown(sctx)
	}()
	waitClosed(t, idle) // the drain ends idle clients
	if _, err := idle.Exec(ctx, "select 1"); err == nil {
		t.Fatal("idle client still served during drain")
	}
	if _, err := pgx.Connect(ctx, tp.url("")); err == nil {
		t.Fatal("new client accepted during drain")
	}
	exec(t, busy, "select 2") // the transaction continues
	exec(t, busy, "commit")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown did not finish after the last transaction")
	}
}

// at the drain deadline open transactions are rolled back.
func TestServer_ShutdownDeadline(t *testing.T) {
	tp := startProxy(t, 1)
	ctx := context.Background()
	d := tp.direct(t)
	exec(t, d, "create table if not exists proxy_shutdown(a int)")
	exec(t, d, "truncate proxy_shutdown")
	c := tp.connect(t, "")
	exec(t, c, "begin")
	exec(t, c, "insert into proxy_shutdown values (1)")
	sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := tp.srv.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v", err)
	}
	if got := queryString(t, d, "select count(*)::text from proxy_shutdown"); got != "0" {
		t.Fatalf("rows after forced shutdown: %s", got)
	}
}

func net_join(host string, port uint16) string {
	return host + ":" + strconv.Itoa(int(port))
}

// pgAddr is the test PostgreSQL server's host:port.
func pgAddr(t *testing.T) string {
	cfg, err := pgconn.ParseConfig(testdb.PGURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return net_join(cfg.Host, cfg.Port)
}

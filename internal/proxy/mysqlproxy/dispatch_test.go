package mysqlproxy

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestDispatch_QueuedClientsGetTheirOwnAnswers: many clients on a pool
// of two, so nearly every command waits in the queue and is written by
// the relay that frees a backend; every client gets exactly its own
// answers, through text queries, prepared statements (statement ids
// mapped per backend) and transactions.
func TestDispatch_QueuedClientsGetTheirOwnAnswers(t *testing.T) {
	const clients, rounds = 16, 40
	tp := startProxy(t, proxyOpts{pool: 2, borrowTimeout: 30 * time.Second})
	db := tp.open(t, "")
	db.SetMaxOpenConns(clients)
	conns := make([]*sql.Conn, clients)
	for i := range conns {
		conns[i] = tp.conn(t, db)
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- clientRounds(c, i, rounds)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	tp.waitIdle(t)
}

// clientRounds runs a client's mix of commands, checking each answer.
func clientRounds(c *sql.Conn, client, rounds int) error {
	ctx := context.Background()
	for r := range rounds {
		want := int64(client*100000 + r)
		var got int64
		switch r % 3 {
		case 0:
			if err := c.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", want)).Scan(&got); err != nil {
				return fmt.Errorf("client %d text query: %w", client, err)
			}
		case 1:
			if err := c.QueryRowContext(ctx, "SELECT ? + 0", want).Scan(&got); err != nil {
				return fmt.Errorf("client %d prepared query: %w", client, err)
			}
		default:
			tx, err := c.BeginTx(ctx, nil)
			if err != nil {
				return fmt.Errorf("client %d begin: %w", client, err)
			}
			if err := tx.QueryRowContext(ctx, "SELECT ? + 0", want).Scan(&got); err != nil {
				_ = tx.Rollback()
				return fmt.Errorf("client %d query in transaction: %w", client, err)
			}
			if err := tx.Commit(); err != nil {
				return fmt.Errorf("client %d commit: %w", client, err)
			}
		}
		if got != want {
			return fmt.Errorf("client %d round %d got %d, want %d", client, r, got, want)
		}
	}
	return nil
}

// queuedSession returns the proxy id of a session waiting in the pool's
// queue, or 0.
func (tp *testProxy) queuedSession() uint32 {
	tp.srv.mu.Lock()
	defer tp.srv.mu.Unlock()
	for id, c := range tp.srv.sessions {
		if !c.hmu.TryLock() {
			continue
		}
		queued := c.queued
		c.hmu.Unlock()
		if queued {
			return id
		}
	}
	return 0
}

// TestDispatch_KilledWhileQueued: a client killed (KILL CONNECTION) while
// its command waits for a backend leaves the queue; the backend, once
// returned, serves others.
func TestDispatch_KilledWhileQueued(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 1, borrowTimeout: 30 * time.Second})
	db := tp.open(t, "")
	holder, victim, killer := tp.conn(t, db), tp.conn(t, db), tp.conn(t, db)
	mustExec(t, victim, "SELECT 1")
	tp.waitIdle(t) // the reply reaches the client before the backend is returned
	mustExec(t, holder, "BEGIN")
	mustExec(t, holder, "SELECT 1")
	done := make(chan error, 1)
	go func() {
		var n int
		done <- victim.QueryRowContext(context.Background(), "SELECT 42").Scan(&n)
	}()
	var id uint32
	testdb.Eventually(t, 5*time.Second, 5*time.Millisecond, "victim queued", func() bool {
		id = tp.queuedSession()
		return id != 0
	})
	if _, err := killer.ExecContext(context.Background(), fmt.Sprintf("KILL %d", id)); err != nil {
		t.Fatalf("KILL: %v", err)
	}
	if err := <-done; err == nil {
		t.Fatal("killed client got an answer")
	}
	testdb.Eventually(t, 5*time.Second, 5*time.Millisecond, "queue empty", func() bool { return tp.srv.PoolStats().Waiting == 0 })
	mustExec(t, holder, "COMMIT")
	if got := queryString(t, killer, "SELECT 7"); got != "7" {
		t.Fatalf("pool unusable afterwards: %q", got)
	}
	tp.waitIdle(t)
}

// TestDispatch_BackendKilledAfterQueuedWrite: the backend dies while the
// command a relay wrote for a queued client runs; that client gets a
// lost-connection error (never another client's answer) and carries on
// with a new backend.
func TestDispatch_BackendKilledAfterQueuedWrite(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 1, borrowTimeout: 30 * time.Second})
	direct := tp.direct(t)
	db := tp.open(t, "")
	holder, victim := tp.conn(t, db), tp.conn(t, db)
	mustExec(t, victim, "SELECT 1")
	tp.waitIdle(t) // the reply reaches the client before the backend is returned
	mustExec(t, holder, "BEGIN")
	mustExec(t, holder, "SELECT 1")
	done := make(chan error, 1)
	go func() {
		_, err := victim.ExecContext(context.Background(), "SELECT SLEEP(20) AS queued_sleep")
		done <- err
	}()
	testdb.Eventually(t, 5*time.Second, 5*time.Millisecond, "victim queued", func() bool { return tp.queuedSession() != 0 })
	mustExec(t, holder, "COMMIT") // the relay of COMMIT writes the queued SLEEP
	var tid int64
	testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "queued SLEEP running", func() bool {
		err := direct.QueryRow("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(20) AS queued_sleep%'").Scan(&tid)
		return err == nil
	})
	mustExec(t, direct, fmt.Sprintf("KILL %d", tid))
	select {
	case err := <-done:
		if mysqlErrNo(err) != crServerLost {
			t.Fatalf("victim: %v, want error %d", err, crServerLost)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("victim not answered after its backend died")
	}
	if got := queryString(t, victim, "SELECT 3"); got != "3" {
		t.Fatalf("victim unusable afterwards: %q", got)
	}
	if got := queryString(t, holder, "SELECT 4"); got != "4" {
		t.Fatalf("holder unusable afterwards: %q", got)
	}
	tp.waitIdle(t)
}

package mysqlproxy

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestServer_Churn is the cross-talk test: 4 clients each change session
// state (an untracked variable, a user variable, SET NAMES) and disconnect
// at once, half of them in the middle of a command, while 4 others
// connect and run SELECT <random k>. Every prober must get its own k and
// a clean session, with no error, for the whole run (8 s by default,
// SQLGATE_CHURN_SECONDS overrides; strict isolation runs a third of it).
func TestServer_Churn(t *testing.T) {
	secs := 8.0
	if v, err := time.ParseDuration(os.Getenv("SQLGATE_CHURN_SECONDS") + "s"); err == nil && v > 0 {
		secs = v.Seconds()
	}
	if testing.Short() {
		secs = 2
	}
	for _, iso := range []string{"default", "strict"} {
		t.Run(iso, func(t *testing.T) {
			d := time.Duration(secs * float64(time.Second))
			if iso == "strict" {
				d /= 3
			}
			churn(t, iso, d)
		})
	}
}

func churn(t *testing.T, iso string, d time.Duration) {
	tp := startProxy(t, proxyOpts{pool: 4, borrowTimeout: 10 * time.Second, isolation: iso})
	db := tp.open(t, "")
	db.SetMaxIdleConns(0)
	db.SetMaxOpenConns(0)
	stop := make(chan struct{})
	time.AfterFunc(d, func() { close(stop) })
	var wg sync.WaitGroup
	var probes, churns, wrong atomic.Int64
	var firstErr atomic.Value
	fail := func(err error) {
		wrong.Add(1)
		firstErr.CompareAndSwap(nil, err)
	}
	running := func() bool {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			for running() {
				churnOnce(db, r)
				churns.Add(1)
			}
		}()
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i+10), uint64(time.Now().UnixNano())))
			for running() {
				if err := probeOnce(db, r); err != nil {
					fail(err)
				}
				probes.Add(1)
			}
		}()
	}
	wg.Wait()
	tp.waitIdle(t)
	r := rand.New(rand.NewPCG(99, 99))
	for range 20 { // every backend left in the pool is clean
		if err := probeOnce(db, r); err != nil {
			fail(err)
		}
	}
	t.Logf("%s: %d probes, %d churning clients in %v, %d wrong", iso, probes.Load(), churns.Load(), d, wrong.Load())
	if n := wrong.Load(); n > 0 {
		t.Fatalf("%d probes failed or saw another client's answer; first: %v", n, firstErr.Load())
	}
	if probes.Load() < 100 {
		t.Fatalf("only %d probes", probes.Load())
	}
}

// churnOnce changes session state and leaves: normally, or by closing the
// connection in the middle of a command (the driver does on cancel).
func churnOnce(db *sql.DB, r *rand.Rand) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := db.Conn(ctx)
	if err != nil {
		return
	}
	defer c.Close()
	stmts := []string{"SET SESSION lock_wait_timeout = 4321", fmt.Sprintf("SET @v = 'churn-%d'", r.IntN(1e6)), "SET NAMES latin1"}
	abort := r.IntN(2) == 0
	for i, q := range stmts {
		if abort && i == len(stmts)-1 {
			time.AfterFunc(time.Duration(r.IntN(300))*time.Microsecond, cancel)
		}
		if _, err := c.ExecContext(ctx, q); err != nil {
			return
		}
	}
}

// probeOnce connects, asks for its own k (a plain statement that does not
// pin), then checks the session is clean.
func probeOnce(db *sql.DB, r *rand.Rand) error {
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	k := r.Int64N(1 << 40)
	var got int64
	if err := c.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", k)).Scan(&got); err != nil {
		return fmt.Errorf("SELECT %d: %w", k, err)
	}
	if got != k {
		return fmt.Errorf("SELECT %d returned %d", k, got)
	}
	var lwt, cs string
	var v sql.NullString
	q := fmt.Sprintf("SELECT @@session.lock_wait_timeout, @@character_set_client, @v, %d", k)
	if err := c.QueryRowContext(ctx, q).Scan(&lwt, &cs, &v, &got); err != nil {
		return fmt.Errorf("state probe: %w", err)
	}
	if got != k || lwt == "4321" || cs != "utf8mb4" || v.Valid {
		return fmt.Errorf("prober %d sees k=%d lock_wait_timeout=%s charset=%s @v=%q", k, got, lwt, cs, v.String)
	}
	return nil
}

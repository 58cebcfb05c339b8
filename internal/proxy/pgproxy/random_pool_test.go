package pgproxy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/config"
)

// rCheck is isoCheck plus the backend's pid (for failure reports); like
// isoCheck it is a state-free statement the proxy may pipeline.
const rCheck = isoCheck + ", pg_backend_pid()::text"

// rModes are the ways a statement is sent: simple Query, extended
// protocol with the unnamed statement (with and without a Describe of
// the statement first), and named prepared statements pgx caches.
var rModes = []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec,
	pgx.QueryExecModeDescribeExec, pgx.QueryExecModeCacheStatement}

var rModeNames = map[pgx.QueryExecMode]string{pgx.QueryExecModeSimpleProtocol: "simple",
	pgx.QueryExecModeExec: "exec", pgx.QueryExecModeDescribeExec: "describe", pgx.QueryExecModeCacheStatement: "cache"}

// rClient is one client of the randomized pool test.
type rClient struct {
	id, runKey int
	mark       string
	rng        *rand.Rand
	conn       *pgx.Conn
	defaults   map[string]string
	m          rModel
	ran        map[string]int
	history    []string // the latest statements and the backends they ran on
}

// TestIsolation_RandomPool is the randomized test over a pool of several
// backend connections: 3 or 4 clients run random state-changing
// statements concurrently, each over the simple protocol, the unnamed
// extended-protocol statement or named prepared statements, so clients
// move between connections, hand-overs happen and queued clients'
// statements are pipelined. After each statement the client checks that
// it sees exactly its own state: what it set last, or, for what a
// function or trigger set where the proxy cannot see it, that value or
// the default, never an older value of its own nor anything of another
// client's. Strict mode draws every kind, the default mode the ones
// docs/proxy.md says it detects. Knobs: SQLGATE_ISO_ROUNDS (per client),
// SQLGATE_ISO_KINDS (comma-separated kind names: only those),
// SQLGATE_ISO_POOL and SQLGATE_ISO_CLIENTS (one configuration),
// SQLGATE_ISO_SEED.
func TestIsolation_RandomPool(t *testing.T) {
	configs := [][2]int{{2, 3}, {3, 4}}
	if p, c := envInt("SQLGATE_ISO_POOL", 0), envInt("SQLGATE_ISO_CLIENTS", 0); p > 0 || c > 0 {
		configs = [][2]int{{max(p, 1), max(c, 2)}}
	}
	rounds := envInt("SQLGATE_ISO_ROUNDS", 250)
	if testing.Short() {
		rounds = 60
	}
	for _, mode := range []string{"default", "strict"} {
		for _, cfg := range configs {
			t.Run(fmt.Sprintf("%s/pool%d/clients%d", mode, cfg[0], cfg[1]), func(t *testing.T) {
				rPoolRun(t, mode, cfg[0], cfg[1], rounds)
			})
		}
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func rPoolRun(t *testing.T, mode string, pool, clients, rounds int) {
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("SQLGATE_ISO_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d, %d rounds per client", seed, rounds)
	tp := startProxy(t, pool, func(c *config.Cluster) {
		c.Proxy.Isolation = mode
		c.Proxy.BorrowTimeout = time.Minute // pinned clients hold connections for a few rounds
	})
	defaults := rSetup(t, tp)
	kinds := rDrawn(t, mode == "strict")
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	cls := make([]*rClient, clients)
	for i := range clients {
		cls[i] = &rClient{id: i + 1, mark: string(rune('a' + i)), runKey: os.Getpid() % 1000000, defaults: defaults,
			rng: rand.New(rand.NewPCG(seed, uint64(i))), ran: map[string]int{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- cls[i].runAll(tp, kinds, rounds)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	ran := map[string]int{}
	for _, c := range cls {
		for k, n := range c.ran {
			ran[k] += n
		}
	}
	t.Logf("kinds run: %v; pipelines %d (%d units)", ran, tp.srv.pipelines.Load(), tp.srv.pipedUnits.Load())
}

// rSetup creates the fixtures of isolation_test.go and those of clients c
// and d, one test process at a time, and returns the default state.
func rSetup(t *testing.T, tp *testProxy) map[string]string {
	d := tp.direct(t)
	exec(t, d, "SELECT pg_advisory_lock(7351)")
	defer exec(t, d, "SELECT pg_advisory_unlock(7351)")
	defaults := isoSetup(t, tp)
	for _, q := range []string{
		"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iso_rc') THEN CREATE ROLE iso_rc; END IF; " +
			"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iso_rd') THEN CREATE ROLE iso_rd; END IF; END$$",
		"CREATE SCHEMA IF NOT EXISTS iso_sc", "CREATE SCHEMA IF NOT EXISTS iso_sd",
		"CREATE OR REPLACE VIEW iso_view_c AS SELECT iso_fn('myapp.vw', 'vwc') AS v",
		"CREATE OR REPLACE VIEW iso_view_d AS SELECT iso_fn('myapp.vw', 'vwd') AS v",
		"GRANT ALL ON iso_view_c, iso_view_d TO PUBLIC",
	} {
		exec(t, d, q)
	}
	return defaults
}

// rDrawn returns the kinds of the mode, or those SQLGATE_ISO_KINDS names
// (with commit and rollback when it names begin).
func rDrawn(t *testing.T, strict bool) []rKind {
	only := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("SQLGATE_ISO_KINDS"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			only[n] = true
		}
	}
	if only["begin"] {
		only["commit"], only["rollback"] = true, true
	}
	missing := maps.Clone(only)
	var kinds []rKind
	for _, k := range rKinds() {
		if (strict || !k.hidden) && (len(only) == 0 || only[k.name]) {
			kinds = append(kinds, k)
			delete(missing, k.name)
		}
	}
	if len(missing) > 0 || len(kinds) == 0 {
		t.Fatalf("SQLGATE_ISO_KINDS: no kind %v in this mode", missing)
	}
	return kinds
}

func (c *rClient) runAll(tp *testProxy, kinds []rKind, rounds int) (err error) {
	ctx := context.Background()
	defer func() {
		if c.conn != nil {
			_ = c.conn.Close(ctx)
		}
	}()
	for r := 1; r <= rounds; r++ {
		if c.conn == nil || c.m.pinned > 3 || c.rng.IntN(25) == 0 {
			if err := c.reconnect(ctx, tp); err != nil {
				return err
			}
		}
		if err := c.round(ctx, kinds, r); err != nil {
			return fmt.Errorf("client %s round %d: %w\nits latest statements:\n%s", c.mark, r, err, strings.Join(c.history, "\n"))
		}
	}
	return nil
}

func (c *rClient) reconnect(ctx context.Context, tp *testProxy) error {
	if c.conn != nil {
		_ = c.conn.Close(ctx)
	}
	conn, err := pgx.Connect(ctx, tp.url(""))
	if err != nil {
		return err
	}
	c.conn = conn
	c.m = rModel{cur: map[string]rVal{}}
	for f, v := range c.defaults {
		c.m.cur[f] = rVal{v: v}
	}
	c.note("-- new connection")
	return nil
}

func (c *rClient) note(s string) {
	if len(c.history) == 12 {
		c.history = c.history[1:]
	}
	c.history = append(c.history, s)
}

// draw picks a kind that may run in the client's state: a transaction
// ends after a few rounds.
// Clients b and d are light: they keep the default tracked parameters
// and mostly run state-free statements, which the proxy may pipeline
// when they queue for a connection together.
func (c *rClient) draw(kinds []rKind) rKind {
	light := c.id%2 == 0 && slices.ContainsFunc(kinds, func(k rKind) bool { return rLight[k.name] })
	for {
		k := kinds[c.rng.IntN(len(kinds))]
		if light && (!rLight[k.name] || k.name != "plain select" && c.rng.IntN(3) > 0) {
			continue
		}
		switch {
		case !c.m.inTx && k.outTx:
			return k
		case c.m.inTx && k.inTx && (c.m.txRounds < 4 || k.name == "commit" || k.name == "rollback"):
			return k
		}
	}
}

// rLight are the kinds light clients draw.
var rLight = map[string]bool{"plain select": true, "function call": true, "error": true, "begin": true, "commit": true,
	"rollback": true, "set local": true, "set_config local": true, "set local block": true, "temp table": true,
	"discard all": true, "reset all": true, "deallocate all": true, "trigger": true, "view": true, "prepare": true}

// round runs one random statement and checks the state the client sees.
func (c *rClient) round(ctx context.Context, kinds []rKind, r int) error {
	k := c.draw(kinds)
	sql, args, eff := k.sql(c, r)
	mode := rModes[c.rng.IntN(len(rModes))]
	if k.simple {
		mode = pgx.QueryExecModeSimpleProtocol
	}
	c.note(fmt.Sprintf("%s [%s]: %s %v", k.name, rModeNames[mode], sql, args))
	err := c.exec(ctx, sql, mode, args)
	if err == nil && k.dropCache {
		err = c.conn.DeallocateAll(ctx)
	}
	if err := c.expect(eff, err); err != nil {
		return fmt.Errorf("%s [%s] %s: %w", k.name, rModeNames[mode], sql, err)
	}
	c.apply(k, eff)
	c.ran[k.name]++
	if err := c.check(ctx); err != nil {
		return fmt.Errorf("after %s [%s] %s: %w", k.name, rModeNames[mode], sql, err)
	}
	return nil
}

// exec runs sql in mode; Query, since pgx's Exec sends a statement
// without arguments as a simple Query whatever the mode.
func (c *rClient) exec(ctx context.Context, sql string, mode pgx.QueryExecMode, args []any) error {
	if mode == pgx.QueryExecModeSimpleProtocol {
		_, err := c.conn.Exec(ctx, sql, append([]any{mode}, args...)...)
		return err
	}
	rows, err := c.conn.Query(ctx, sql, append([]any{mode}, args...)...)
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// expect checks a statement's outcome: 25P02 in an aborted transaction
// (but for its end), 22012 for the error kind, success otherwise.
func (c *rClient) expect(eff rEffect, err error) error {
	want := ""
	switch {
	case c.m.aborted && eff.tx != 'C' && eff.tx != 'R':
		want = "25P02"
	case eff.tx == 'E':
		want = "22012"
	}
	var pe *pgconn.PgError
	switch {
	case want == "" && err != nil:
		return err
	case want != "" && !errors.As(err, &pe):
		return fmt.Errorf("got %v, want error %s", err, want)
	case want != "" && pe.Code != want:
		return fmt.Errorf("got %w, want error %s", err, want)
	}
	return nil
}

// apply records a statement's effect in the model.
func (c *rClient) apply(k rKind, eff rEffect) {
	m := &c.m
	if k.pins && m.pinned == 0 {
		m.pinned = 1
	} else if m.pinned > 0 {
		m.pinned++
	}
	if m.inTx {
		m.txRounds++
	}
	if m.aborted && eff.tx != 'C' && eff.tx != 'R' {
		return
	}
	switch eff.tx {
	case 'B':
		m.inTx, m.txRounds, m.base, m.sess = true, 0, cloneVals(m.cur), cloneVals(m.cur)
		return
	case 'C', 'R':
		if eff.tx == 'R' || m.aborted {
			m.cur = m.base
		} else {
			m.cur = m.sess
		}
		m.inTx, m.aborted, m.base, m.sess = false, false, nil, nil
		return
	case 'E':
		m.aborted = m.inTx
		return
	}
	for f, v := range eff.set {
		m.cur[f] = rVal{v: v, lossy: eff.lossy}
		if m.inTx {
			m.sess[f] = m.cur[f]
		}
	}
	for f, v := range eff.local {
		if m.inTx {
			m.cur[f] = rVal{v: v}
		}
	}
	for _, f := range eff.reset {
		m.cur[f] = rVal{v: c.defaults[f]}
	}
}

func cloneVals(m map[string]rVal) map[string]rVal {
	c := make(map[string]rVal, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// addTo returns the client's list field with name added, sorted.
func (c *rClient) addTo(field, name string) string {
	l := c.m.cur[field].v
	if l != "" {
		l += ","
	}
	parts := strings.Split(l+name, ",")
	slicesSort(parts)
	return strings.Join(parts, ",")
}

// check reads the client's state, sent in a random way, and compares it
// with the model.
func (c *rClient) check(ctx context.Context) error {
	vals := make([]string, len(isoFields)+1)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	mode := rModes[c.rng.IntN(len(rModes))]
	err := c.conn.QueryRow(ctx, rCheck, mode).Scan(ptrs...)
	if c.m.aborted {
		return c.expect(rEffect{}, err)
	}
	if err != nil {
		return fmt.Errorf("check [%s]: %w", rModeNames[mode], err)
	}
	pid := vals[len(isoFields)]
	c.history[len(c.history)-1] += " (backend " + pid + ")"
	for i, f := range isoFields {
		g, w := vals[i], c.m.cur[f]
		if f == "cursors" { // the extended protocol's unnamed portal (the check's own) is listed too
			g = strings.Trim(strings.ReplaceAll(","+g+",", ",,", ","), ",")
		}
		if g != w.v && !(w.lossy && g == c.defaults[f]) {
			lost := ""
			if w.lossy {
				lost = " or the default " + strconv.Quote(c.defaults[f])
			}
			return fmt.Errorf("backend %s: %s = %q, want %q%s", pid, f, g, w.v, lost)
		}
	}
	return nil
}

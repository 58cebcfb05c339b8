package mysqlproxy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// isoClient is one client connection of the randomized test and the
// state it expects to see.
type isoClient struct {
	x, other string
	conn     *sql.Conn
	m        *isoModel
}

// TestSession_IsolationRandom is the randomized interleaving test: two
// clients share two backend connections and take turns issuing random
// state-changing statements; after each, both check that they see exactly
// their own session state and none of the other's. Strict isolation runs
// every kind; the default mode the kinds docs/proxy.md says it detects.
// SQLGATE_ISO_ROUNDS overrides the round count; SQLGATE_ISO_KINDS
// (comma-separated names, as "kinds run" logs them) narrows the draw, which
// makes a rare interleaving of those kinds frequent.
func TestSession_IsolationRandom(t *testing.T) {
	rounds := 2000
	if testing.Short() {
		rounds = 300
	}
	if v, err := strconv.Atoi(os.Getenv("SQLGATE_ISO_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	for _, iso := range []string{"default", "strict"} {
		t.Run(iso, func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d, %d rounds", seed, rounds)
			r := rand.New(rand.NewPCG(seed, 12))
			tp := startProxy(t, proxyOpts{pool: 2, borrowTimeout: 10 * time.Second, isolation: iso})
			createIsoFixtures(t, tp.direct(t))
			db := tp.open(t, "")
			db.SetMaxIdleConns(0)
			kinds := isoDrawn(t, iso == "strict")
			fresh := &isoModel{sys: map[string]string{}}
			cl := []*isoClient{{x: "a", other: "b"}, {x: "b", other: "a"}}
			for _, c := range cl {
				c.conn = tp.conn(t, db)
			}
			row, err := isoRead(cl[0].conn)
			if err != nil {
				t.Fatal(err)
			}
			for i, col := range isoCols {
				fresh.sys[col] = row[i]
			}
			for _, c := range cl {
				c.m = fresh.clone()
			}
			ran := map[string]int{}
			for round := range rounds {
				c := cl[r.IntN(2)]
				if r.IntN(5) == 0 { // often: most kinds pin, and hand-overs happen between unpinned clients
					_ = c.conn.Close()
					c.conn, c.m = tp.conn(t, db), fresh.clone()
				}
				k := isoDraw(r, kinds, c.m)
				q := k.sql(r, c.x)
				got, err := isoExec(c.conn, q)
				if err != nil {
					t.Fatalf("round %d: client %s: %s: %v", round, c.x, q, err)
				}
				k.apply(c.m, c.x, q, got)
				ran[k.name]++
				for _, i := range r.Perm(2) {
					if err := cl[i].check(); err != nil {
						t.Fatalf("round %d, after %s ran %q: client %s: %v", round, c.x, q, cl[i].x, err)
					}
				}
			}
			t.Logf("kinds run: %v", ran)
			for _, c := range cl {
				_ = c.conn.Close()
			}
			tp.waitIdle(t)
		})
	}
}

// isoDrawn returns the kinds a run draws from: those of its mode, or the
// ones SQLGATE_ISO_KINDS names.
func isoDrawn(t *testing.T, strict bool) []isoKind {
	only, missing := map[string]bool{}, map[string]bool{}
	for _, n := range strings.Split(os.Getenv("SQLGATE_ISO_KINDS"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			only[n], missing[n] = true, true
		}
	}
	var kinds []isoKind
	for _, k := range isoKinds() {
		if (strict || !k.strictOnly) && (len(only) == 0 || only[k.name]) {
			kinds = append(kinds, k)
			delete(missing, k.name)
		}
	}
	switch {
	case len(missing) > 0:
		t.Fatalf("SQLGATE_ISO_KINDS: no kind %v in this mode", missing)
	case len(only) == 0 && len(kinds) < 25:
		t.Fatalf("only %d kinds", len(kinds))
	}
	return kinds
}

// isoDraw picks a kind that may run in state m.
func isoDraw(r *rand.Rand, kinds []isoKind, m *isoModel) isoKind {
	for {
		k := kinds[r.IntN(len(kinds))]
		if (k.when == nil || k.when(m)) && !(k.tables && m.lockTables) {
			return k
		}
	}
}

// isoExec runs q and returns the first column of its first row, if any.
func isoExec(c *sql.Conn, q string) (string, error) {
	rows, err := c.QueryContext(context.Background(), q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var v sql.NullString
	if rows.Next() {
		cols, _ := rows.Columns()
		dest := make([]any, len(cols))
		dest[0] = &v
		for i := 1; i < len(cols); i++ {
			dest[i] = new(sql.RawBytes)
		}
		if err := rows.Scan(dest...); err != nil {
			return "", err
		}
	}
	return v.String, rows.Err()
}

func isoRead(c *sql.Conn) ([]string, error) {
	vals := make([]sql.NullString, len(isoCols)+2)
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := c.QueryRowContext(context.Background(), isoCheckSQL).Scan(dest...); err != nil {
		return nil, err
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.String
	}
	return out, nil
}

// check compares what the client sees with its model.
func (c *isoClient) check() error {
	row, err := isoRead(c.conn)
	if err != nil {
		return err
	}
	for i, col := range isoCols {
		if row[i] != c.m.sys[col] {
			return fmt.Errorf("%s = %q, want %q", col, row[i], c.m.sys[col])
		}
	}
	if err := c.checkSet("user variables", row[len(isoCols)], c.uvarWant()); err != nil {
		return err
	}
	locks := map[string]isoOpt{}
	for l, opt := range c.m.locks {
		locks[l] = isoOpt{val: "", optional: opt}
	}
	if err := c.checkSet("locks held", row[len(isoCols)+1], locks); err != nil {
		return err
	}
	return c.checkObjects()
}

func (c *isoClient) uvarWant() map[string]isoOpt {
	return c.m.uvars
}

// checkSet compares a "k=v,k=v" (or "k,k") list with want: every required
// entry present with its value, optional ones present or not, no others.
func (c *isoClient) checkSet(what, got string, want map[string]isoOpt) error {
	seen := map[string]bool{}
	for _, kv := range strings.Split(got, ",") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		w, ok := want[k]
		if !ok {
			return fmt.Errorf("%s: sees %s, not its own (all: %s)", what, kv, got)
		}
		if v != w.val {
			return fmt.Errorf("%s: %s = %q, want %q", what, k, v, w.val)
		}
		seen[k] = true
	}
	var missing []string
	for k, w := range want {
		if !w.optional && !seen[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("%s: lost %v (sees %q)", what, missing, got)
	}
	return nil
}

// checkObjects probes temporary tables, SQL prepared statements and LOCK
// TABLES, own and the other client's.
func (c *isoClient) checkObjects() error {
	absentTable := []uint16{1146}
	if c.m.lockTables {
		absentTable = append(absentTable, 1100)
	}
	probes := []struct {
		q       string
		present bool
		absent  []uint16
	}{
		{"SELECT COUNT(*) FROM sqlgate_test.iso_tmp_" + c.x, c.m.tmp, absentTable},
		{"SELECT COUNT(*) FROM sqlgate_test.iso_tmp_" + c.other, false, absentTable},
		{"EXECUTE iso_ps_" + c.x, c.m.ps, []uint16{1243}},
		{"EXECUTE iso_ps_" + c.other, false, []uint16{1243}},
		{"SELECT COUNT(*) FROM sqlgate_test.iso_plain", !c.m.lockTables, []uint16{1100}},
	}
	for _, p := range probes {
		_, err := isoExec(c.conn, p.q)
		if p.present && err != nil {
			return fmt.Errorf("%s: %w", p.q, err)
		}
		if !p.present && !isErrNo(err, p.absent) {
			return fmt.Errorf("%s: got %v, want error %v", p.q, err, p.absent)
		}
	}
	return nil
}

func isErrNo(err error, nos []uint16) bool {
	if err == nil {
		return false
	}
	for _, n := range nos {
		if mysqlErrNo(err) == n {
			return true
		}
	}
	return errors.Is(err, context.Canceled) && false
}

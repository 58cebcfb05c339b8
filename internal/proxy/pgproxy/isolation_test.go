package pgproxy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/config"
)

// isoFields are the session state the interleaving test observes, one
// column each of isoCheck. The planner settings are ones that leave
// isoCheck's plan alone (with enable_seqscan off it takes ~0.4 s).
var isoFields = []string{"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "work_mem",
	"search_path", "application_name", "timezone", "datestyle", "intervalstyle", "extra_float_digits",
	"enable_mergejoin", "enable_hashjoin", "myapp.v", "myapp.w", "myapp.d", "myapp.p", "myapp.f", "myapp.t", "myapp.vw",
	"current_user", "temp_tables", "prepared", "cursors", "listening", "advisory_locks"}

const isoCheck = `SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),
 current_setting('idle_in_transaction_session_timeout'), current_setting('work_mem'), current_setting('search_path'),
 current_setting('application_name'), current_setting('TimeZone'), current_setting('DateStyle'),
 current_setting('IntervalStyle'), current_setting('extra_float_digits'), current_setting('enable_mergejoin'),
 current_setting('enable_hashjoin'), coalesce(current_setting('myapp.v', true), ''), coalesce(current_setting('myapp.w', true), ''),
 coalesce(current_setting('myapp.d', true), ''), coalesce(current_setting('myapp.p', true), ''),
 coalesce(current_setting('myapp.f', true), ''), coalesce(current_setting('myapp.t', true), ''),
 coalesce(current_setting('myapp.vw', true), ''), current_user::text,
 coalesce((SELECT string_agg(relname::text, ',' ORDER BY relname) FROM pg_class WHERE relpersistence = 't' AND relkind = 'r' AND pg_table_is_visible(oid)), ''),
 coalesce((SELECT string_agg(name, ',' ORDER BY name) FROM pg_prepared_statements WHERE from_sql), ''),
 coalesce((SELECT string_agg(name::text, ',' ORDER BY name) FROM pg_cursors), ''),
 coalesce((SELECT string_agg(ch, ',' ORDER BY ch) FROM pg_listening_channels() ch), ''),
 coalesce((SELECT string_agg(objid::text, ',' ORDER BY objid) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()), '')`

// isoKind is one kind of state-changing statement. apply returns the SQL
// and the fields it sets (value "" after a reset). volatile fields may be
// reset whenever another client got the connection; hidden kinds run
// code the classifier cannot see (strict mode only).
type isoKind struct {
	name     string
	pins     bool
	volatile bool
	hidden   bool
	apply    func(c *isoClient, r int) (sql string, set map[string]string)
}

func one(k, v string) map[string]string { return map[string]string{k: v} }

// isoKinds: 33 kinds; values carry the client's mark (a or b) or a range
// of its own, so any value of the other client is a leak.
var isoKinds = []isoKind{
	{name: "statement_timeout", apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("%dms", c.id*1000000+r*10+1)
		return "SET statement_timeout = '" + v + "'", one("statement_timeout", v)
	}},
	{name: "lock_timeout", apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("%dms", c.id*1000000+r*10+3)
		return "SET lock_timeout TO '" + v + "'", one("lock_timeout", v)
	}},
	{name: "idle_in_transaction_session_timeout", apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("%dms", c.id*1000000+r*10+7)
		return "SET idle_in_transaction_session_timeout = '" + v + "'", one("idle_in_transaction_session_timeout", v)
	}},
	{name: "work_mem", apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("%dkB", c.id*100000+r*10+1)
		return "SET work_mem = '" + v + "'", one("work_mem", v)
	}},
	{name: "search_path", apply: func(c *isoClient, r int) (string, map[string]string) {
		v := "iso_s" + c.mark + ", public"
		return "SET search_path = " + v, one("search_path", v)
	}},
	{name: "application_name", apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("iso_%s_%d", c.mark, r)
		return "SET application_name = '" + v + "'", one("application_name", v)
	}},
	{name: "set_config application_name", apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("iso_%s_sc%d", c.mark, r)
		return "SELECT set_config('application_name', '" + v + "', false)", one("application_name", v)
	}},
	{name: "reset application_name", apply: func(c *isoClient, r int) (string, map[string]string) {
		return "RESET application_name", one("application_name", c.defaults["application_name"])
	}},
	{name: "time zone", apply: func(c *isoClient, r int) (string, map[string]string) {
		sign := map[string]string{"a": "+", "b": "-"}[c.mark]
		v := fmt.Sprintf("Etc/GMT%s%d", sign, r%6+1)
		return "SET TIME ZONE '" + v + "'", one("timezone", v)
	}},
	{name: "datestyle", apply: func(c *isoClient, r int) (string, map[string]string) {
		v := map[string][]string{"a": {"ISO, DMY", "ISO, YMD"}, "b": {"SQL, DMY", "German, DMY"}}[c.mark][r%2]
		return "SET DateStyle = '" + v + "'", one("datestyle", v)
	}},
	{name: "intervalstyle", apply: func(c *isoClient, r int) (string, map[string]string) {
		v := map[string]string{"a": "sql_standard", "b": "iso_8601"}[c.mark]
		return "SET IntervalStyle = " + v, one("intervalstyle", v)
	}},
	{name: "extra_float_digits", apply: func(c *isoClient, r int) (string, map[string]string) {
		v := map[string][]string{"a": {"2", "3"}, "b": {"-1", "-2"}}[c.mark][r%2]
		return "SET extra_float_digits = " + v, one("extra_float_digits", v)
	}},
	{name: "set local", apply: func(c *isoClient, r int) (string, map[string]string) {
		return "BEGIN; SET LOCAL statement_timeout = '4s'; SET LOCAL search_path = pg_catalog; COMMIT", nil
	}},
	{name: "set_config local", apply: func(c *isoClient, r int) (string, map[string]string) {
		return "BEGIN; SELECT set_config('myapp.v', 'local', true); COMMIT", nil
	}},
	{name: "custom guc", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("v%s%d", c.mark, r)
		return "SET myapp.v = '" + v + "'", one("myapp.v", v)
	}},
	{name: "set_config custom", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("w%s%d", c.mark, r)
		return "SELECT set_config('myapp.w', '" + v + "', false)", one("myapp.w", v)
	}},
	{name: "planner guc", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		g := map[string]string{"a": "enable_mergejoin", "b": "enable_hashjoin"}[c.mark]
		return "SET " + g + " = off", one(g, "off")
	}},
	{name: "set role", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		return "SET ROLE iso_r" + c.mark, one("current_user", "iso_r"+c.mark)
	}},
	{name: "reset role", apply: func(c *isoClient, r int) (string, map[string]string) {
		return "RESET ROLE", one("current_user", c.defaults["current_user"])
	}},
	{name: "do set role", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		return "DO $$BEGIN EXECUTE 'SET ROLE iso_r" + c.mark + "'; END$$", one("current_user", "iso_r"+c.mark)
	}},
	{name: "do set_config", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("d%s%d", c.mark, r)
		return "DO $$BEGIN PERFORM set_config('myapp.d', '" + v + "', false); END$$", one("myapp.d", v)
	}},
	{name: "temp table", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		n := fmt.Sprintf("iso_t%s_%d", c.mark, r)
		return "CREATE TEMP TABLE " + n + " (a int)", c.addList("temp_tables", n)
	}},
	{name: "select into temp", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		n := fmt.Sprintf("iso_t%s_%d", c.mark, r)
		return "SELECT 'x' AS s INTO TEMP " + n, c.addList("temp_tables", n)
	}},
	{name: "create pg_temp", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		n := fmt.Sprintf("iso_t%s_%d", c.mark, r)
		return "CREATE TABLE pg_temp." + n + " (a int)", c.addList("temp_tables", n)
	}},
	{name: "prepare", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		n := fmt.Sprintf("iso_p%s_%d", c.mark, r)
		return "PREPARE " + n + " AS SELECT 1", c.addList("prepared", n)
	}},
	{name: "with hold cursor", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		n := fmt.Sprintf("iso_c%s_%d", c.mark, r)
		return "DECLARE " + n + " CURSOR WITH HOLD FOR SELECT 1", c.addList("cursors", n)
	}},
	{name: "listen", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		n := fmt.Sprintf("iso_l%s_%d", c.mark, r)
		return "LISTEN " + n, c.addList("listening", n)
	}},
	{name: "advisory lock", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		n := strconv.Itoa(c.id*1000000 + r)
		return "SELECT pg_advisory_lock(" + n + ")", c.addList("advisory_locks", n)
	}},
	{name: "call procedure", pins: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("p%s%d", c.mark, r)
		return "CALL iso_proc('" + v + "')", one("myapp.p", v)
	}},
	{name: "function call", volatile: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("f%s%d", c.mark, r)
		return "SELECT iso_fn('myapp.f', '" + v + "')", one("myapp.f", v)
	}},
	{name: "discard all", apply: func(c *isoClient, r int) (string, map[string]string) {
		return "DISCARD ALL", c.defaults
	}},
	{name: "trigger", volatile: true, hidden: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		v := fmt.Sprintf("t%s%d", c.mark, r)
		return "INSERT INTO iso_trig VALUES ('" + v + "')", one("myapp.t", v)
	}},
	{name: "view", volatile: true, hidden: true, apply: func(c *isoClient, r int) (string, map[string]string) {
		return "SELECT * FROM iso_view_" + c.mark, one("myapp.vw", "vw"+c.mark)
	}},
}

// isoClient is one client of the interleaving test and the state it
// expects to see.
type isoClient struct {
	id       int
	mark     string
	conn     *pgx.Conn
	defaults map[string]string
	want     map[string]string
	pinned   int // rounds since the first pinning statement, 0 = not pinned
}

func (c *isoClient) addList(field, name string) map[string]string {
	l := c.want[field]
	if l != "" {
		l += ","
	}
	parts := strings.Split(l+name, ",")
	slicesSort(parts)
	return one(field, strings.Join(parts, ","))
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func isoSetup(t *testing.T, tp *testProxy) map[string]string {
	d := tp.direct(t)
	for _, q := range []string{
		"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iso_ra') THEN CREATE ROLE iso_ra; END IF; " +
			"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iso_rb') THEN CREATE ROLE iso_rb; END IF; END$$",
		"CREATE SCHEMA IF NOT EXISTS iso_sa", "CREATE SCHEMA IF NOT EXISTS iso_sb",
		"CREATE OR REPLACE FUNCTION iso_fn(k text, v text) RETURNS text LANGUAGE sql AS $$SELECT set_config(k, v, false)$$",
		"CREATE OR REPLACE PROCEDURE iso_proc(v text) LANGUAGE plpgsql AS $$BEGIN PERFORM set_config('myapp.p', v, false); END$$",
		"CREATE TABLE IF NOT EXISTS iso_trig (v text)",
		"CREATE OR REPLACE FUNCTION iso_trig_fn() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN PERFORM set_config('myapp.t', NEW.v, false); RETURN NULL; END$$",
		"CREATE OR REPLACE TRIGGER iso_trig_t BEFORE INSERT ON iso_trig FOR EACH ROW EXECUTE FUNCTION iso_trig_fn()",
		"CREATE OR REPLACE VIEW iso_view_a AS SELECT iso_fn('myapp.vw', 'vwa') AS v",
		"CREATE OR REPLACE VIEW iso_view_b AS SELECT iso_fn('myapp.vw', 'vwb') AS v",
		"GRANT ALL ON iso_trig, iso_view_a, iso_view_b TO PUBLIC",
	} {
		exec(t, d, q)
	}
	return isoRead(t, d)
}

func isoRead(t testing.TB, c *pgx.Conn) map[string]string {
	t.Helper()
	rows, err := c.Query(context.Background(), isoCheck, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	vals := make([]string, len(isoFields))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		t.Fatalf("check query: no row: %v", rows.Err())
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for i, f := range isoFields {
		m[f] = vals[i]
	}
	return m
}

// isoRounds is the number of rounds per client (SQLGATE_ISO_ROUNDS).
func isoRounds() int {
	if n, err := strconv.Atoi(os.Getenv("SQLGATE_ISO_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 1500
}

// Two clients interleave random state-changing statements over one
// backend connection; after each, the client checks that it sees
// exactly its own state (volatile fields: its own or the default) and
// nothing of the other's. Strict mode runs every kind, the default mode
// the kinds docs/proxy.md says it detects.
func TestIsolation_RandomInterleaving(t *testing.T) {
	for _, mode := range []string{"default", "strict"} {
		t.Run(mode, func(t *testing.T) {
			// One backend connection: every transaction of one client
			// follows one of the other's on the same connection.
			// A pinned client holds the one connection for a few rounds;
			// on a loaded CI machine that can take longer than the
			// harness's 10 s borrow timeout, which is not what this tests.
			tp := startProxy(t, 1, func(c *config.Cluster) {
				c.Proxy.Isolation = mode
				c.Proxy.BorrowTimeout = time.Minute
			})
			defaults := isoSetup(t, tp)
			var kinds []isoKind
			for _, k := range isoKinds {
				if mode == "strict" || !k.hidden {
					kinds = append(kinds, k)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, 2)
			for i, mark := range []string{"a", "b"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- isoRun(tp, &isoClient{id: i + 1, mark: mark, defaults: defaults}, kinds, isoRounds())
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func isoRun(tp *testProxy, c *isoClient, kinds []isoKind, rounds int) error {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(c.id), uint64(rounds)))
	reconnect := func() error {
		if c.conn != nil {
			_ = c.conn.Close(ctx)
		}
		conn, err := pgx.Connect(ctx, tp.url(""))
		if err != nil {
			return err
		}
		c.conn, c.want, c.pinned = conn, cloneMap(c.defaults), 0
		return nil
	}
	if err := reconnect(); err != nil {
		return err
	}
	defer func() { _ = c.conn.Close(ctx) }()
	volatile := map[string]bool{}
	for _, k := range kinds {
		if k.volatile {
			_, set := k.apply(c, 0)
			for f := range set {
				volatile[f] = true
			}
		}
	}
	for r := 1; r <= rounds; r++ {
		if c.pinned > 3 || rng.IntN(20) == 0 {
			if err := reconnect(); err != nil {
				return err
			}
		}
		k := kinds[rng.IntN(len(kinds))]
		sql, set := k.apply(c, r)
		if _, err := c.conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("client %s round %d %s: %s: %w", c.mark, r, k.name, sql, err)
		}
		for f, v := range set {
			c.want[f] = v
		}
		if k.pins || c.pinned > 0 {
			c.pinned++
		}
		got, err := isoQuery(ctx, c.conn)
		if err != nil {
			return fmt.Errorf("client %s round %d after %s: %w", c.mark, r, k.name, err)
		}
		for _, f := range isoFields {
			g, w := got[f], c.want[f]
			ok := g == w
			if volatile[f] {
				ok = g == c.defaults[f] || strings.Contains(g, c.mark) && !strings.Contains(g, other(c.mark))
			}
			if !ok {
				return fmt.Errorf("client %s round %d after %s (%s): %s = %q, want %q", c.mark, r, k.name, sql, f, g, w)
			}
		}
	}
	return nil
}

func other(mark string) string {
	if mark == "a" {
		return "b"
	}
	return "a"
}

func isoQuery(ctx context.Context, c *pgx.Conn) (map[string]string, error) {
	vals := make([]string, len(isoFields))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := c.QueryRow(ctx, isoCheck, pgx.QueryExecModeSimpleProtocol).Scan(ptrs...); err != nil {
		return nil, err
	}
	m := make(map[string]string, len(vals))
	for i, f := range isoFields {
		m[f] = vals[i]
	}
	return m, nil
}

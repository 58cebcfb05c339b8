package pgproxy

import (
	"fmt"
	"math/rand/v2"
)

// rVal is one observed field of a client's model: the value it set last,
// and whether that value may have been lost (set where the proxy cannot
// see it, so docs/proxy.md only promises "this value or the default").
type rVal struct {
	v     string
	lossy bool
}

// rModel is what a client must see: cur now, sess after its transaction
// commits, base what a rollback restores.
type rModel struct {
	cur, sess, base map[string]rVal
	inTx, aborted   bool
	txRounds        int
	pinned          int // rounds since the session pinned, 0 = not pinned
}

// rEffect is what a statement does to the model.
type rEffect struct {
	set   map[string]string // session values (until a rollback)
	local map[string]string // SET LOCAL: until the end of the transaction
	lossy bool              // set values may be lost (a function or trigger set them)
	reset []string          // fields back to their defaults (RESET ALL, DISCARD ALL)
	tx    byte              // 'B' begin, 'C' commit, 'R' rollback, 'E' an error
}

// rKind is one kind of statement of the randomized pool test. sql returns
// the text, its arguments (extended protocol) and its effect. simple: the
// text has several statements (simple protocol only). inTx: allowed inside
// a transaction block (and transactional there); outTx: allowed outside.
type rKind struct {
	name         string
	pins, hidden bool
	simple       bool
	inTx, outTx  bool
	sql          func(c *rClient, r int) (string, []any, rEffect)
	// dropCache: the statement drops the server's prepared statements, so
	// the client's statement cache goes too (pgx's DeallocateAll).
	dropCache bool
}

func set1(k, v string) rEffect { return rEffect{set: map[string]string{k: v}} }

// rGUC is a kind that sets one field with SET (or whatever text q gives),
// inside or outside transactions.
func rGUC(name string, pins bool, q func(c *rClient, r int) (sql, field, val string)) rKind {
	return rKind{name: name, pins: pins, inTx: true, outTx: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
		s, f, v := q(c, r)
		return s, nil, set1(f, v)
	}}
}

// rNum is a value unique to the client and round.
func rNum(c *rClient, r int, unit int) int { return c.id*1000000 + r*10 + unit }

// rFields are the check's fields that RESET ALL sets back to their
// defaults (not the role, nor temporary objects, locks, cursors).
var rResetAll = []string{"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "work_mem",
	"search_path", "application_name", "timezone", "datestyle", "intervalstyle", "extra_float_digits",
	"enable_mergejoin", "enable_hashjoin", "myapp.v", "myapp.w", "myapp.d", "myapp.p", "myapp.f", "myapp.t", "myapp.vw"}

func rPick(r *rand.Rand, vals ...string) string { return vals[r.IntN(len(vals))] }

// rKinds are the statements the randomized pool test draws from.
func rKinds() []rKind {
	ks := []rKind{
		rGUC("statement_timeout", false, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprintf("%dms", rNum(c, r, 1))
			return "SET statement_timeout = '" + v + "'", "statement_timeout", v
		}),
		rGUC("lock_timeout", false, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprintf("%dms", rNum(c, r, 3))
			return "SET lock_timeout TO '" + v + "'", "lock_timeout", v
		}),
		rGUC("idle_in_transaction_session_timeout", false, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprintf("%dms", rNum(c, r, 7))
			return "SET idle_in_transaction_session_timeout = '" + v + "'", "idle_in_transaction_session_timeout", v
		}),
		rGUC("work_mem", false, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprintf("%dkB", c.id*100000+r*10+1)
			return "SET work_mem = '" + v + "'", "work_mem", v
		}),
		rGUC("search_path", false, func(c *rClient, r int) (string, string, string) {
			v := rPick(c.rng, "iso_s"+c.mark+", public", "public, iso_s"+c.mark)
			return "SET search_path = " + v, "search_path", v
		}),
		rGUC("application_name", false, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprintf("iso_%s_%d", c.mark, r)
			return "SET application_name = '" + v + "'", "application_name", v
		}),
		rGUC("set_config application_name", false, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprintf("iso_%s_sc%d", c.mark, r)
			return "SELECT set_config('application_name', '" + v + "', false)", "application_name", v
		}),
		rGUC("reset application_name", false, func(c *rClient, r int) (string, string, string) {
			return "RESET application_name", "application_name", c.defaults["application_name"]
		}),
		rGUC("reset statement_timeout", false, func(c *rClient, r int) (string, string, string) {
			return "RESET statement_timeout", "statement_timeout", c.defaults["statement_timeout"]
		}),
		rGUC("time zone", false, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprintf("Etc/GMT%s%d", rPick(c.rng, "+", "-"), c.rng.IntN(12)+1)
			return "SET TIME ZONE '" + v + "'", "timezone", v
		}),
		rGUC("datestyle", false, func(c *rClient, r int) (string, string, string) {
			v := rPick(c.rng, "ISO, DMY", "ISO, YMD", "SQL, DMY", "German, DMY", "Postgres, MDY")
			return "SET DateStyle = '" + v + "'", "datestyle", v
		}),
		rGUC("intervalstyle", false, func(c *rClient, r int) (string, string, string) {
			v := rPick(c.rng, "sql_standard", "iso_8601", "postgres_verbose", "postgres")
			return "SET IntervalStyle = " + v, "intervalstyle", v
		}),
		rGUC("extra_float_digits", false, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprint(c.rng.IntN(19) - 15)
			return "SET extra_float_digits = " + v, "extra_float_digits", v
		}),
		rGUC("custom guc", true, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprintf("v%s%d", c.mark, r)
			return "SET myapp.v = '" + v + "'", "myapp.v", v
		}),
		rGUC("set_config custom", true, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprintf("w%s%d", c.mark, r)
			return "SELECT set_config('myapp.w', '" + v + "', false)", "myapp.w", v
		}),
		rGUC("planner guc", true, func(c *rClient, r int) (string, string, string) {
			g, v := rPick(c.rng, "enable_mergejoin", "enable_hashjoin"), rPick(c.rng, "on", "off")
			return "SET " + g + " = " + v, g, v
		}),
		rGUC("set role", true, func(c *rClient, r int) (string, string, string) {
			return "SET ROLE iso_r" + c.mark, "current_user", "iso_r" + c.mark
		}),
		rGUC("reset role", false, func(c *rClient, r int) (string, string, string) {
			return "RESET ROLE", "current_user", c.defaults["current_user"]
		}),
		rGUC("do set_config", true, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprintf("d%s%d", c.mark, r)
			return "DO $$BEGIN PERFORM set_config('myapp.d', '" + v + "', false); END$$", "myapp.d", v
		}),
		rGUC("call procedure", true, func(c *rClient, r int) (string, string, string) {
			v := fmt.Sprintf("p%s%d", c.mark, r)
			return "CALL iso_proc('" + v + "')", "myapp.p", v
		}),
		rGUC("temp table", true, func(c *rClient, r int) (string, string, string) {
			n := fmt.Sprintf("iso_t%s_%d", c.mark, r)
			return "CREATE TEMP TABLE " + n + " (a int)", "temp_tables", c.addTo("temp_tables", n)
		}),
		rGUC("select into temp", true, func(c *rClient, r int) (string, string, string) {
			n := fmt.Sprintf("iso_t%s_%d", c.mark, r)
			return "SELECT 'x' AS s INTO TEMP " + n, "temp_tables", c.addTo("temp_tables", n)
		}),
	}
	return append(ks, rKindsMore()...)
}

// rKindsMore: session objects, functions and triggers the proxy cannot see
// into, resets, transactions and errors.
func rKindsMore() []rKind {
	outside := func(name string, pins bool, q func(c *rClient, r int) (string, string, string)) rKind {
		k := rGUC(name, pins, q)
		k.inTx = false
		return k
	}
	// fn: a function or trigger sets field; lossy unless the server
	// reports the parameter (ParameterStatus), which the proxy follows.
	fn := func(name, field string, hidden bool, q func(c *rClient, r int) (string, []any, string)) rKind {
		return rKind{name: name, hidden: hidden, inTx: true, outTx: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			s, args, v := q(c, r)
			e := set1(field, v)
			e.lossy = !reportedParams[field]
			return s, args, e
		}}
	}
	return []rKind{
		outside("prepare", true, func(c *rClient, r int) (string, string, string) {
			n := fmt.Sprintf("iso_p%s_%d", c.mark, r)
			return "PREPARE " + n + " AS SELECT 1", "prepared", c.addTo("prepared", n)
		}),
		outside("with hold cursor", true, func(c *rClient, r int) (string, string, string) {
			n := fmt.Sprintf("iso_c%s_%d", c.mark, r)
			return "DECLARE " + n + " CURSOR WITH HOLD FOR SELECT 1", "cursors", c.addTo("cursors", n)
		}),
		outside("listen", true, func(c *rClient, r int) (string, string, string) {
			n := fmt.Sprintf("iso_l%s_%d", c.mark, r)
			return "LISTEN " + n, "listening", c.addTo("listening", n)
		}),
		outside("advisory lock", true, func(c *rClient, r int) (string, string, string) {
			n := fmt.Sprint(c.id*100000 + r)
			return fmt.Sprintf("SELECT pg_advisory_lock(%d, %s)", c.runKey, n), "advisory_locks", c.addTo("advisory_locks", n)
		}),
		fn("function call", "myapp.f", false, func(c *rClient, r int) (string, []any, string) {
			v := fmt.Sprintf("f%s%d", c.mark, r)
			return "SELECT iso_fn($1, $2)", []any{"myapp.f", v}, v
		}),
		fn("function sets work_mem", "work_mem", false, func(c *rClient, r int) (string, []any, string) {
			v := fmt.Sprintf("%dkB", c.id*100000+r*10+3)
			return "SELECT iso_fn('work_mem', $1)", []any{v}, v
		}),
		fn("function sets application_name", "application_name", false, func(c *rClient, r int) (string, []any, string) {
			v := fmt.Sprintf("iso_%s_fn%d", c.mark, r)
			return "SELECT iso_fn('application_name', $1)", []any{v}, v
		}),
		fn("trigger", "myapp.t", true, func(c *rClient, r int) (string, []any, string) {
			v := fmt.Sprintf("t%s%d", c.mark, r)
			return "INSERT INTO iso_trig VALUES ($1)", []any{v}, v
		}),
		fn("view", "myapp.vw", true, func(c *rClient, r int) (string, []any, string) {
			return "SELECT * FROM iso_view_" + c.mark, nil, "vw" + c.mark
		}),
		{name: "set local", inTx: true, outTx: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			v := fmt.Sprintf("%dms", rNum(c, r, 5))
			return "SET LOCAL statement_timeout = '" + v + "'", nil, rEffect{local: map[string]string{"statement_timeout": v}}
		}},
		{name: "set_config local", inTx: true, outTx: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			v := fmt.Sprintf("%dms", rNum(c, r, 9))
			return "SELECT set_config('lock_timeout', '" + v + "', true)", nil, rEffect{local: map[string]string{"lock_timeout": v}}
		}},
		{name: "set local block", simple: true, outTx: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			return "BEGIN; SET LOCAL statement_timeout = '4s'; SET LOCAL search_path = pg_catalog; " +
				"SELECT set_config('myapp.v', 'local', true); COMMIT", nil, rEffect{}
		}},
		{name: "plain select", inTx: true, outTx: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			return "SELECT count(*) FROM pg_class WHERE relname = $1", []any{fmt.Sprint("x", r)}, rEffect{}
		}},
		{name: "discard all", outTx: true, dropCache: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			return "DISCARD ALL", nil, rEffect{reset: append(rResetAll, "current_user", "temp_tables", "prepared", "cursors", "listening", "advisory_locks")}
		}},
		{name: "reset all", outTx: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			return "RESET ALL", nil, rEffect{reset: rResetAll}
		}},
		{name: "deallocate all", outTx: true, dropCache: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			return "DEALLOCATE ALL", nil, rEffect{reset: []string{"prepared"}}
		}},
		{name: "begin", outTx: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			return rPick(c.rng, "BEGIN", "START TRANSACTION", "BEGIN ISOLATION LEVEL REPEATABLE READ"), nil, rEffect{tx: 'B'}
		}},
		{name: "commit", inTx: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			return rPick(c.rng, "COMMIT", "END"), nil, rEffect{tx: 'C'}
		}},
		{name: "rollback", inTx: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			return rPick(c.rng, "ROLLBACK", "ABORT"), nil, rEffect{tx: 'R'}
		}},
		{name: "error", inTx: true, outTx: true, sql: func(c *rClient, r int) (string, []any, rEffect) {
			return "SELECT 1 / (length($1) - 1)", []any{"x"}, rEffect{tx: 'E'}
		}},
	}
}

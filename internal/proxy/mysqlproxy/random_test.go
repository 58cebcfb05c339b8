package mysqlproxy

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// isoModel is the session state a client would see on its own database
// connection; the proxy must show it exactly that, never the other's.
type isoModel struct {
	sys        map[string]string // check column → value
	uvars      map[string]isoOpt // user variable → value
	locks      map[string]bool   // lock name → optional
	tmp, ps    bool
	lockTables bool
	// lockN counts GET_LOCK('iso_lk_x') acquisitions (they nest).
	lockN int
}

// isoOpt is a value a client may lose when it changes backends: state set
// inside a stored routine that the server does not report, which the
// proxy resets rather than carries.
type isoOpt struct {
	val      string
	optional bool
}

func (m *isoModel) clone() *isoModel {
	c := &isoModel{sys: map[string]string{}, uvars: map[string]isoOpt{}, locks: map[string]bool{}}
	for k, v := range m.sys {
		c.sys[k] = v
	}
	return c
}

// isoKind is one kind of state-changing statement for client x.
type isoKind struct {
	name       string
	strictOnly bool // default isolation does not detect it (docs/proxy.md)
	tables     bool // touches tables or routines: not under LOCK TABLES
	when       func(m *isoModel) bool
	sql        func(r *rand.Rand, x string) string
	// apply records the effect given the statement and its first value.
	apply func(m *isoModel, x, sql, got string)
}

func isoNum(r *rand.Rand, x string) string {
	base := 1000
	if x == "b" {
		base = 2000
	}
	return fmt.Sprint(base + r.IntN(999))
}

func isoPick(r *rand.Rand, x string, a, b []string) string {
	if x == "a" {
		return a[r.IntN(len(a))]
	}
	return b[r.IntN(len(b))]
}

func sysKind(name, col string, sql func(r *rand.Rand, x string) (string, string)) isoKind {
	vals := map[string]string{}
	return isoKind{name: name, sql: func(r *rand.Rand, x string) string {
		q, v := sql(r, x)
		vals[q] = v
		return q
	}, apply: func(m *isoModel, _, q, _ string) { m.sys[col] = vals[q] }}
}

func uvarKind(name, v string, optional bool, sql func(r *rand.Rand, x, n string) string) isoKind {
	return isoKind{name: name, tables: strings.Contains(name, "call") || strings.Contains(name, "func"),
		sql: func(r *rand.Rand, x string) string { return sql(r, x, isoNum(r, x)) },
		apply: func(m *isoModel, x, q, _ string) {
			n := q[strings.LastIndexAny(q, "(= ")+1:]
			n = strings.TrimRight(n, ")")
			name := strings.ReplaceAll(v, "{x}", x)
			m.uvars[name] = isoOpt{val: n, optional: optional}
		}}
}

func lockKind(name, lock string, optional, strictOnly bool, sql string) isoKind {
	return isoKind{name: name, strictOnly: strictOnly, tables: optional,
		sql: func(_ *rand.Rand, x string) string { return strings.ReplaceAll(sql, "{x}", x) },
		apply: func(m *isoModel, x, _, got string) {
			if got != "1" {
				return
			}
			l := strings.ReplaceAll(lock, "{x}", x)
			if !optional {
				m.lockN++
			}
			if prev, held := m.locks[l]; !held || prev {
				m.locks[l] = optional
			}
		}}
}

func fixed(sql string, apply func(m *isoModel)) isoKind {
	f := strings.Fields(sql)
	return isoKind{name: strings.Join(f[:min(len(f), 3)], " "), tables: strings.HasPrefix(sql, "CALL"),
		sql:   func(_ *rand.Rand, x string) string { return strings.ReplaceAll(sql, "{x}", x) },
		apply: func(m *isoModel, _, _, _ string) { apply(m) }}
}

// isoKinds are the state-changing statements the randomized test draws
// from: tracked variables, untracked variables, user variables, schema,
// temporary tables, SQL prepared statements, locks, transactions and
// stored routines that do each of these.
func isoKinds() []isoKind {
	tz := func(r *rand.Rand, x string) string {
		return isoPick(r, x, []string{"+01:00", "+02:00", "+03:00"}, []string{"+05:00", "+06:00", "+07:00"})
	}
	ks := []isoKind{
		sysKind("lock_wait_timeout", "lwt", func(r *rand.Rand, x string) (string, string) {
			n := isoNum(r, x)
			return "SET SESSION lock_wait_timeout = " + n, n
		}),
		sysKind("time_zone", "tz", func(r *rand.Rand, x string) (string, string) {
			v := tz(r, x)
			return "SET time_zone = '" + v + "'", v
		}),
		sysKind("sql_mode", "sql_mode", func(r *rand.Rand, x string) (string, string) {
			v := isoPick(r, x, []string{"ANSI_QUOTES", "NO_ZERO_DATE"}, []string{"ERROR_FOR_DIVISION_BY_ZERO", "NO_AUTO_VALUE_ON_ZERO"})
			return "SET SESSION sql_mode = '" + v + "'", v
		}),
		sysKind("names", "charset", func(r *rand.Rand, x string) (string, string) {
			v := isoPick(r, x, []string{"latin1", "ascii"}, []string{"latin2", "greek"})
			return "SET NAMES " + v, v
		}),
		sysKind("autocommit", "autocommit", func(r *rand.Rand, _ string) (string, string) {
			v := fmt.Sprint(r.IntN(2))
			return "SET autocommit = " + v, v
		}),
		sysKind("isolation", "tx_isolation", func(r *rand.Rand, _ string) (string, string) {
			v := []string{"READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"}[r.IntN(4)]
			return "SET SESSION TRANSACTION ISOLATION LEVEL " + v, strings.ReplaceAll(v, " ", "-")
		}),
		sysKind("use", "db", func(r *rand.Rand, x string) (string, string) {
			v := isoPick(r, x, []string{"sqlgate_test", "mysql"}, []string{"sqlgate_test", "information_schema"})
			return "USE " + v, v
		}),
		sysKind("group_concat_max_len", "gcml", func(r *rand.Rand, x string) (string, string) {
			n := isoNum(r, x)
			return "SET SESSION group_concat_max_len = " + n, n
		}),
		sysKind("wait_timeout", "wait_timeout", func(r *rand.Rand, x string) (string, string) {
			n := isoNum(r, x)
			return "SET SESSION wait_timeout = " + n, n
		}),
		sysKind("auto_increment_increment", "aii", func(r *rand.Rand, x string) (string, string) {
			v := isoPick(r, x, []string{"2", "3", "4"}, []string{"6", "7", "8"})
			return "SET SESSION auto_increment_increment = " + v, v
		}),
		uvarKind("user_variable", "iso_u_{x}", false, func(_ *rand.Rand, x, n string) string { return "SET @iso_u_" + x + " = " + n }),
		uvarKind("select_assign", "iso_s_{x}", false, func(_ *rand.Rand, x, n string) string { return "SELECT @iso_s_" + x + " := " + n }),
		uvarKind("call_set_user_variable", "iso_pv_{x}", false, func(_ *rand.Rand, x, n string) string {
			return "CALL sqlgate_test.iso_setv_" + x + "(" + n + ")"
		}),
		uvarKind("call_select_into", "iso_si_{x}", true, func(_ *rand.Rand, x, n string) string {
			return "CALL sqlgate_test.iso_selinto_" + x + "(" + n + ")"
		}),
		uvarKind("function_sets_user_variable", "iso_fv_{x}", false, func(_ *rand.Rand, x, n string) string {
			return "SELECT sqlgate_test.iso_fset_" + x + "(" + n + ")"
		}),
		fixed("CREATE TEMPORARY TABLE IF NOT EXISTS sqlgate_test.iso_tmp_{x} (i int)", func(m *isoModel) { m.tmp = true }),
		fixed("DROP TEMPORARY TABLE IF EXISTS sqlgate_test.iso_tmp_{x}", func(m *isoModel) { m.tmp = false }),
		fixed("CALL sqlgate_test.iso_ptmp_{x}()", func(m *isoModel) { m.tmp = true }),
		fixed("PREPARE iso_ps_{x} FROM 'SELECT 1'", func(m *isoModel) { m.ps = true }),
		fixed("CALL sqlgate_test.iso_prep_{x}()", func(m *isoModel) { m.ps = true }),
		fixed("LOCK TABLES sqlgate_test.iso_lt_{x} READ", func(m *isoModel) { m.lockTables = true }),
		fixed("UNLOCK TABLES", func(m *isoModel) { m.lockTables = false }),
		fixed("START TRANSACTION", func(m *isoModel) { m.lockTables = false }),
		fixed("COMMIT", func(*isoModel) {}),
		lockKind("get_lock", "iso_lk_{x}", false, false, "SELECT GET_LOCK('iso_lk_{x}', 0)"),
		lockKind("function_get_lock", "iso_flk_{x}", true, false, "SELECT sqlgate_test.iso_flock_{x}()"),
		lockKind("view_over_function_get_lock", "iso_vlk_{x}", true, true, "SELECT got FROM sqlgate_test.iso_vlock_{x}"),
		{name: "release_lock", sql: func(_ *rand.Rand, x string) string { return "SELECT RELEASE_LOCK('iso_lk_" + x + "')" },
			apply: func(m *isoModel, x, _, got string) {
				if got == "1" {
					if m.lockN--; m.lockN == 0 {
						delete(m.locks, "iso_lk_"+x)
					}
				}
			}},
		{name: "deallocate", when: func(m *isoModel) bool { return m.ps },
			sql:   func(_ *rand.Rand, x string) string { return "DEALLOCATE PREPARE iso_ps_" + x },
			apply: func(m *isoModel, _, _, _ string) { m.ps = false }},
	}
	// A procedure that sets a tracked and a user variable, and one that
	// sets an untracked one.
	calls := []isoKind{
		{name: "call_time_zone_and_user_variable", tables: true, sql: func(r *rand.Rand, x string) string {
			return "CALL sqlgate_test.iso_tz_" + x + "('" + tz(r, x) + "')"
		}, apply: func(m *isoModel, x, q, _ string) {
			m.sys["tz"] = q[strings.Index(q, "'")+1 : strings.LastIndex(q, "'")]
			m.uvars["iso_px_"+x] = isoOpt{val: "1"}
		}},
		{name: "call_lock_wait_timeout", tables: true, sql: func(r *rand.Rand, x string) string {
			return "CALL sqlgate_test.iso_lwt_" + x + "(" + isoNum(r, x) + ")"
		}, apply: func(m *isoModel, _, q, _ string) {
			m.sys["lwt"] = q[strings.Index(q, "(")+1 : strings.Index(q, ")")]
		}},
	}
	return append(ks, calls...)
}

// isoCheckSQL reads the state the model describes, without pinning or
// tainting the backend (no user variable reference, only built-ins).
const isoCheckSQL = "SELECT @@session.lock_wait_timeout, @@session.time_zone, @@session.sql_mode, " +
	"@@session.character_set_client, @@session.autocommit, @@session.tx_isolation, IFNULL(DATABASE(), '-'), " +
	"@@session.group_concat_max_len, @@session.wait_timeout, @@session.auto_increment_increment, " +
	"IFNULL((SELECT GROUP_CONCAT(CONCAT(VARIABLE_NAME, '=', VARIABLE_VALUE) ORDER BY VARIABLE_NAME SEPARATOR ',') " +
	"FROM information_schema.USER_VARIABLES), ''), CONCAT_WS(',', " +
	"IF(IS_USED_LOCK('iso_lk_a') = CONNECTION_ID(), 'iso_lk_a', NULL), IF(IS_USED_LOCK('iso_lk_b') = CONNECTION_ID(), 'iso_lk_b', NULL), " +
	"IF(IS_USED_LOCK('iso_flk_a') = CONNECTION_ID(), 'iso_flk_a', NULL), IF(IS_USED_LOCK('iso_flk_b') = CONNECTION_ID(), 'iso_flk_b', NULL), " +
	"IF(IS_USED_LOCK('iso_vlk_a') = CONNECTION_ID(), 'iso_vlk_a', NULL), IF(IS_USED_LOCK('iso_vlk_b') = CONNECTION_ID(), 'iso_vlk_b', NULL))"

var isoCols = []string{"lwt", "tz", "sql_mode", "charset", "autocommit", "tx_isolation", "db", "gcml", "wait_timeout", "aii"}

package mysqlproxy

// Session state the proxy tracks and replays, read from the
// session_state_info of OK packets (decoded by mysqlwire).

import (
	"maps"
	"sort"
	"strings"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// trackedVars are the session variables the proxy records and replays on
// whichever backend a client borrows, instead of pinning: RDS Proxy's
// tracked list for MySQL. Setting any other variable
// pins the session.
var trackedVars = map[string]bool{
	"autocommit":               true,
	"auto_increment_increment": true,
	"character_set_client":     true,
	"character_set_connection": true,
	"character_set_results":    true,
	"character_set_server":     true,
	"character_set_filesystem": true,
	"collation_connection":     true,
	"collation_server":         true,
	"interactive_timeout":      true,
	"net_write_timeout":        true,
	"query_cache_type":         true,
	"sql_mode":                 true,
	"time_zone":                true,
	"tx_isolation":             true,
	"transaction_isolation":    true,
	"tx_read_only":             true,
	"transaction_read_only":    true,
	"wait_timeout":             true,
}

// derivedVars change as a side effect of tracked state (USE changes the
// database character set) and are restored with it; they neither pin nor
// replay.
var derivedVars = map[string]bool{
	"character_set_database": true,
	"collation_database":     true,
	// Read-only news about the last transaction, reported after every
	// write when the binary log is on (MariaDB with GTIDs, as in any
	// replicated setup): not state a client set, so nothing to pin on.
	"last_gtid": true,
	// Our own settings: reported when the proxy enables tracking.
	"session_track_system_variables": true,
	"session_track_schema":           true,
	"session_track_state_change":     true,
	"session_track_transaction_info": true,
}

// baselineQuery reads the tracked variables of a fresh backend session.
var baselineQuery = func() string {
	names := make([]string, 0, len(trackedVars))
	for n := range trackedVars {
		names = append(names, "'"+n+"'")
	}
	sort.Strings(names)
	return "SHOW SESSION VARIABLES WHERE Variable_name IN (" + strings.Join(names, ",") + ")"
}()

// trackSetup enables session tracking on a backend connection.
const trackSetup = "SET SESSION session_track_system_variables='*', session_track_schema=ON, " +
	"session_track_state_change=ON, session_track_transaction_info='CHARACTERISTICS'"

// untracked returns the first variable in sc that is neither tracked nor
// derived, or "".
func untracked(sc mysqlwire.StateChange) string {
	for _, kv := range sc.Vars {
		if !trackedVars[kv[0]] && !derivedVars[kv[0]] {
			return kv[0]
		}
	}
	return ""
}

// explained reports whether every change sc flags is tracked state, so a
// STATE_CHANGE flag needs no pin.
func explained(sc mysqlwire.StateChange) bool {
	return (len(sc.Vars) > 0 || sc.HasSchema) && untracked(sc) == ""
}

// vars is a set of tracked session variable values.
type vars map[string]string

// apply records the tracked variables of sc, making the set if it is
// nil (a session's, until it tracks a variable).
func (v *vars) apply(sc mysqlwire.StateChange) {
	for _, kv := range sc.Vars {
		if trackedVars[kv[0]] {
			if *v == nil {
				*v = vars{}
			}
			(*v)[kv[0]] = kv[1]
		}
	}
}

// replaySQL returns a SET statement that turns a backend whose tracked
// variables are have (over baseline) into one with want, or "" when they
// already agree. Character sets are set before collations, which they
// would otherwise override.
func replaySQL(want, have, baseline vars) string {
	if maps.Equal(want, have) {
		return "" // the common case on every borrow, without allocating
	}
	var names []string
	seen := map[string]bool{}
	for _, m := range []vars{want, have} {
		for n := range m {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	sort.Slice(names, func(i, j int) bool {
		ci, cj := strings.HasPrefix(names[i], "collation"), strings.HasPrefix(names[j], "collation")
		if ci != cj {
			return cj
		}
		return names[i] < names[j]
	})
	var b strings.Builder
	for _, n := range names {
		w, ok := want[n]
		if !ok {
			if w, ok = baseline[n]; !ok {
				continue
			}
		}
		h, ok := have[n]
		if !ok {
			h = baseline[n]
		}
		if w == h {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("SET SESSION ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(sqlValue(w))
	}
	return b.String()
}

// sqlValue quotes v unless it is an integer.
func sqlValue(v string) string {
	if isInteger(v) {
		return v
	}
	var b strings.Builder
	b.WriteByte('\'')
	for _, c := range []byte(v) {
		switch c {
		case '\'', '\\':
			b.WriteByte('\\')
		case 0:
			b.WriteString(`\0`)
			continue
		}
		b.WriteByte(c)
	}
	b.WriteByte('\'')
	return b.String()
}

func isInteger(v string) bool {
	v = strings.TrimPrefix(v, "-")
	if v == "" || len(v) > 18 {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

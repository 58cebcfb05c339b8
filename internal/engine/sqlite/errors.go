package sqlite

import (
	"strconv"
	"strings"

	"modernc.org/sqlite"
	lib "modernc.org/sqlite/lib"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// dbError turns a SQLite error into a DBError: Code is the extended result
// code (sqlite.org/rescode.html), SQLState "23000" for constraint
// violations and "HY000" (general error) otherwise. SQLITE_BUSY, left after
// busy_timeout, is a DBError too: the statement failed, nothing is broken.
func dbError(e *sqlite.Error) *engine.DBError {
	code := e.Code()
	msg := strings.TrimSuffix(e.Error(), " (SQLITE_BUSY)")
	msg = strings.TrimSuffix(msg, " ("+strconv.Itoa(code)+")")
	state := "HY000"
	if code&0xff == lib.SQLITE_CONSTRAINT {
		state = "23000"
	}
	return &engine.DBError{Message: msg, SQLState: state, Code: code}
}

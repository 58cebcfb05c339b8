package postgres

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// SQLSTATEs sqlgate reacts to.
const (
	sqlstateQueryCanceled  = "57014"
	sqlstateInFailedSQLTxn = "25P02"
)

// dbError formats a server error the way pgjdbc's ServerErrorMessage does,
// which is what the Data API shows:
//
//	ERROR: operator does not exist: character varying = uuid
//	  Hint: No operator matches …
//	  Position: 327
func dbError(e *pgconn.PgError) *engine.DBError {
	var b strings.Builder
	sev := e.SeverityUnlocalized
	if sev == "" {
		sev = e.Severity
	}
	if sev != "" {
		b.WriteString(sev)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Detail != "" {
		b.WriteString("\n  Detail: " + e.Detail)
	}
	if e.Hint != "" {
		b.WriteString("\n  Hint: " + e.Hint)
	}
	if e.Position != 0 {
		b.WriteString("\n  Position: " + strconv.Itoa(int(e.Position)))
	}
	if e.Where != "" {
		b.WriteString("\n  Where: " + e.Where)
	}
	return &engine.DBError{Message: b.String(), SQLState: e.Code}
}

package exec

import (
	"strings"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// TxControlError refuses a transaction-control statement sent as SQL.
// Outside a Data API transaction each call runs in a session of its own,
// so a transaction it opened could not be used by the next call (and
// would hold its locks on a pooled connection); inside one, ending the
// transaction behind the transaction id's back would leave the id
// pointing at nothing. Savepoints are allowed inside a transaction.
type TxControlError struct {
	Verb string // the statement's first keyword, as written
	InTx bool
}

func (e *TxControlError) Error() string {
	msg := "Transaction control statements such as " + e.Verb + " are not supported in ExecuteStatement or BatchExecuteStatement"
	if e.InTx {
		msg += " inside a transaction"
	}
	return msg + ": each call without a transactionId runs and commits on its own. " +
		"Use BeginTransaction, then pass its transactionId to ExecuteStatement, and end it with CommitTransaction or RollbackTransaction."
}

// Check applies the transaction-control rule to one statement: BEGIN,
// START TRANSACTION, COMMIT, END, ROLLBACK, ABORT, XA, PREPARE TRANSACTION,
// SET autocommit and session-wide transaction characteristics are always
// refused; SAVEPOINT, RELEASE and ROLLBACK TO only outside a transaction.
func Check(sql string, d engine.Dialect, inTx bool) error {
	info := engine.InspectTx(sql, d)
	switch info.Tx {
	case engine.TxNone:
		return nil
	case engine.TxSavepoint:
		if inTx {
			return nil
		}
	}
	verb := upper(info.Verb)
	if info.Tx == engine.TxMode {
		verb = lead(sql)
	}
	return &TxControlError{Verb: verb, InTx: inTx}
}

// lead returns the statement's beginning for a message: its first line,
// at most 60 bytes.
func lead(sql string) string {
	s := strings.TrimSpace(sql)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

package dataapi

import (
	"context"
	"strconv"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/exec"
)

// ScriptAction is the action name (metrics, logs) of a console script.
// It is not an AWS operation: only the console reaches it (Serve with door.Request.Op = ScriptAction),
// and it is authorized as rds-data:ExecuteStatement, since it does what
// a series of ExecuteStatement calls would.
const ScriptAction = "ExecuteScript"

// scriptRequest is ExecuteStatement's request with a script for sql.
type scriptRequest struct {
	executeRequest
}

// script runs a script (statements separated by ';', split with the
// cluster's SQL scanner) in one session: a USE or SET holds for the rest
// of the script, and the session is given back clean at the end, as after
// any call. With a transactionId the statements run in that transaction.
// The answer is the last statement's ExecuteStatement response plus
// "statements" (how many ran); a failure answers the error with
// "failedStatement" (1-based) and stops the script. Transaction control
// is refused as in ExecuteStatement. Serve runs it for req.Op ScriptAction.
func (a *API) script(ctx context.Context, body []byte) (string, []byte, error) {
	var req scriptRequest
	t, err := a.resolveExecute(ctx, body, &req.executeRequest)
	if t == nil {
		return "", nil, err
	}
	name := t.cl.Name
	if err != nil {
		return name, nil, err
	}
	stmts := engine.Split(*req.SQL, t.cl.Exec.Dialect)
	if len(stmts) == 0 {
		return name, nil, validation("The script holds no statement.")
	}
	run := func(sess *exec.Session, _ func()) ([]byte, error) {
		var res *engine.Result
		for i, sql := range stmts {
			var err error
			if res, err = sess.Exec(ctx, exec.Statement{SQL: sql}); err != nil {
				e := mapError(err, sess.ID())
				failed := *e
				failed.Extra = map[string]any{"failedStatement": i + 1, "statements": len(stmts)}
				for k, v := range e.Extra {
					failed.Extra[k] = v
				}
				return nil, &failed
			}
		}
		if req.IncludeResultMetadata && res.HasResultSet {
			if err := describe(ctx, sess.Conn(), res); err != nil {
				return nil, err
			}
		}
		b, err := encodeExecute(res, req.IncludeResultMetadata, options{}, t.cl.Exec.MaxResponseBytes)
		if err != nil {
			return nil, err
		}
		b = append(b[:len(b)-1], `,"statements":`...)
		return append(strconv.AppendInt(b, int64(len(stmts)), 10), '}'), nil
	}
	resp, err := a.onSession(ctx, t, req.TransactionID, run)
	return name, resp, err
}

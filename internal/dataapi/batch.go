package dataapi

import (
	"context"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/exec"
)

// batch is BatchExecuteStatement (POST /BatchExecute): the statement runs
// once per parameter set. Outside a transaction the whole batch runs in an
// implicit transaction, so a failing set leaves nothing half-applied.
func (a *API) batch(ctx context.Context, body []byte) (string, []byte, error) {
	var req batchRequest
	if err := decodeJSON(body, &req); err != nil {
		return "", nil, err
	}
	if req.SQL == nil {
		return "", nil, notNull("sql")
	}
	t, err := a.resolve(ctx, "BatchExecuteStatement", req.ResourceARN, req.SecretARN, req.Database)
	if err != nil {
		return "", nil, err
	}
	name := t.cl.Name
	if err := checkStatement(t.cl, *req.SQL, req.Schema); err != nil {
		return name, nil, err
	}
	sets := make([][]engine.Param, len(req.ParameterSets))
	for i, ps := range req.ParameterSets {
		if sets[i], err = toParams(ps); err != nil {
			return name, nil, err
		}
	}
	run := func(sess *exec.Session, _ func()) ([]byte, error) {
		return runBatch(ctx, sess, *req.SQL, sets)
	}
	resp, err := a.onSession(ctx, t, req.TransactionID, run)
	return name, resp, err
}

// runBatch runs sql once per parameter set; outside a transaction in an
// implicit one.
func runBatch(ctx context.Context, sess *exec.Session, sql string, sets [][]engine.Param) ([]byte, error) {
	if len(sets) == 0 {
		return []byte(`{"updateResults":[]}`), nil
	}
	if err := exec.Check(sql, sess.Dialect(), sess.InTx()); err != nil {
		return nil, err // before the implicit BEGIN, so a savepoint is refused as outside
	}
	implicit := !sess.InTx()
	if implicit {
		if err := sess.Begin(ctx); err != nil {
			return nil, err
		}
	}
	b := append(make([]byte, 0, 64+16*len(sets)), `{"updateResults":[`...)
	for i, params := range sets {
		res, err := sess.Exec(ctx, exec.Statement{SQL: sql, Params: params})
		if err != nil {
			if implicit {
				rollbackQuietly(sess)
			}
			return nil, err
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"generatedFields":[`...)
		for j, g := range res.Generated {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendField(b, g, false, mapOptions{})
		}
		b = append(b, "]}"...)
	}
	if implicit {
		if err := sess.Commit(ctx); err != nil {
			return nil, err
		}
	}
	return append(b, "]}"...), nil
}

// rollbackQuietly rolls back an implicit transaction after an error. The
// statement's error is what the caller reports; a failed rollback needs
// no report of its own: the session is then reset or closed when it is
// given back.
func rollbackQuietly(sess *exec.Session) {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	_ = sess.Rollback(ctx)
}

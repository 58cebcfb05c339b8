package dataapi

import (
	"context"

	"github.com/sqlgate/sqlgate/internal/engine"
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
	run := func(c engine.Conn) ([]byte, error) {
		return a.runBatch(ctx, t.cl, c, *req.SQL, sets, req.TransactionID == "")
	}
	resp, err := a.onConn(ctx, t, req.TransactionID, run)
	return name, resp, err
}

func (a *API) runBatch(ctx context.Context, cl *Cluster, c engine.Conn, sql string, sets [][]engine.Param, implicit bool) ([]byte, error) {
	if len(sets) == 0 {
		return []byte(`{"updateResults":[]}`), nil
	}
	if implicit {
		if err := c.Begin(ctx); err != nil {
			return nil, err
		}
	}
	b := append(make([]byte, 0, 64+16*len(sets)), `{"updateResults":[`...)
	for i, params := range sets {
		res, err := a.runStatement(ctx, cl, c, sql, params, false)
		if err != nil {
			if implicit {
				rollbackQuietly(c)
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
		if err := c.Commit(ctx); err != nil {
			return nil, err
		}
	}
	return append(b, "]}"...), nil
}

// rollbackQuietly rolls back an implicit transaction after an error. The
// statement's error is what the caller reports; a failed rollback needs
// no report of its own, since the engine marks a dead connection Broken
// and the pool then discards it.
func rollbackQuietly(c engine.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	_ = c.Rollback(ctx)
}

package dataapi

import (
	"context"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/pool"
	"github.com/sqlgate/sqlgate/internal/txn"
)

// execute is ExecuteStatement (POST /Execute).
func (a *API) execute(ctx context.Context, body []byte) (string, []byte, error) {
	var req executeRequest
	if err := decodeJSON(body, &req); err != nil {
		return "", nil, err
	}
	if req.SQL == nil {
		return "", nil, notNull("sql")
	}
	t, err := a.resolve(ctx, "ExecuteStatement", req.ResourceARN, req.SecretARN, req.Database)
	if err != nil {
		return "", nil, err
	}
	name := t.cl.Name
	if err := checkStatement(t.cl, *req.SQL, req.Schema); err != nil {
		return name, nil, err
	}
	opts, err := parseOptions(req.ResultSetOptions, req.FormatRecordsAs)
	if err != nil {
		return name, nil, err
	}
	params, err := toParams(req.Parameters)
	if err != nil {
		return name, nil, err
	}
	run := func(c engine.Conn) ([]byte, error) {
		res, err := a.runStatement(ctx, t.cl, c, *req.SQL, params, req.ContinueAfterTimeout)
		if err != nil {
			return nil, err
		}
		if req.IncludeResultMetadata && res.HasResultSet {
			if err := describe(ctx, c, res); err != nil {
				return nil, err
			}
		}
		return encodeExecute(res, req.IncludeResultMetadata, opts, t.cl.Limits.MaxResponseBytes)
	}
	resp, err := a.onConn(ctx, t, req.TransactionID, run)
	return name, resp, err
}

// onConn runs fn on the transaction's connection, or on a pooled one.
func (a *API) onConn(ctx context.Context, t *target, txID string, fn func(engine.Conn) ([]byte, error)) ([]byte, error) {
	if txID != "" {
		return a.onTx(txID, t, fn)
	}
	c, err := a.borrow(ctx, t)
	if err != nil {
		return nil, mapError(err, 0)
	}
	resp, err := fn(c)
	if err != nil {
		err = mapError(err, c.ID())
	}
	if !errors.Is(err, errDetached) {
		t.cl.Pool.Release(c)
	}
	return resp, err
}

// onTx runs fn on an open transaction. Errors that leave the connection
// unusable, and oversize results, end the transaction (as AWS does).
func (a *API) onTx(id string, t *target, fn func(engine.Conn) ([]byte, error)) ([]byte, error) {
	tx, err := a.acquireTx(id, t)
	if err != nil {
		return nil, mapError(err, 0)
	}
	resp, err := fn(tx.Conn)
	switch {
	case err == nil:
		a.txns.Release(tx)
		return resp, nil
	case errors.Is(err, errDetached):
		// The statement goes on (continueAfterTimeout); the transaction
		// is released by the goroutine running it.
	case errors.Is(err, engine.ErrResultTooLarge) || tx.Conn.Broken():
		a.txns.Remove(tx, txn.ReasonKilled)
		txn.Abort(tx)
	default:
		a.txns.Release(tx)
	}
	return nil, mapError(err, tx.Conn.ID())
}

// describer is implemented by engine connections that complete column
// metadata (table names, nullability) only on request, because it costs a
// catalog lookup: the PostgreSQL engine.
type describer interface {
	DescribeColumns(ctx context.Context, res *engine.Result) error
}

func describe(ctx context.Context, c engine.Conn, res *engine.Result) error {
	if pc, ok := c.(*pool.Conn); ok {
		c = pc.Conn
	}
	if d, ok := c.(describer); ok {
		return d.DescribeColumns(ctx, res)
	}
	return nil
}

// errDetached marks a statement left running after its call timed out
// (continueAfterTimeout); its connection is released when it finishes.
var errDetached = errors.New("statement continues after timeout")

// runStatement runs sql under the cluster's statement timeout. With
// continueAfterTimeout the statement is not cancelled at the timeout: the
// call fails with StatementTimeoutException and the statement runs on.
func (a *API) runStatement(ctx context.Context, cl *Cluster, c engine.Conn, sql string, params []engine.Param, keepRunning bool) (*engine.Result, error) {
	maxBytes := cl.Limits.MaxResponseBytes
	if !keepRunning {
		sctx, cancel := context.WithTimeout(ctx, cl.Limits.StatementTimeout)
		defer cancel()
		res, err := c.Exec(sctx, sql, params, maxBytes)
		if err != nil && sctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			return nil, timeoutError(err)
		}
		return res, err
	}
	type outcome struct {
		res *engine.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := c.Exec(context.WithoutCancel(ctx), sql, params, maxBytes)
		done <- outcome{res, err}
	}()
	timer := time.NewTimer(cl.Limits.StatementTimeout)
	defer timer.Stop()
	select {
	case o := <-done:
		return o.res, o.err
	case <-timer.C:
	case <-ctx.Done():
	}
	go func() {
		<-done
		a.finishDetached(cl, c)
	}()
	return nil, errors.Join(errDetached, engine.ErrTimeout)
}

// finishDetached returns the connection of a statement that outlived its
// call: pooled connections go back to the pool; a transaction's is left to
// its transaction (released for the next call).
func (a *API) finishDetached(cl *Cluster, c engine.Conn) {
	if pc, ok := c.(*pool.Conn); ok && !a.txns.ReleaseConn(pc) {
		cl.Pool.Release(pc)
	}
}

func timeoutError(err error) error {
	if errors.Is(err, engine.ErrTimeout) {
		return err
	}
	return errors.Join(engine.ErrTimeout, err)
}

// checkStatement applies the SQL limits common to Execute and BatchExecute.
//
// The schema parameter is accepted and ignored, as Aurora Serverless v1
// did: the seed walkthroughs send --schema "mysql" with every call, and
// existing code must run unchanged. (Aurora v2 rejects it with a
// ValidationException, which would break those clients for no gain.)
func checkStatement(cl *Cluster, sql string, _ *string) error {
	if n := utf8.RuneCountInString(sql); n > cl.Limits.MaxSQLChars {
		return validation("1 validation error detected: Value at 'sql' failed to satisfy constraint: Member must have length less than or equal to " + strconv.Itoa(cl.Limits.MaxSQLChars))
	}
	return nil
}

// options holds resultSetOptions and formatRecordsAs.
type options struct {
	mapOptions
	json bool
}

func parseOptions(o *resultSetOptions, format string) (options, error) {
	var out options
	switch format {
	case "", "NONE":
	case "JSON":
		out.json = true
	default:
		return out, validation("1 validation error detected: Value '" + format + "' at 'formatRecordsAs' failed to satisfy constraint: Member must satisfy enum value set: [NONE, JSON]")
	}
	if o == nil {
		return out, nil
	}
	switch o.DecimalReturnType {
	case "", "STRING":
	case "DOUBLE_OR_LONG":
		out.decimalAsNumber = true
	default:
		return out, validation("1 validation error detected: Value '" + o.DecimalReturnType + "' at 'resultSetOptions.decimalReturnType' failed to satisfy constraint: Member must satisfy enum value set: [STRING, DOUBLE_OR_LONG]")
	}
	switch o.LongReturnType {
	case "", "LONG":
	case "STRING":
		out.longAsString = true
	default:
		return out, validation("1 validation error detected: Value '" + o.LongReturnType + "' at 'resultSetOptions.longReturnType' failed to satisfy constraint: Member must satisfy enum value set: [STRING, LONG]")
	}
	return out, nil
}

// encodeExecute writes an ExecuteStatementResponse (spec §2, §4.8, §4.9).
func encodeExecute(res *engine.Result, meta bool, o options, limit int) ([]byte, error) {
	b := make([]byte, 0, 256)
	if !res.HasResultSet {
		b = append(b, `{"generatedFields":[`...)
		for i, g := range res.Generated {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendField(b, g, false, o.mapOptions)
		}
		b = append(b, `],"numberOfRecordsUpdated":`...)
		b = strconv.AppendInt(b, res.RowsAffected, 10)
		return append(b, '}'), nil
	}
	if o.json {
		return encodeFormatted(b, res, o, limit)
	}
	b = append(b, '{')
	if meta {
		b = append(b, `"columnMetadata":[`...)
		for i, c := range res.Columns {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendColumn(b, c)
		}
		b = append(b, "],"...)
	}
	b = append(b, `"numberOfRecordsUpdated":`...)
	b = strconv.AppendInt(b, res.RowsAffected, 10)
	b = append(b, `,"records":[`...)
	for i, row := range res.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, v := range row {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendField(b, v, isDecimal(res, j), o.mapOptions)
		}
		b = append(b, ']')
		if len(b) > limit {
			return nil, engine.ErrResultTooLarge
		}
	}
	return append(b, "]}"...), nil
}

func isDecimal(res *engine.Result, i int) bool { return i < len(res.Decimal) && res.Decimal[i] }

// formattedLimit is the 10 MB limit of formattedRecords.
const formattedLimit = 10 << 20

// encodeFormatted writes formatRecordsAs=JSON: a JSON string holding an
// array of row objects keyed by column label.
func encodeFormatted(b []byte, res *engine.Result, o options, limit int) ([]byte, error) {
	seen := make(map[string]bool, len(res.Columns))
	for _, c := range res.Columns {
		if seen[c.Label] {
			return nil, badRequest("The result contains more than one column named " + c.Label + ". Use a column alias to make each column name unique.")
		}
		seen[c.Label] = true
	}
	inner := make([]byte, 0, 256)
	inner = append(inner, '[')
	for i, row := range res.Rows {
		if i > 0 {
			inner = append(inner, ',')
		}
		inner = append(inner, '{')
		for j, v := range row {
			if j > 0 {
				inner = append(inner, ',')
			}
			inner = appendString(inner, res.Columns[j].Label)
			inner = append(inner, ':')
			inner = appendJSONValue(inner, v, isDecimal(res, j), o.mapOptions)
		}
		inner = append(inner, '}')
		if len(inner) > formattedLimit || len(inner) > limit {
			return nil, engine.ErrResultTooLarge
		}
	}
	inner = append(inner, ']')
	b = append(b, `{"formattedRecords":`...)
	b = appendString(b, string(inner))
	b = append(b, `,"numberOfRecordsUpdated":`...)
	b = strconv.AppendInt(b, res.RowsAffected, 10)
	return append(b, '}'), nil
}

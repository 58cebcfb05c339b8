package dataapi

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/exec"
	"github.com/sqlgate/sqlgate/internal/txn"
)

// execute is ExecuteStatement (POST /Execute).
func (a *API) execute(ctx context.Context, body []byte) (string, []byte, error) {
	var req executeRequest
	t, err := a.resolveExecute(ctx, body, &req)
	if t == nil {
		return "", nil, err
	}
	name := t.cl.Name
	if err != nil {
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
	run := func(sess *exec.Session, done func()) ([]byte, error) {
		// The result is encoded straight from the engine's own form:
		// no Value per cell is kept (engine.WithLazyDecode).
		res, err := sess.Exec(engine.WithLazyDecode(ctx), exec.Statement{SQL: *req.SQL, Params: params,
			KeepRunning: req.ContinueAfterTimeout, Done: done, Last: req.TransactionID == ""})
		if err != nil {
			return nil, err
		}
		if req.IncludeResultMetadata && res.HasResultSet {
			if err := describe(ctx, sess.Conn(), res); err != nil {
				return nil, err
			}
		}
		b, err := encodeExecute(res, req.IncludeResultMetadata, opts, t.cl.Exec.MaxResponseBytes)
		res.Release() // encoded: nothing taken from it is kept
		return b, err
	}
	resp, err := a.onSession(ctx, t, req.TransactionID, run)
	return name, resp, err
}

// runFunc runs a call's statements on sess. done is the Statement.Done of
// a statement allowed to run on after its call (nil outside transactions).
type runFunc func(sess *exec.Session, done func()) ([]byte, error)

// onSession runs fn in the transaction's session, or in a session of its
// own that is given back clean afterwards.
func (a *API) onSession(ctx context.Context, t *target, txID string, fn runFunc) ([]byte, error) {
	if txID != "" {
		return a.onTx(txID, t, fn)
	}
	sess, err := a.open(ctx, t)
	if err != nil {
		return nil, mapError(err, 0)
	}
	defer sess.Close()
	resp, err := fn(sess, nil)
	if err != nil {
		return nil, mapError(err, sess.ID())
	}
	return resp, nil
}

// onTx runs fn in an open transaction. Errors that leave the connection
// unusable, and oversize results, end the transaction (as AWS does).
func (a *API) onTx(id string, t *target, fn runFunc) ([]byte, error) {
	tx, err := a.acquireTx(id, t)
	if err != nil {
		return nil, mapError(err, 0)
	}
	connID := tx.Session.ID()
	resp, err := fn(tx.Session, func() { a.txns.Release(tx) })
	switch {
	case err == nil:
		a.txns.Release(tx)
		return resp, nil
	case errors.Is(err, exec.ErrDetached):
		// The statement goes on (continueAfterTimeout); the transaction
		// is released by the goroutine running it.
	case errors.Is(err, engine.ErrResultTooLarge) || tx.Session.Conn().Broken():
		a.txns.Remove(tx, txn.ReasonKilled)
		txn.Abort(tx)
	default:
		a.txns.Release(tx)
	}
	return nil, mapError(err, connID)
}

// resolveExecute decodes an ExecuteStatement-shaped request into req,
// resolves its cluster and secret and checks its SQL. The target is nil
// when no cluster was resolved; a target with an error means the SQL was
// refused on that cluster.
func (a *API) resolveExecute(ctx context.Context, body []byte, req *executeRequest) (*target, error) {
	if err := decodeJSON(body, req); err != nil {
		return nil, err
	}
	if req.SQL == nil {
		return nil, notNull("sql")
	}
	t, err := a.resolve(ctx, "ExecuteStatement", req.ResourceARN, req.SecretARN, req.Database)
	if err != nil {
		return nil, err
	}
	return t, checkStatement(t.cl, *req.SQL, req.Schema)
}

// describer is implemented by engine connections that complete column
// metadata (table names, nullability) only on request, because it costs a
// catalog lookup: the PostgreSQL engine.
type describer interface {
	DescribeColumns(ctx context.Context, res *engine.Result) error
}

func describe(ctx context.Context, c engine.Conn, res *engine.Result) error {
	if d, ok := c.(describer); ok {
		return d.DescribeColumns(ctx, res)
	}
	return nil
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

// respPool recycles response buffers: serve gives a response back once it
// is written, so encoding a result reuses a buffer of the right size.
var respPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledResp bounds the buffers kept (larger ones are left to the GC).
const maxPooledResp = 1 << 20

func getBuf() []byte { return (*respPool.Get().(*[]byte))[:0] }

func putBuf(b []byte) {
	if cap(b) <= maxPooledResp {
		respPool.Put(&b)
	}
}

// encodeExecute writes an ExecuteStatementResponse into a pooled buffer.
func encodeExecute(res *engine.Result, meta bool, o options, limit int) ([]byte, error) {
	b := getBuf()
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
	tc, _ := res.Cells.(engine.TextCells)
	for i := range res.NumRows() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j := range res.RowLen(i) {
			if j > 0 {
				b = append(b, ',')
			}
			if tc != nil {
				var ok bool
				if b, ok = appendTextField(b, tc, i, j, isDecimal(res, j), o.mapOptions); ok {
					continue
				}
			}
			v, err := res.At(i, j)
			if err != nil {
				putBuf(b)
				return nil, err
			}
			b = appendField(b, v, isDecimal(res, j), o.mapOptions)
		}
		b = append(b, ']')
		if len(b) > limit {
			putBuf(b)
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
	inner := getBuf()
	defer putBuf(inner)
	inner = append(inner, '[')
	for i := range res.NumRows() {
		if i > 0 {
			inner = append(inner, ',')
		}
		inner = append(inner, '{')
		for j := range res.RowLen(i) {
			if j > 0 {
				inner = append(inner, ',')
			}
			v, err := res.At(i, j)
			if err != nil {
				return nil, err
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

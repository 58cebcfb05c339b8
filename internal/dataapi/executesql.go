package dataapi

import (
	"context"
	"encoding/base64"
	"strconv"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/exec"
)

// executeSQL is the deprecated ExecuteSql (POST /ExecuteSql): several
// ';'-separated statements, each answered with a SqlStatementResult whose
// records use the old Value union (bigIntValue, bitValue, …). The statements
// run in one session with autocommit.
func (a *API) executeSQL(ctx context.Context, body []byte) (string, []byte, error) {
	var req executeSQLRequest
	if err := decodeJSON(body, &req); err != nil {
		return "", nil, err
	}
	if req.SQLStatements == nil {
		return "", nil, notNull("sqlStatements")
	}
	t, err := a.resolve(ctx, "ExecuteSql", req.ClusterARN, req.SecretARN, req.Database)
	if err != nil {
		return "", nil, err
	}
	if err := checkStatement(t.cl, *req.SQLStatements, req.Schema); err != nil {
		return t.cl.Name, nil, err
	}
	run := func(sess *exec.Session, _ func()) ([]byte, error) {
		b := append(make([]byte, 0, 256), `{"sqlStatementResults":[`...)
		for i, stmt := range engine.Split(*req.SQLStatements, sess.Dialect()) {
			res, err := sess.Exec(ctx, exec.Statement{SQL: stmt})
			if err != nil {
				return nil, err
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStatementResult(b, res)
			if len(b) > t.cl.Exec.MaxResponseBytes {
				return nil, engine.ErrResultTooLarge
			}
		}
		return append(b, "]}"...), nil
	}
	resp, err := a.onSession(ctx, t, "", run)
	return t.cl.Name, resp, err
}

func appendStatementResult(b []byte, res *engine.Result) []byte {
	b = append(b, `{"numberOfRecordsUpdated":`...)
	b = strconv.AppendInt(b, res.RowsAffected, 10)
	if !res.HasResultSet {
		return append(b, '}')
	}
	b = append(b, `,"resultFrame":{"records":[`...)
	for i, row := range res.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"values":[`...)
		for j, v := range row {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendOldValue(b, v)
		}
		b = append(b, "]}"...)
	}
	b = append(b, `],"resultSetMetadata":{"columnCount":`...)
	b = strconv.AppendInt(b, int64(len(res.Columns)), 10)
	b = append(b, `,"columnMetadata":[`...)
	for i, c := range res.Columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendColumn(b, c)
	}
	return append(b, "]}}"...)
}

// appendOldValue writes the deprecated Value union.
func appendOldValue(b []byte, v engine.Value) []byte {
	switch v.Kind {
	case engine.KindBool:
		return append(strconv.AppendBool(append(b, `{"bitValue":`...), v.Bool), '}')
	case engine.KindLong:
		return append(strconv.AppendInt(append(b, `{"bigIntValue":`...), v.Long, 10), '}')
	case engine.KindDouble:
		return append(appendDouble(append(b, `{"doubleValue":`...), v.Double), '}')
	case engine.KindString:
		return append(appendString(append(b, `{"stringValue":`...), v.String), '}')
	case engine.KindBlob:
		return append(appendString(append(b, `{"blobValue":`...), base64.StdEncoding.EncodeToString(v.Blob)), '}')
	case engine.KindArray:
		b = append(b, `{"arrayValues":[`...)
		for i, e := range v.Array {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendOldValue(b, e)
		}
		return append(b, "]}"...)
	}
	return append(b, `{"isNull":true}`...)
}

package dataapi

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// executeSQL is the deprecated ExecuteSql (POST /ExecuteSql): several
// ';'-separated statements, each answered with a SqlStatementResult whose
// records use the old Value union (bigIntValue, bitValue, …). It runs on a
// pooled connection with autocommit.
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
	run := func(c engine.Conn) ([]byte, error) {
		b := append(make([]byte, 0, 256), `{"sqlStatementResults":[`...)
		for i, stmt := range splitStatements(*req.SQLStatements) {
			res, err := a.runStatement(ctx, t.cl, c, stmt, nil, false)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStatementResult(b, res)
			if len(b) > t.cl.Limits.MaxResponseBytes {
				return nil, engine.ErrResultTooLarge
			}
		}
		return append(b, "]}"...), nil
	}
	resp, err := a.onConn(ctx, t, "", run)
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

// splitStatements splits a script at ';' outside quotes and comments and
// drops empty statements. It is deliberately simple: ExecuteSql is
// deprecated and exists for old clients.
func splitStatements(s string) []string {
	var out []string
	start := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				i = len(s)
			} else {
				i += end + 3
			}
		case c == ';':
			out = appendNonEmpty(out, s[start:i])
			start = i + 1
		}
	}
	return appendNonEmpty(out, s[start:])
}

func appendNonEmpty(out []string, s string) []string {
	if strings.TrimSpace(s) != "" {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

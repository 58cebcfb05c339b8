package endpoints

import (
	"encoding/base64"
	"encoding/json"
	"sort"
	"strconv"

	"github.com/sqlgate/sqlgate/internal/dataapi"
	"github.com/sqlgate/sqlgate/internal/engine"
)

// Responses are appended by hand, as the Data API's are: rows become
// objects keyed by column label with the Data API's JSON type mapping
// (formatRecordsAs=JSON: numbers, strings, booleans, null; DECIMAL as a
// string; binary as base64).

func appendJSONString(b []byte, s string) []byte { return dataapi.AppendJSONString(b, s) }

// appendRow appends one row as a JSON object.
func appendRow(b []byte, cols []engine.Column, row []engine.Value) []byte {
	b = append(b, '{')
	for i, v := range row {
		if i > 0 {
			b = append(b, ',')
		}
		label := ""
		if i < len(cols) {
			label = cols[i].Label
			if label == "" {
				label = cols[i].Name
			}
		}
		b = appendJSONString(b, label)
		b = append(b, ':')
		b = dataapi.AppendJSONValue(b, v)
	}
	return append(b, '}')
}

// appendItems writes a GET answer: {"items":[…],"next":"…"}; next is
// omitted on the last page.
func appendItems(b []byte, res *engine.Result, rows int, next string) []byte {
	b = append(b, `{"items":[`...)
	for i := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRow(b, res.Columns, res.Rows[i])
	}
	b = append(b, ']')
	if next != "" {
		b = append(b, `,"next":`...)
		b = appendJSONString(b, next)
	}
	return append(b, '}')
}

// appendWrite writes a POST/PUT/PATCH/DELETE answer:
// {"updated":N,"generated":{…}}. generated holds the first row a
// statement returned (INSERT … RETURNING), else MySQL's LAST_INSERT_ID as
// "id", else nothing.
func appendWrite(b []byte, updated int64, gen *engine.Result) []byte {
	b = strconv.AppendInt(append(b, `{"updated":`...), updated, 10)
	b = append(b, `,"generated":`...)
	switch {
	case gen != nil && gen.HasResultSet && len(gen.Rows) > 0:
		b = appendRow(b, gen.Columns, gen.Rows[0])
	case gen != nil && len(gen.Generated) > 0:
		b = append(b, `{"id":`...)
		b = dataapi.AppendJSONValue(b, gen.Generated[0])
		b = append(b, '}')
	default:
		b = append(b, "{}"...)
	}
	return append(b, '}')
}

// appendAny appends an error body extra (strings and numbers).
func appendAny(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendJSONString(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Cursors are opaque to clients: base64url of "o" and the row offset of
// the next page. Offsets page correctly only over a stable ORDER BY.
func encodeCursor(offset int64) string {
	return base64.RawURLEncoding.EncodeToString(strconv.AppendInt([]byte{'o'}, offset, 10))
}

func decodeCursor(s string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != 'o' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

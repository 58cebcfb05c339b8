package server

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// FuzzHandler_DataAPI posts arbitrary signed bodies to /Execute and
// /BatchExecute on the embedded SQLite cluster. Whatever the body, the
// server must not panic (a panicking handler drops the connection, which
// send reports) and must answer 200 or a 4xx, or 504
// DatabaseUnavailableException, never another 5xx; errors carry the same
// code in the x-amzn-ErrorType header and the body's __type.
func FuzzHandler_DataAPI(f *testing.F) {
	cfg := configFor()
	cfg.Clusters[0].Limits.StatementTimeout = 2 * time.Second
	env := startTestEnv(f, cfg)
	arn := env.clusterARN("default")
	seed := func(v any) []byte {
		b, _ := json.Marshal(v)
		return b
	}
	base := map[string]any{"resourceArn": arn, "secretArn": "default"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	for _, s := range []struct {
		batch bool
		body  []byte
	}{
		{false, seed(with("sql", "SELECT 1"))},
		{false, seed(with("sql", "SELECT :a, :b", "parameters", []any{
			map[string]any{"name": "a", "value": map[string]any{"longValue": 1}},
			map[string]any{"name": "b", "value": map[string]any{"blobValue": "AAE="}, "typeHint": "DECIMAL"}}))},
		{false, seed(with("sql", "SELECT 1.5 AS x", "includeResultMetadata", true, "formatRecordsAs", "JSON",
			"resultSetOptions", map[string]any{"decimalReturnType": "DOUBLE_OR_LONG", "longReturnType": "STRING"}))},
		{false, seed(with("sql", "SELECT 1", "transactionId", "nope", "continueAfterTimeout", true))},
		{false, seed(with("sql", "SELECT :x", "parameters", []any{map[string]any{"name": "x", "value": map[string]any{"doubleValue": "NaN"}}}))},
		{false, seed(with("sql", "SELECT :x", "parameters", []any{map[string]any{"name": "x", "value": map[string]any{"arrayValue": map[string]any{"longValues": []int{1}}}}}))},
		{true, seed(with("sql", "SELECT :x", "parameterSets", [][]any{{map[string]any{"name": "x", "value": map[string]any{"isNull": true}}}, {}}))},
		{true, seed(with("sql", "SELECT 1", "parameterSets", []any{}))},
		{false, []byte(`{"sql":`)},
		{false, []byte(`null`)},
		{true, []byte(`{"parameterSets":[[{"value":{"longValue":1e400}}]]}`)},
		{false, []byte{0xff, 0xfe, '{'}},
	} {
		f.Add(s.batch, s.body)
	}
	f.Fuzz(func(t *testing.T, batch bool, body []byte) {
		path := "/Execute"
		if batch {
			path = "/BatchExecute"
		}
		got := env.send(t, rawRequest{Path: path, Body: body})
		switch {
		case got.Status == http.StatusOK:
			if !json.Valid(got.Body) || got.ErrorType != "" {
				t.Fatalf("200 with header %q and body %s", got.ErrorType, got.Body)
			}
		case got.Status == http.StatusGatewayTimeout && got.Type == "DatabaseUnavailableException",
			got.Status >= 400 && got.Status < 500:
			if got.Type == "" || got.ErrorType != got.Type {
				t.Fatalf("%d with header %q and __type %q: %s", got.Status, got.ErrorType, got.Type, got.Body)
			}
		default:
			t.Fatalf("status %d %s for body %q\n%s", got.Status, got.Body, body, env.logs)
		}
	})
}

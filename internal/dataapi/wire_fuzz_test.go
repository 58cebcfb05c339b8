package dataapi

import (
	"testing"
)

// FuzzDecodeExecute feeds arbitrary bodies to the ExecuteStatement and
// BatchExecuteStatement decoders and parameter conversion: they must
// return a value or an AWS error, never panic.
func FuzzDecodeExecute(f *testing.F) {
	f.Add([]byte(`{"resourceArn":"arn:aws:rds:us-east-1:000000000000:cluster:default","secretArn":"default","sql":"select :a","parameters":[{"name":"a","value":{"longValue":42}}]}`))
	f.Add([]byte(`{"parameters":[{"name":"d","value":{"doubleValue":"NaN"}},{"name":"b","value":{"blobValue":"aGVsbG8="}},{"name":"s","typeHint":"JSON","value":{"stringValue":"{}"}}]}`))
	f.Add([]byte(`{"parameters":[{"name":"x","value":{"arrayValue":{"longValues":[1,2]}}}]}`))
	f.Add([]byte(`{"parameters":[{"name":"x","value":{"isNull":true,"longValue":1}}]}`))
	f.Add([]byte(`{"parameterSets":[[{"name":"x","value":{"longValue":1e99}}]]}`))
	f.Add([]byte(`{"resultSetOptions":{"decimalReturnType":"DOUBLE_OR_LONG","longReturnType":"STRING"},"formatRecordsAs":"JSON"}`))
	f.Add([]byte(`[`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req executeRequest
		if err := decodeJSON(body, &req); err == nil {
			_, _ = toParams(req.Parameters)
			_, _ = parseOptions(req.ResultSetOptions, req.FormatRecordsAs)
		}
		var batch batchRequest
		if err := decodeJSON(body, &batch); err == nil {
			for _, ps := range batch.ParameterSets {
				_, _ = toParams(ps)
			}
		}
	})
}

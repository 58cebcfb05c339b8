package dataapi

import (
	"encoding/json"
	"reflect"
	"testing"
)

var fastSeeds = []string{
	`{"resourceArn":"arn:aws:rds:us-east-1:000000000000:cluster:pg","secretArn":"app-pg","sql":"SELECT 1"}`,
	`{"resourceArn":"arn","secretArn":"s","sql":"INSERT INTO t (v) VALUES (:v)","parameters":[{"name":"v","value":{"longValue":7}}]}`,
	` { "sql" : "SELECT \"x\"\n\t\\ \/", "database":"db", "schema":"s", "transactionId":"tx", "includeResultMetadata":true, "continueAfterTimeout":false } `,
	`{"parameters":[],"formatRecordsAs":"JSON"}`,
	`{"parameters":[{"name":"d","value":{"doubleValue":-1.5e-3}},{"name":"b","value":{"blobValue":"aGVsbG8="}},{"name":"s","typeHint":"JSON","value":{"stringValue":"{}"}}]}`,
	`{"parameters":[{"name":"n","value":{"isNull":true}},{"name":"t","value":{"booleanValue":false}},{"name":"e","value":{}}]}`,
	`{"sql":"héllo wörld ✓"}`,
	`{}`,
	// Left to encoding/json:
	`{"sql":"SELECT 1","sql":"SELECT 2"}`,
	`{"SQL":"case-insensitive match"}`,
	`{"sql":null}`,
	`{"sql":"\u00e9"}`,
	`{"sql":"bad \xff utf8"}`,
	`{"parameters":[{"name":"x","value":{"arrayValue":{"longValues":[1,2]}}}]}`,
	`{"parameters":[{"name":"x","value":{"longValue":"5"}}]}`,
	`{"parameters":[{"name":"x","value":{"longValue":01}}]}`,
	`{"unknown":1,"sql":"x"}`,
	`{"sql":"x"} trailing`,
	`[`,
	``,
}

// FuzzDecodeExecuteFast: whatever the fast decoder accepts, encoding/json
// accepts too and decodes to the same request.
func FuzzDecodeExecuteFast(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast executeRequest
		if !decodeExecuteFast(body, &fast) {
			return
		}
		var slow executeRequest
		if err := json.Unmarshal(body, &slow); err != nil {
			t.Fatalf("%q: fast decoder accepted what encoding/json refuses: %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\njson %+v", body, fast, slow)
		}
	})
}

// TestDecodeExecuteFast_Coverage: the common shapes take the fast path.
func TestDecodeExecuteFast_Coverage(t *testing.T) {
	for _, s := range fastSeeds[:8] {
		var r executeRequest
		if !decodeExecuteFast([]byte(s), &r) {
			t.Errorf("fast path refused %s", s)
		}
	}
	for _, s := range fastSeeds[8:] {
		var r executeRequest
		if decodeExecuteFast([]byte(s), &r) {
			t.Errorf("fast path accepted %s", s)
		}
	}
}

func BenchmarkDecodeExecute(b *testing.B) {
	body := []byte(fastSeeds[1])
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r executeRequest
			if !decodeExecuteFast(body, &r) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r executeRequest
			if err := json.Unmarshal(body, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

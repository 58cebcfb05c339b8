package dataapi

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
)

func TestEncode_Double(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{123, "123.0"}, {0, "0.0"}, {0.1, "0.1"}, {-2.5, "-2.5"}, {10, "10.0"},
		{1e10, "1.0E10"}, {1.7976931348623157e308, "1.7976931348623157E308"},
		{1e-4, "1.0E-4"}, {9999999, "9999999.0"}, {math.NaN(), `"NaN"`}, {math.Inf(-1), `"-Infinity"`},
	}
	for _, tt := range tests {
		if got := string(appendDouble(nil, tt.in)); got != tt.want {
			t.Errorf("appendDouble(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestEncode_DoubleText: a double given as its shortest digits, in any of
// the forms strconv and PostgreSQL print, encodes exactly as the parsed
// value does.
func TestEncode_DoubleText(t *testing.T) {
	specials := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 100, 1e-3, 0.0009999999999999998, 0.0010000000000000002,
		9999999, 9999999.999999998, 1e7, 1e15, 1e16, 1e21, 1e22, 1.2345678901234568e20, 5e-324, 2.2250738585072014e-308,
		math.MaxFloat64, 1.0 / 3, 123456.789, 0.30000000000000004, math.NaN(), math.Inf(1), math.Inf(-1)}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		specials = append(specials, math.Float64frombits(r.Uint64()))
	}
	for i := range 2000 {
		specials = append(specials, float64(r.Int64N(1<<53))*math.Pow(10, float64(i%40-20)))
	}
	for _, f := range specials {
		want := string(appendDouble(nil, f))
		// The exponent forms always hold the shortest digits alone; the
		// fixed form may need more than appendDoubleText reads.
		forms := []string{strconv.FormatFloat(f, 'e', -1, 64), strconv.FormatFloat(f, 'g', -1, 64), strconv.FormatFloat(f, 'E', -1, 64)}
		fixed := strconv.FormatFloat(f, 'f', -1, 64)
		switch {
		case math.IsNaN(f):
			forms = []string{"NaN"}
		case math.IsInf(f, 1):
			forms = []string{"Infinity"}
		case math.IsInf(f, -1):
			forms = []string{"-Infinity"}
		}
		for k, s := range append(forms, fixed) {
			got, ok := appendDoubleText(nil, s)
			if !ok && k < len(forms) {
				t.Fatalf("appendDoubleText(%q) refused it", s)
			}
			if ok && string(got) != want {
				t.Fatalf("appendDoubleText(%q) = %s, appendDouble(%v) = %s", s, got, f, want)
			}
		}
	}
	for _, s := range []string{"", "-", ".", "e5", "1e", "1x", "1.2.3", "--1", "1e+-5", "12345678901234567890123456"} {
		if got, ok := appendDoubleText(nil, s); ok {
			t.Errorf("appendDoubleText(%q) = %s, want refused", s, got)
		}
	}
}

func TestEncode_String(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "\b \n \r \t \f", "\x00\x1f", "邓不利多", "bad\xffutf8", "\u2028"} {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q → %s: %v", s, b, err)
		}
		if s == "bad\xffutf8" {
			continue
		}
		if got != s {
			t.Errorf("round trip %q → %q", s, got)
		}
	}
}

func TestEncode_Field(t *testing.T) {
	tests := []struct {
		name string
		v    engine.Value
		dec  bool
		o    mapOptions
		want string
	}{
		{"null", engine.Null(), false, mapOptions{}, `{"isNull":true}`},
		{"long", engine.Long(-9223372036854775808), false, mapOptions{}, `{"longValue":-9223372036854775808}`},
		{"long as string", engine.Long(7), false, mapOptions{longAsString: true}, `{"stringValue":"7"}`},
		{"decimal string", engine.String("0.10"), true, mapOptions{}, `{"stringValue":"0.10"}`},
		{"decimal as double", engine.String("0.10"), true, mapOptions{decimalAsNumber: true}, `{"doubleValue":0.1}`},
		{"decimal as long", engine.String("42"), true, mapOptions{decimalAsNumber: true}, `{"longValue":42}`},
		{"blob", engine.Blob([]byte("hello")), false, mapOptions{}, `{"blobValue":"aGVsbG8="}`},
		{"bool", engine.Bool(true), false, mapOptions{}, `{"booleanValue":true}`},
		{"array", engine.Value{Kind: engine.KindArray, ElemKind: engine.KindLong, Array: []engine.Value{engine.Long(1), engine.Null(), engine.Long(3)}}, false, mapOptions{}, `{"arrayValue":{"longValues":[1,null,3]}}`},
		{"empty array", engine.Value{Kind: engine.KindArray, ElemKind: engine.KindString}, false, mapOptions{}, `{"arrayValue":{"stringValues":[]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendField(nil, tt.v, tt.dec, tt.o)); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEncode_Execute(t *testing.T) {
	res := &engine.Result{HasResultSet: true,
		Columns: []engine.Column{{Name: "id", Label: "id"}, {Name: "type", Label: "type"}, {Name: "price", Label: "price"}},
		Rows:    [][]engine.Value{{engine.String("111"), engine.String("dog"), engine.Double(123)}}}
	got, err := encodeExecute(res, false, options{}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"numberOfRecordsUpdated":0,"records":[[{"stringValue":"111"},{"stringValue":"dog"},{"doubleValue":123.0}]]}`
	if string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	got, _ = encodeExecute(res, false, options{json: true}, 1<<20)
	want = `{"formattedRecords":"[{\"id\":\"111\",\"type\":\"dog\",\"price\":123.0}]","numberOfRecordsUpdated":0}`
	if string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	dml := &engine.Result{RowsAffected: 1, Generated: []engine.Value{}}
	got, _ = encodeExecute(dml, true, options{}, 1<<20)
	if want := `{"generatedFields":[],"numberOfRecordsUpdated":1}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if _, err := encodeExecute(res, false, options{}, 10); err != engine.ErrResultTooLarge {
		t.Fatalf("err = %v, want ErrResultTooLarge", err)
	}
}

func TestSplitStatements(t *testing.T) {
	got := engine.Split("select 1; select ';' ; -- c;\n /* ; */ select 2;", engine.DialectMySQL)
	if len(got) != 3 || got[1] != "select ';'" {
		t.Fatalf("got %q", got)
	}
}

// BenchmarkEncodeExecute100Rows encodes the benchmark's 100-row × 10-column
// result (bench/dataapi_cpu.sh, case rows100).
func BenchmarkEncodeExecute100Rows(b *testing.B) {
	res := &engine.Result{HasResultSet: true, Decimal: make([]bool, 10)}
	res.Decimal[6] = true
	for i := range 100 {
		res.Rows = append(res.Rows, []engine.Value{
			engine.Long(int64(i)), engine.Long(int64(i * 7)), engine.Long(int64(i) * 1000003),
			engine.String("name-" + string(rune('a'+i%26))), engine.String("5d41402abc4b2a76b9719d911017c592"),
			engine.Double(float64(i) / 3), engine.String("12.50"), engine.String("2024-01-02 03:04:05"),
			engine.Bool(i%2 == 0), engine.String("xxxxxxxxxxxxxxxxxxxx"),
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		out, err := encodeExecute(res, false, options{}, 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		putBuf(out) // as serve does once the response is written
	}
}

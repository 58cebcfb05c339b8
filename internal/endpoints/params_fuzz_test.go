package endpoints

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine"
)

func fuzzDecoder(t testing.TB) *decoder {
	one, ten := 1.0, 10.0
	d, err := newDecoder(map[string]config.Param{
		"key1": {From: "body", Type: "string", Required: true, MaxLength: 5},
		"key2": {From: "body", Type: "integer", Min: &one, Max: &ten},
		"key3": {From: "body", Type: "number"},
		"key4": {From: "body", Type: "boolean"},
		"key5": {From: "body", Type: "string", Pattern: "^[a-z]*$"},
		"q":    {From: "query", Type: "integer"},
		"h":    {From: "header", Type: "number", Name: "X-H"},
		"id":   {From: "path", Type: "string"},
	}, "limit", "next")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// FuzzDecoder feeds arbitrary bodies, query strings and header values to
// the param decoder: it must not panic, must fail only with *ParamError,
// and on success bind every param with a value of its declared type
// within its bounds.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{`{"key1":"abc","key2":3,"key3":1.5e3,"key4":true,"key5":"x"}`, `{}`, `[]`, `null`,
		`{"key1":"\u00e9\u00e9\u00e9\u00e9\u00e9"}`, `{"key1":"a","key2":1e1}`, `{"key1":"a","key1":"b"}`, `{"key1":"a","key2":99999999999999999999}`} {
		f.Add([]byte(s), "q=1", "2.5", "x")
	}
	f.Add([]byte(`{"key1":"a"}`), "q=%zz&limit=3", "NaN", "%2F")
	d := fuzzDecoder(f)
	f.Fuzz(func(t *testing.T, body []byte, rawQuery, hdr, path string) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		h := http.Header{}
		h.Set("X-H", hdr)
		params, err := d.decode(map[string]string{"id": path}, q, h, body)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Field == "" {
				t.Fatalf("error %v (%T) is not a *ParamError naming a field", err, err)
			}
			return
		}
		if len(params) != 8 {
			t.Fatalf("bound %d params, want 8", len(params))
		}
		want := map[string]engine.Kind{"key1": engine.KindString, "key2": engine.KindLong, "key3": engine.KindDouble,
			"key4": engine.KindBool, "key5": engine.KindString, "q": engine.KindLong, "h": engine.KindDouble, "id": engine.KindString}
		for _, p := range params {
			if p.Value.Kind != engine.KindNull && p.Value.Kind != want[p.Name] {
				t.Fatalf("%s bound as kind %d", p.Name, p.Value.Kind)
			}
			switch p.Name {
			case "key1":
				if p.Value.Kind == engine.KindNull || utf8.RuneCountInString(p.Value.String) > 5 {
					t.Fatalf("key1 = %+v", p.Value)
				}
			case "key2":
				if p.Value.Kind == engine.KindLong && (p.Value.Long < 1 || p.Value.Long > 10) {
					t.Fatalf("key2 = %d out of bounds", p.Value.Long)
				}
			}
		}
	})
}

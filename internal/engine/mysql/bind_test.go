package mysql

import (
	"errors"
	"math"
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
)

func TestBind(t *testing.T) {
	tests := []struct {
		name    string
		p       engine.Param
		want    any
		wantErr bool
	}{
		{"null", engine.Param{Name: "a", Value: engine.Null()}, nil, false},
		{"bool", engine.Param{Name: "a", Value: engine.Bool(true)}, true, false},
		{"long", engine.Param{Name: "a", Value: engine.Long(-7)}, int64(-7), false},
		{"double", engine.Param{Name: "a", Value: engine.Double(1.5)}, 1.5, false},
		{"nan", engine.Param{Name: "a", Value: engine.Double(math.NaN())}, nil, true},
		{"string", engine.Param{Name: "a", Value: engine.String("x")}, "x", false},
		{"date", engine.Param{Name: "a", Value: engine.String("2021-01-02"), Hint: engine.HintDate}, "2021-01-02", false},
		{"bad date", engine.Param{Name: "a", Value: engine.String("2021-01-02 00:00"), Hint: engine.HintDate}, nil, true},
		{"time", engine.Param{Name: "a", Value: engine.String("10:11:12.5"), Hint: engine.HintTime}, "10:11:12.5", false},
		{"bad time", engine.Param{Name: "a", Value: engine.String("10:11"), Hint: engine.HintTime}, nil, true},
		{"timestamp", engine.Param{Name: "a", Value: engine.String("2021-01-02 10:11:12"), Hint: engine.HintTimestamp}, "2021-01-02 10:11:12", false},
		{"bad timestamp", engine.Param{Name: "a", Value: engine.String("2021-01-02T10:11:12Z"), Hint: engine.HintTimestamp}, nil, true},
		{"decimal", engine.Param{Name: "a", Value: engine.String("-1.50e3"), Hint: engine.HintDecimal}, "-1.50e3", false},
		{"bad decimal", engine.Param{Name: "a", Value: engine.String("1,5"), Hint: engine.HintDecimal}, nil, true},
		{"json", engine.Param{Name: "a", Value: engine.String(`{"a":1}`), Hint: engine.HintJSON}, `{"a":1}`, false},
		{"bad json", engine.Param{Name: "a", Value: engine.String(`{a:1}`), Hint: engine.HintJSON}, nil, true},
		{"uuid", engine.Param{Name: "a", Value: engine.String("u"), Hint: engine.HintUUID}, "u", false},
		{"unknown hint", engine.Param{Name: "a", Value: engine.String("u"), Hint: "BOGUS"}, nil, true},
		{"array", engine.Param{Name: "a", Value: engine.Value{Kind: engine.KindArray}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bind([]engine.Param{tt.p})
			if tt.wantErr {
				var pe *engine.ParamError
				var de *engine.DBError
				if !errors.As(err, &pe) && !errors.As(err, &de) {
					t.Fatalf("err = %v, want ParamError or DBError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Value != tt.want || got[0].Ordinal != 1 {
				t.Fatalf("bind = %#v, want %#v", got[0], tt.want)
			}
		})
	}
	got, err := bind([]engine.Param{{Name: "b", Value: engine.Blob(nil)}})
	if err != nil || got[0].Value == nil {
		t.Fatalf("empty blob bound as %#v, %v; want non-nil []byte", got, err)
	}
}

package postgres

import (
	"errors"
	"reflect"
	"testing"
)

func TestFraction(t *testing.T) {
	tests := []struct{ in, want string }{
		{"22:41:04", "22:41:04"},
		{"22:41:04.1", "22:41:04.100"},
		{"22:41:04.123", "22:41:04.123"},
		{"22:41:04.1234", "22:41:04.123400"},
		{"22:41:04.123456", "22:41:04.123456"},
		{"22:41:04.000", "22:41:04"},
		{"2021-03-10 20:41:04.06", "2021-03-10 20:41:04.060"},
		{"0044-03-15 12:00:00.5 BC", "0044-03-15 12:00:00.500 BC"},
		{"infinity", "infinity"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := fraction(tt.in); got != tt.want {
				t.Fatalf("fraction(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStripUTC(t *testing.T) {
	for in, want := range map[string]string{
		"2021-03-10 20:41:04+00":    "2021-03-10 20:41:04",
		"0044-03-15 12:00:00+00 BC": "0044-03-15 12:00:00 BC",
		"infinity":                  "infinity",
	} {
		if got := stripUTC(in); got != want {
			t.Errorf("stripUTC(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseArray(t *testing.T) {
	s := func(v string) *string { return &v }
	tests := []struct {
		in   string
		want []*string
		err  error
	}{
		{`{}`, []*string{}, nil},
		{`{1,NULL,3}`, []*string{s("1"), nil, s("3")}, nil},
		{`{"a b","NULL","x\"y","z\\w",""}`, []*string{s("a b"), s("NULL"), s(`x"y`), s(`z\w`), s("")}, nil},
		{`[0:1]={7,8}`, []*string{s("7"), s("8")}, nil},
		{`{{1,2},{3,4}}`, nil, errMultiDim},
		{`[1:2][1:1]={{1},{2}}`, nil, errMultiDim},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseArray(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseArray(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{"a}`, `{"a"b}`, `[1:2`} {
		if _, err := parseArray(bad); err == nil {
			t.Errorf("parseArray(%q) succeeded", bad)
		}
	}
}

func FuzzParseArray(f *testing.F) {
	for _, s := range []string{`{}`, `{1,NULL}`, `{"a\"b",c}`, `[0:1]={1,2}`, `{{1}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		items, err := parseArray(s)
		if err == nil && items == nil {
			t.Fatalf("parseArray(%q) = nil, nil", s)
		}
	})
}

func FuzzFraction(f *testing.F) {
	f.Add("12:00:00.1")
	f.Fuzz(func(t *testing.T, s string) { fraction(s) })
}

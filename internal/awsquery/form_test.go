package awsquery

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestParseForm(t *testing.T) {
	tests := []struct {
		body    string
		want    url.Values
		wantErr error
		repeat  string
	}{
		{body: "Action=ListUsers&Version=2010-05-08", want: url.Values{"Action": {"ListUsers"}, "Version": {"2010-05-08"}}},
		{body: "", want: url.Values{}},
		{body: "a=%zz", wantErr: ErrMalformed},
		{body: "a=1&b=2&a=3", repeat: "a"},
	}
	for _, tt := range tests {
		got, err := ParseForm(tt.body)
		var re *RepeatedError
		switch {
		case tt.repeat != "":
			if !errors.As(err, &re) || re.Key != tt.repeat {
				t.Errorf("ParseForm(%q) err = %v, want repeated %q", tt.body, err, tt.repeat)
			}
		case tt.wantErr != nil:
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseForm(%q) err = %v, want %v", tt.body, err, tt.wantErr)
			}
		case err != nil || got.Encode() != tt.want.Encode():
			t.Errorf("ParseForm(%q) = %v, %v; want %v", tt.body, got, err, tt.want)
		}
	}
}

func TestIndexes(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		max     int
		want    []int
		wantErr error
	}{
		{"sorted, structures counted once", "Tags.member.10.Key=a&Tags.member.2.Key=b&Tags.member.2.Value=c&Other.member.1=x", 5, []int{2, 10}, nil},
		{"none", "Action=X", 5, []int{}, nil},
		{"zero", "Tags.member.0=a", 5, nil, ErrIndex},
		{"leading zero", "Tags.member.01=a", 5, nil, ErrIndex},
		{"not a number", "Tags.member.x=a", 5, nil, ErrIndex},
		{"too many", "Tags.member.1=a&Tags.member.2=b&Tags.member.3=c", 2, nil, ErrTooMany},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseForm(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Indexes(v, "Tags.member", tt.max)
			if !errors.Is(err, tt.wantErr) || !slices.Equal(got, tt.want) {
				t.Errorf("Indexes = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestMember(t *testing.T) {
	v, _ := ParseForm("Tags.member.1.Key=a&Tags.member.1.Value=b&Tags.member.12.Key=c")
	got := Member(v, "Tags.member", 1)
	if got.Encode() != "Key=a&Value=b" {
		t.Errorf("Member 1 = %v", got)
	}
}

// FuzzParseForm: any body is decoded or refused, never a panic, and a
// decoded form has each key once and list indexes that are positive.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{"Action=ListUsers", "Tags.member.1.Key=a&Tags.member.1.Value=b", "a=1&a=2", "%", "L.member.01=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		v, err := ParseForm(body)
		if err != nil {
			return
		}
		for k, vals := range v {
			if len(vals) != 1 {
				t.Fatalf("key %q has %d values", k, len(vals))
			}
		}
		for k := range v {
			prefix, _, ok := strings.Cut(k, ".")
			if !ok {
				continue
			}
			idx, err := Indexes(v, prefix, 1000)
			for _, n := range idx {
				if n < 1 || err != nil {
					t.Fatalf("index %d (err %v) for %q", n, err, prefix)
				}
			}
		}
	})
}

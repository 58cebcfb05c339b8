package secrets

import (
	"strings"
	"testing"
	"time"
)

func TestParseRules_Next(t *testing.T) {
	base := time.Date(2026, 11, 24, 7, 35, 0, 0, time.UTC) // a Tuesday
	tests := []struct {
		rules Rules
		want  time.Time
	}{
		{Rules{AfterDays: 30}, base.AddDate(0, 0, 30)},
		{Rules{Schedule: "rate(10 days)"}, base.AddDate(0, 0, 10)},
		{Rules{Schedule: "rate(4 hours)", Duration: "1h"}, base.Add(4 * time.Hour)},
		{Rules{Schedule: "cron(0 16 ? * MON *)"}, time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)},
		{Rules{Schedule: "cron(0 8 1 * ? *)"}, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
		{Rules{Schedule: "cron(30 7,9 ? * TUE-THU *)"}, time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)},
		{Rules{Schedule: "cron(0 0 29 FEB ? 2028)"}, time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{Rules{Schedule: "cron(0 */6 ? * * *)"}, time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		s, err := ParseRules(tt.rules)
		if err != nil {
			t.Fatalf("%+v: %v", tt.rules, err)
		}
		if got := s.Next(base); !got.Equal(tt.want) {
			t.Errorf("%+v: next = %v, want %v", tt.rules, got, tt.want)
		}
	}
	for _, bad := range []Rules{
		{AfterDays: 1001}, {AfterDays: -1}, {AfterDays: 1, Schedule: "rate(1 day)"}, {Schedule: "rate(3 hours)"},
		{Schedule: "rate(1001 days)"}, {Schedule: "rate(x days)"}, {Schedule: "rate(2 weeks)"}, {Schedule: "cron(0 4 * * * *)"},
		{Schedule: "cron(0 4 ? * *)"}, {Schedule: "cron(61 4 ? * * *)"}, {Schedule: "cron(0 4 L * ? *)"}, {Schedule: "cron(0 4 ? * 2#1 *)"},
		{Schedule: "at(2026-01-01)"}, {AfterDays: 1, Duration: "24h"}, {Schedule: "cron(0 4 ? * * *)", Duration: "0h"}, {Duration: "3"},
	} {
		if _, err := ParseRules(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestRandomPassword(t *testing.T) {
	for i := 0; i < 200; i++ {
		pw, err := RandomPassword(PasswordSpec{Length: 5, Space: true, RequireEach: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range []string{Lowercase, Uppercase, Digits, Punctuation, " "} {
			if !strings.ContainsAny(pw, set) {
				t.Fatalf("%q lacks a character of %q", pw, set)
			}
		}
	}
	pw, err := RandomPassword(PasswordSpec{Length: 4096, NoPunctuation: true, Exclude: "aeiou"})
	if err != nil || len(pw) != 4096 || strings.ContainsAny(pw, Punctuation+"aeiou ") {
		t.Fatalf("len %d, err %v", len(pw), err)
	}
	if _, err := RandomPassword(PasswordSpec{Length: 0}); err == nil {
		t.Fatal("length 0 accepted")
	}
}

// FuzzParseRules: any rule either fails with a *ParamError or yields a
// schedule whose next time is after the base (or zero for a cron that
// never fires).
func FuzzParseRules(f *testing.F) {
	for _, s := range []string{"rate(4 hours)", "rate(10 days)", "cron(0 16 ? * MON *)", "cron(0 */6 ? * * *)",
		"cron(0 0 29 FEB ? 2028)", "cron(5/15 1-3 ? JAN-MAR SUN,SAT 2030-2031)", "cron(0 0 ? * 8 *)", "cron()", "rate()"} {
		f.Add(s, "2h", int64(0))
	}
	f.Add("", "", int64(7))
	base := time.Date(2026, 11, 24, 7, 35, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, sched, dur string, days int64) {
		s, err := ParseRules(Rules{Schedule: sched, Duration: dur, AfterDays: days})
		if err != nil {
			if _, ok := err.(*ParamError); !ok {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if s == nil {
			return
		}
		if n := s.Next(base); !n.IsZero() && !n.After(base) {
			t.Fatalf("next %v not after base", n)
		}
	})
}

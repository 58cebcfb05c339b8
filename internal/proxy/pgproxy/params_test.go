package pgproxy

import (
	"fmt"
	"testing"
)

// replaySQL sets what differs and resets what the client never set, and
// says nothing when both sides hold the same parameters.
func TestReplaySQL(t *testing.T) {
	m := func(kv ...string) map[string]string {
		out := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	for _, tc := range []struct {
		want, have map[string]string
		sql        string
	}{
		{m(), m(), ""},
		{nil, m(), ""},
		{m("a", "1", "b", "2"), m("b", "2", "a", "1"), ""},
		{m("a", "1"), m("a", "2"), "SELECT pg_catalog.set_config('a', '1', false);"},
		{m("a", "1"), m(), "SELECT pg_catalog.set_config('a', '1', false);"},
		{m(), m("a", "1"), `RESET "a";`},
		// Same size, different names: one set, one reset.
		{m("a", "1"), m("b", "1"), `SELECT pg_catalog.set_config('a', '1', false);RESET "b";`},
	} {
		if got := replaySQL(tc.want, tc.have); got != tc.sql {
			t.Errorf("replaySQL(%v, %v) = %q, want %q", tc.want, tc.have, got, tc.sql)
		}
	}
}

// TestParamSets: equal parameter sets get one id, different ones
// different ids; a set holding an unknown value, or one beyond the bound,
// gets none (0), so that replay compares the maps.
func TestParamSets(t *testing.T) {
	var ps paramSets
	a := ps.id(map[string]string{"application_name": "x", "search_path": "s"})
	b := ps.id(map[string]string{"search_path": "s", "application_name": "x"})
	if a == 0 || a != b {
		t.Fatalf("equal sets: ids %d and %d", a, b)
	}
	for _, m := range []map[string]string{
		{"application_name": "x"},
		{"application_name": "x", "search_path": "t"},
		{"application_name": "x\x00search_path", "": "s"}, // would read as the first set without the NUL rule
		{},
	} {
		if id := ps.id(m); id == a {
			t.Fatalf("set %q got the id of another", m)
		}
	}
	if id := ps.id(map[string]string{"search_path": unknownParam}); id != 0 {
		t.Fatalf("a set with an unknown value got id %d", id)
	}
	for i := range maxParamSets {
		ps.id(map[string]string{"application_name": fmt.Sprint(i)})
	}
	if id := ps.id(map[string]string{"application_name": "one more"}); id != 0 {
		t.Fatalf("a set beyond the bound got id %d", id)
	}
	if id := ps.id(map[string]string{"search_path": "s", "application_name": "x"}); id != a {
		t.Fatalf("a named set lost its id: %d", id)
	}
}

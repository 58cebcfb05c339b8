package pgproxy

import "testing"

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

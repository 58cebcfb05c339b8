package identity

import (
	"regexp"
	"strings"
	"testing"
)

// tagText accepts exactly what IAM's tag patterns (as regular
// expressions) accept.
func TestTagText(t *testing.T) {
	key := regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	value := regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
	cases := []string{"", "a", "team:db", "Ünïcødé 名前 ٣", "a\u2028b", "x y", "bad!", "tab\there", "\xff", "a\xffb",
		"emoji😀", "under_score.colon:/eq=plus+dash-at@", strings.Repeat("k", 128), strings.Repeat("k", 129),
		strings.Repeat("é", 256), strings.Repeat("é", 257), "$", "a#b", "\x00"}
	for _, c := range cases {
		if got, want := tagText(c, 1, 128), key.MatchString(c); got != want {
			t.Errorf("key %q: %v, the pattern says %v", c, got, want)
		}
		if got, want := tagText(c, 0, 256), value.MatchString(c); got != want {
			t.Errorf("value %q: %v, the pattern says %v", c, got, want)
		}
	}
}

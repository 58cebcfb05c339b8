// Package sqlshapetest makes texts of one shape for the tests that check
// a dialect's sqlshape.Rule against that dialect's own reader.
package sqlshapetest

import "github.com/sqlgate/sqlgate/internal/sqlshape"

// RewriteNumbers replaces every run of digits of s that r takes for a
// numeric literal by one to three digits taken in turn from the digits of
// digits ("7" when it has none): a text r.Same pairs with s.
func RewriteNumbers(r *sqlshape.Rule, s, digits string) string {
	var pool []byte
	for i := range len(digits) {
		if sqlshape.IsDigit(digits[i]) {
			pool = append(pool, digits[i])
		}
	}
	if len(pool) == 0 {
		pool = []byte("7")
	}
	out, k := []byte(nil), 0
	for i := 0; i < len(s); {
		end := i
		for end < len(s) && sqlshape.IsDigit(s[end]) {
			end++
		}
		if end == i || i > 0 && !r.Before[s[i-1]] || end < len(s) && !r.After[s[end]] {
			out = append(out, s[i:max(end, i+1)]...)
			i = max(end, i+1)
			continue
		}
		for range 1 + (int(pool[k%len(pool)])+end-i)%3 {
			out = append(out, pool[k%len(pool)])
			k++
		}
		i = end
	}
	return string(out)
}

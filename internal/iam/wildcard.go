package iam

import (
	"strings"
	"unicode/utf8"
)

// Wildcard matching for Action, Resource, StringLike and ArnLike.
//
// `*` matches any run of characters (including none) and `?` exactly one
// character (one UTF-8 rune), as documented for the Resource element:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
//
// The matcher never backtracks across stars: a pattern is split at `*` into
// segments; the first is anchored at the start, the last at the end, and every
// middle segment is matched at its leftmost position. Because a segment always
// covers a fixed number of runes, the leftmost match also ends earliest, so
// greedy placement is exact. Cost is O(len(s)·len(segment)) in the worst case
// and O(len(s)+len(pattern)) for `?`-free segments (strings.Index), never
// exponential, so hostile patterns like "a*a*a*…b" stay cheap.

// piece is a run of pattern text. When wild is set, '*' and '?' in text are
// wildcards; otherwise they are literal (substituted policy variables and the
// ${*} ${?} ${$} escapes).
type piece struct {
	text string
	wild bool
}

// segment is the text between two stars: literal runs separated by single
// one-rune `?` wildcards. parts has len(qs)+1 entries.
type segment struct {
	parts []string
}

// pattern is a compiled wildcard pattern.
type pattern struct {
	segs []segment // len(segs) == stars+1
	fold bool      // ASCII case-insensitive (actions); parts are lower-cased
}

// compilePattern compiles p, in which both wildcards are active.
func compilePattern(p string, fold bool) pattern {
	return compilePieces([]piece{{text: p, wild: true}}, fold)
}

// compilePieces compiles a pattern assembled from pieces.
func compilePieces(pieces []piece, fold bool) pattern {
	pat := pattern{fold: fold}
	var cur segment
	var b strings.Builder
	flushPart := func() {
		s := b.String()
		if fold {
			s = lowerASCII(s)
		}
		cur.parts = append(cur.parts, s)
		b.Reset()
	}
	for _, pc := range pieces {
		if !pc.wild {
			b.WriteString(pc.text)
			continue
		}
		for i := 0; i < len(pc.text); i++ {
			switch c := pc.text[i]; c {
			case '*':
				flushPart()
				pat.segs = append(pat.segs, cur)
				cur = segment{}
			case '?':
				flushPart()
			default:
				b.WriteByte(c)
			}
		}
	}
	flushPart()
	pat.segs = append(pat.segs, cur)
	return pat
}

// match reports whether s matches the whole pattern.
func (p *pattern) match(s string) bool {
	n := len(p.segs)
	end, ok := p.segs[0].matchAt(s, 0, p.fold)
	if !ok {
		return false
	}
	if n == 1 {
		return end == len(s)
	}
	pos := end
	for i := 1; i < n-1; i++ {
		_, e, ok := p.segs[i].find(s, pos, p.fold)
		if !ok {
			return false
		}
		pos = e
	}
	return p.segs[n-1].matchSuffix(s, pos, p.fold)
}

// matchAt matches seg at byte offset i of s and returns the end offset.
func (seg *segment) matchAt(s string, i int, fold bool) (int, bool) {
	for k, part := range seg.parts {
		if k > 0 { // one `?` before every part but the first
			if i >= len(s) {
				return 0, false
			}
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		if len(s)-i < len(part) || !equalAt(s[i:i+len(part)], part, fold) {
			return 0, false
		}
		i += len(part)
	}
	return i, true
}

// find returns the leftmost match of seg in s at or after from.
func (seg *segment) find(s string, from int, fold bool) (start, end int, ok bool) {
	first := seg.parts[0]
	for i := from; i <= len(s); {
		if first != "" && !fold {
			j := strings.Index(s[i:], first)
			if j < 0 {
				return 0, 0, false
			}
			i += j
		}
		if e, ok := seg.matchAt(s, i, fold); ok {
			return i, e, true
		}
		if i == len(s) {
			break
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return 0, 0, false
}

// matchSuffix reports whether seg matches a suffix of s starting at or after from.
func (seg *segment) matchSuffix(s string, from int, fold bool) bool {
	if len(seg.parts) == 1 { // no `?`: a plain suffix test
		part := seg.parts[0]
		return len(s)-from >= len(part) && equalAt(s[len(s)-len(part):], part, fold)
	}
	for i := from; i <= len(s); {
		if e, ok := seg.matchAt(s, i, fold); ok && e == len(s) {
			return true
		}
		if i == len(s) {
			break
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return false
}

// equalAt compares s and a pattern part of equal length; with fold the part
// is already lower-case and s is folded byte by byte (ASCII only).
func equalAt(s, part string, fold bool) bool {
	if !fold {
		return s == part
	}
	for i := 0; i < len(part); i++ {
		if lowerByte(s[i]) != part[i] {
			return false
		}
	}
	return true
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// lowerASCII lower-cases ASCII letters only, returning s itself when unchanged.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerByte(b[j])
			}
			return string(b)
		}
	}
	return s
}

// hasWildcard reports whether s contains '*' or '?'.
func hasWildcard(s string) bool {
	return strings.ContainsAny(s, "*?")
}

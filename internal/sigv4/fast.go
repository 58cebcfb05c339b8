package sigv4

import (
	"crypto/sha256"
	"hash"
	"sync"
	"time"
)

// Allocation-free helpers for the per-request part of verification.

// macState is a pair of SHA-256 states reused across HMAC computations.
type macState struct {
	inner, outer hash.Hash
	pad          [sha256.BlockSize]byte
	sum          [sha256.Size]byte
}

var macPool = sync.Pool{New: func() any { return &macState{inner: sha256.New(), outer: sha256.New()} }}

// hmacSHA256 is HMAC-SHA256(key, msg) (RFC 2104) without the allocations
// of hmac.New: the hash states come from a pool.
func hmacSHA256(key, msg []byte) [sha256.Size]byte {
	if len(key) > sha256.BlockSize {
		k := sha256.Sum256(key)
		key = k[:]
	}
	m := macPool.Get().(*macState)
	defer macPool.Put(m)
	m.xorPad(key, 0x36)
	m.inner.Reset()
	m.inner.Write(m.pad[:])
	m.inner.Write(msg)
	inner := m.inner.Sum(m.sum[:0])
	m.xorPad(key, 0x5c)
	m.outer.Reset()
	m.outer.Write(m.pad[:])
	m.outer.Write(inner)
	// Summing into the pooled array (not a local one, which would escape
	// through the interface call) keeps this allocation-free.
	return [sha256.Size]byte(m.outer.Sum(m.sum[:0]))
}

func (m *macState) xorPad(key []byte, b byte) {
	for i := range m.pad {
		m.pad[i] = b
	}
	for i, k := range key {
		m.pad[i] ^= k
	}
}

// parseAmzDate parses X-Amz-Date ("20060102T150405Z", UTC) exactly as
// time.Parse(timeFormat, s) accepts it, without its general machinery.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(timeFormat) || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(4, 2)
	d, ok3 := num(6, 2)
	h, ok4 := num(9, 2)
	mi, ok5 := num(11, 2)
	sec, ok6 := num(13, 2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 ||
		mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if t.Day() != d { // past the month's end (time.Date normalises)
		return time.Time{}, false
	}
	return t, true
}

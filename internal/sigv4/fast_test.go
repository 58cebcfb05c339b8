package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"
)

// TestHMACSHA256 compares the pooled HMAC with crypto/hmac, for keys
// shorter than, equal to and longer than a block.
func TestHMACSHA256(t *testing.T) {
	for _, kl := range []int{0, 1, 32, 63, 64, 65, 200} {
		for _, ml := range []int{0, 1, 55, 56, 64, 1000} {
			key, msg := make([]byte, kl), make([]byte, ml)
			for i := range key {
				key[i] = byte(i*7 + kl)
			}
			for i := range msg {
				msg[i] = byte(i*13 + ml)
			}
			m := hmac.New(sha256.New, key)
			m.Write(msg)
			if got := hmacSHA256(key, msg); !hmac.Equal(got[:], m.Sum(nil)) {
				t.Fatalf("key %d, msg %d: mismatch", kl, ml)
			}
		}
	}
}

// FuzzParseAmzDate: the fast parser accepts exactly what time.Parse does,
// with the same time.
func FuzzParseAmzDate(f *testing.F) {
	for _, s := range []string{"20261205T213000Z", "20240229T000000Z", "20230229T000000Z", "20261205T240000Z",
		"20261205T235960Z", "20261231T235959Z", "00000101T000000Z", "2026120AT213000Z", "20261205 213000Z", "20261305T000000Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := time.Parse(timeFormat, s)
		got, ok := parseAmzDate(s)
		if ok && (err != nil || !got.Equal(want) || stamp(got) != s) {
			t.Fatalf("%q: fast %v, time.Parse %v, %v", s, got, want, err)
		}
		if !ok && err == nil && stamp(want) == s {
			t.Fatalf("%q: fast parser refused what time.Parse accepts", s)
		}
	})
}

func BenchmarkHMACSHA256(b *testing.B) {
	key, msg := make([]byte, 32), make([]byte, 200)
	b.ReportAllocs()
	for b.Loop() {
		_ = hmacSHA256(key, msg)
	}
}

func BenchmarkParseAmzDate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseAmzDate("20261205T213000Z"); !ok {
			b.Fatal("refused")
		}
	}
}

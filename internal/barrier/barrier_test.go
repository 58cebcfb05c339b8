package barrier

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestBarrier_SealOpen(t *testing.T) {
	b, err := New(map[uint32][]byte{1: key(1)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	pt := []byte("hunter2")
	aad := []byte("arn:aws:secretsmanager:us-east-1:000000000000:secret:x-AbCdEf\x00v1")
	ct := b.Seal(pt, aad)
	if got := len(ct); got != 4+12+len(pt)+16 {
		t.Fatalf("len = %d", got)
	}
	if ct[0] != 0 || ct[3] != 1 {
		t.Fatalf("term prefix = %x", ct[:4])
	}
	if bytes.Contains(ct, pt) {
		t.Fatal("plaintext visible in ciphertext")
	}
	if ct2 := b.Seal(pt, aad); bytes.Equal(ct, ct2) {
		t.Fatal("nonce reused")
	}
	got, err := b.Open(ct, aad)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tests := []struct {
		name string
		ct   []byte
		aad  []byte
		want error
	}{
		{"wrong aad", ct, []byte("other"), ErrDecrypt},
		{"truncated", ct[:20], aad, ErrDecrypt},
		{"empty", nil, aad, ErrDecrypt},
		{"flipped bit", flip(ct, len(ct)-1), aad, ErrDecrypt},
		{"unknown term", flip(ct, 0), aad, ErrUnknownTerm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := b.Open(tt.ct, tt.aad); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x80
	return c
}

func TestBarrier_Rotation(t *testing.T) {
	old, _ := New(map[uint32][]byte{1: key(1)}, 1)
	ct1 := old.Seal([]byte("v1"), nil)
	b, err := New(map[uint32][]byte{1: key(1), 2: key(2)}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Open(ct1, nil); err != nil || string(got) != "v1" {
		t.Fatalf("open old term: %q, %v", got, err)
	}
	ct2 := b.Seal([]byte("v2"), nil)
	if term, _ := Term(ct2); term != 2 {
		t.Fatalf("new values sealed under term %d, want 2", term)
	}
	if _, err := old.Open(ct2, nil); !errors.Is(err, ErrUnknownTerm) {
		t.Fatalf("old keyring opening term 2: %v", err)
	}
}

func TestNew_Invalid(t *testing.T) {
	tests := []struct {
		name   string
		keys   map[uint32][]byte
		active uint32
	}{
		{"missing active", map[uint32][]byte{1: key(1)}, 2},
		{"short key", map[uint32][]byte{1: key(1)[:16]}, 1},
		{"term zero", map[uint32][]byte{0: key(1), 1: key(1)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.keys, tt.active); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestParseKeyring(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString(key(1))
	k2 := base64.StdEncoding.EncodeToString(key(2))
	tests := []struct {
		name    string
		in      string
		active  uint32
		wantErr bool
	}{
		{"bare key", k1 + "\n", 1, false},
		{"terms", "# c\n\n1 " + k1 + "\n2 " + k2 + "\n", 2, false},
		{"empty", "# only comments\n", 0, true},
		{"bad base64", "1 !!!\n", 0, true},
		{"short", "1 " + base64.StdEncoding.EncodeToString([]byte("short")), 0, true},
		{"dup", "1 " + k1 + "\n1 " + k2, 0, true},
		{"term zero", "0 " + k1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeyring([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				if strings.Contains(err.Error(), k1) {
					t.Fatal("error quotes key material")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Active() != tt.active {
				t.Fatalf("active = %d, want %d", k.Active(), tt.active)
			}
			back, err := ParseKeyring(k.Format())
			if err != nil || len(back) != len(k) || back.Active() != k.Active() {
				t.Fatalf("round trip: %v", err)
			}
		})
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	t.Run("creates once", func(t *testing.T) {
		t.Setenv(EnvMasterKey, "")
		dir := t.TempDir()
		b1, err := LoadOrCreateKey(dir)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, KeyFile))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode = %v", fi.Mode())
		}
		b2, err := LoadOrCreateKey(dir)
		if err != nil {
			t.Fatal(err)
		}
		ct := b1.Seal([]byte("x"), nil)
		if _, err := b2.Open(ct, nil); err != nil {
			t.Fatalf("reloaded key differs: %v", err)
		}
	})
	t.Run("env", func(t *testing.T) {
		t.Setenv(EnvMasterKey, base64.StdEncoding.EncodeToString(key(7)))
		dir := t.TempDir()
		b, err := LoadOrCreateKey(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, KeyFile)); !os.IsNotExist(err) {
			t.Fatal("key file written although env key set")
		}
		want, _ := New(map[uint32][]byte{1: key(7)}, 1)
		if _, err := want.Open(b.Seal([]byte("x"), nil), nil); err != nil {
			t.Fatal("env key not used as term 1")
		}
	})
	t.Run("bad env", func(t *testing.T) {
		t.Setenv(EnvMasterKey, "not-base64")
		if _, err := LoadOrCreateKey(t.TempDir()); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("world readable", func(t *testing.T) {
		t.Setenv(EnvMasterKey, "")
		dir := t.TempDir()
		if _, err := LoadOrCreateKey(dir); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(dir, KeyFile), 0o644)
		if _, err := LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "0600") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("rotate", func(t *testing.T) {
		t.Setenv(EnvMasterKey, "")
		dir := t.TempDir()
		b1, _ := LoadOrCreateKey(dir)
		ct := b1.Seal([]byte("old"), nil)
		term, err := Rotate(dir)
		if err != nil || term != 2 {
			t.Fatalf("Rotate = %d, %v", term, err)
		}
		b2, err := LoadOrCreateKey(dir)
		if err != nil {
			t.Fatal(err)
		}
		if b2.ActiveTerm() != 2 {
			t.Fatalf("active = %d", b2.ActiveTerm())
		}
		if got, err := b2.Open(ct, nil); err != nil || string(got) != "old" {
			t.Fatalf("old value after rotate: %v", err)
		}
	})
}

func FuzzBarrier_Open(f *testing.F) {
	b, _ := New(map[uint32][]byte{1: key(1), 2: key(2)}, 2)
	f.Add(b.Seal([]byte("seed"), []byte("aad")), []byte("aad"))
	f.Add([]byte{0, 0, 0, 1}, []byte(nil))
	f.Add([]byte{}, []byte("x"))
	f.Fuzz(func(t *testing.T, ct, aad []byte) {
		pt, err := b.Open(ct, aad)
		if err == nil {
			// Only genuine ciphertexts open; re-sealing must round-trip.
			if got, err := b.Open(b.Seal(pt, aad), aad); err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("round trip failed: %v", err)
			}
		} else if !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrUnknownTerm) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

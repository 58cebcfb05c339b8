package barrier

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// EnvMasterKey names the environment variable that, when set, supplies the
// master key (base64 of 32 bytes, term 1) or a whole keyring instead of the
// key file.
const EnvMasterKey = "SQLGATE_MASTER_KEY"

// KeyFile is the keyring file name inside the data directory.
const KeyFile = "master.key"

// Keyring is the set of key terms, term → 32-byte key. The highest term is
// the active one.
//
// Its text form (the master.key file) has one key per line, "TERM BASE64",
// with blank lines and "#" comments ignored. A file holding a single bare
// base64 key is read as term 1, so an operator can paste a key.
type Keyring map[uint32][]byte

// Active returns the highest term, or 0 for an empty keyring.
func (k Keyring) Active() uint32 {
	var max uint32
	for t := range k {
		if t > max {
			max = t
		}
	}
	return max
}

// ParseKeyring parses the text form of a keyring. Errors never quote key
// material.
func ParseKeyring(data []byte) (Keyring, error) {
	k := Keyring{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		termStr, keyStr, ok := strings.Cut(s, " ")
		if !ok {
			termStr, keyStr = "1", s
		}
		term, err := strconv.ParseUint(termStr, 10, 32)
		if err != nil || term == 0 {
			return nil, fmt.Errorf("keyring line %d: invalid key term", line)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(keyStr))
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("keyring line %d: key must be base64 of %d bytes", line, KeySize)
		}
		if _, dup := k[uint32(term)]; dup {
			return nil, fmt.Errorf("keyring line %d: duplicate key term %d", line, term)
		}
		k[uint32(term)] = key
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if len(k) == 0 {
		return nil, errors.New("keyring: no keys")
	}
	return k, nil
}

// Format returns the text form of k, terms ascending.
func (k Keyring) Format() []byte {
	terms := make([]uint32, 0, len(k))
	for t := range k {
		terms = append(terms, t)
	}
	sort.Slice(terms, func(i, j int) bool { return terms[i] < terms[j] })
	var b bytes.Buffer
	b.WriteString("# sqlgate master keyring: TERM BASE64-KEY per line; the highest term seals new values.\n")
	b.WriteString("# Losing this file makes every stored secret unreadable. Keep a backup.\n")
	for _, t := range terms {
		fmt.Fprintf(&b, "%d %s\n", t, base64.StdEncoding.EncodeToString(k[t]))
	}
	return b.Bytes()
}

// Barrier returns a Barrier sealing with the active term of k.
func (k Keyring) Barrier() (*Barrier, error) { return New(k, k.Active()) }

// LoadOrCreateKey returns the barrier for a data directory. The keyring comes
// from $SQLGATE_MASTER_KEY when set, else from dataDir/master.key, which is
// created (mode 0600, one random term-1 key) when missing and must not be
// readable by group or others.
func LoadOrCreateKey(dataDir string) (*Barrier, error) {
	if env := os.Getenv(EnvMasterKey); env != "" {
		k, err := ParseKeyring([]byte(env))
		if err != nil {
			return nil, fmt.Errorf("load master key from $%s: %w", EnvMasterKey, err)
		}
		return k.Barrier()
	}
	k, err := loadOrCreateFile(filepath.Join(dataDir, KeyFile))
	if err != nil {
		return nil, err
	}
	return k.Barrier()
}

func loadOrCreateFile(path string) (Keyring, error) {
	data, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k := Keyring{1: randomKey()}
		if err := writeNew(path, k.Format()); err != nil {
			if !errors.Is(err, fs.ErrExist) {
				return nil, err
			}
			// Lost a creation race: use the winner's key.
			return loadOrCreateFile(path)
		}
		return k, nil
	}
	if err != nil {
		return nil, err
	}
	k, err := ParseKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("load master key %s: %w", path, err)
	}
	return k, nil
}

func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("load master key %s: mode %04o is readable by others, want 0600", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load master key: %w", err)
	}
	return data, nil
}

// writeNew creates path with 0600 and data, failing with fs.ErrExist if it
// exists.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create master key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("create master key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("create master key: %w", err)
	}
	return f.Close()
}

// Rotate adds a new random key under the next term to dataDir/master.key and
// returns it. Values sealed before stay readable under their old term;
// re-sealing them is the caller's job. Rotate refuses when the keyring comes
// from $SQLGATE_MASTER_KEY.
func Rotate(dataDir string) (uint32, error) {
	if os.Getenv(EnvMasterKey) != "" {
		return 0, fmt.Errorf("rotate master key: keyring comes from $%s; add a term there", EnvMasterKey)
	}
	path := filepath.Join(dataDir, KeyFile)
	data, err := readKeyFile(path)
	if err != nil {
		return 0, fmt.Errorf("rotate master key: %w", err)
	}
	k, err := ParseKeyring(data)
	if err != nil {
		return 0, fmt.Errorf("rotate master key: %w", err)
	}
	term := k.Active() + 1
	k[term] = randomKey()
	tmp := path + ".tmp"
	os.Remove(tmp)
	if err := writeNew(tmp, k.Format()); err != nil {
		return 0, fmt.Errorf("rotate master key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("rotate master key: %w", err)
	}
	return term, nil
}

func randomKey() []byte {
	key := make([]byte, KeySize)
	_, _ = rand.Read(key)
	return key
}

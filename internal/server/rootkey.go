package server

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// RootKey is the root access key pair: allowed everything.
type RootKey struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

const rootKeyFile = "root-credentials.json"

// LoadRootKey takes the root key from SQLGATE_ROOT_ACCESS_KEY_ID and
// SQLGATE_ROOT_SECRET_ACCESS_KEY, or from the data dir, generating and
// storing it (mode 0600) on first start. created reports a new key.
func LoadRootKey(dataDir string) (key RootKey, created bool, err error) {
	id, secret := os.Getenv("SQLGATE_ROOT_ACCESS_KEY_ID"), os.Getenv("SQLGATE_ROOT_SECRET_ACCESS_KEY")
	if id != "" || secret != "" {
		if id == "" || secret == "" {
			return key, false, errors.New("set both SQLGATE_ROOT_ACCESS_KEY_ID and SQLGATE_ROOT_SECRET_ACCESS_KEY, or neither")
		}
		return RootKey{AccessKeyID: id, SecretAccessKey: secret}, false, nil
	}
	path := filepath.Join(dataDir, rootKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &key); err != nil || key.AccessKeyID == "" || key.SecretAccessKey == "" {
			return key, false, fmt.Errorf("read root key %s: malformed file", path)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, fmt.Errorf("read root key: %w", err)
	}
	key = RootKey{AccessKeyID: "AKSG" + randomString(16, upperAlnum), SecretAccessKey: randomString(40, base62)}
	b, _ = json.MarshalIndent(key, "", "  ")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return key, false, fmt.Errorf("write root key: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return key, false, fmt.Errorf("write root key: %w", err)
	}
	return key, true, f.Close()
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	base62     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randomString draws n characters uniformly from alphabet (rejection
// sampling, so no modulo bias).
func randomString(n int, alphabet string) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		_, _ = rand.Read(buf)
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}

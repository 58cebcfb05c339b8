package pgproxy

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

// scramProof computes a client's final message for password, as libpq does.
func scramProof(t *testing.T, password, clientFirstBare, serverFirst string) string {
	t.Helper()
	var salt []byte
	for _, a := range strings.Split(serverFirst, ",") {
		if strings.HasPrefix(a, "s=") {
			salt, _ = base64.StdEncoding.DecodeString(a[2:])
		}
	}
	nonce := strings.TrimPrefix(strings.Split(serverFirst, ",")[0], "r=")
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte("n,,")) + ",r=" + nonce
	salted := pbkdf2SHA256([]byte(password), salt, scramIterations)
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	stored := sha256.Sum256(clientKey)
	sig := hmacSHA256(stored[:], []byte(clientFirstBare+","+serverFirst+","+withoutProof))
	proof := make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)
}

// TestSCRAM_Candidates: during a rotation's grace window the exchange
// accepts either password and reports which one the client proved.
func TestSCRAM_Candidates(t *testing.T) {
	cache := newSCRAMCache()
	for _, tc := range []struct {
		password string
		want     int
		ok       bool
	}{{"current", 0, true}, {"previous", 1, true}, {"wrong", 0, false}} {
		t.Run(tc.password, func(t *testing.T) {
			sc := &scramServer{salt: cache.salt, keys: []scramKeys{cache.get("current"), cache.get("previous")}}
			first, err := sc.first([]byte("n,,n=app,r=clientnonce"))
			if err != nil {
				t.Fatal(err)
			}
			final, err := sc.final([]byte(scramProof(t, tc.password, "n=app,r=clientnonce", first)))
			if (err == nil) != tc.ok || (tc.ok && sc.matched != tc.want) {
				t.Fatalf("final = %q, %v; matched %d", final, err, sc.matched)
			}
		})
	}
}

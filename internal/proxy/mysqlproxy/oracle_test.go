package mysqlproxy

import (
	"fmt"
	"strings"
	"testing"
)

// TestSession_UnknownUserLikeWrongPassword: an unknown user is answered
// exactly as a known user with a wrong password, with and without TLS and
// with and without cleartext allowed, so logins cannot probe user names.
func TestSession_UnknownUserLikeWrongPassword(t *testing.T) {
	tp := startProxy(t, proxyOpts{})
	user := tp.db.User
	for _, params := range []string{"", "tls=skip-verify", "allowCleartextPasswords=true&tls=skip-verify", "allowCleartextPasswords=true"} {
		t.Run(params, func(t *testing.T) {
			try := func(u string) string {
				err := ping(fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=5s&%s", u, "wrong-pw", tp.addr, tp.db.DBName, params))
				if err == nil {
					t.Fatalf("%s logged in with a wrong password", u)
				}
				return strings.ReplaceAll(err.Error(), u, "USER")
			}
			if known, unknown := try(user), try("nobody-here"); known != unknown {
				t.Fatalf("known user: %s\nunknown user: %s", known, unknown)
			}
		})
	}
}

package mysqlproxy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
)

// TestSession_Auth: every auth path against the auth
// secret, IAM tokens as cleartext passwords, TLS, and failures that never
// touch a backend connection.
func TestSession_Auth(t *testing.T) {
	tp := startProxy(t, proxyOpts{})
	user, pw := tp.db.User, tp.db.Passwd
	dsn := func(u, p, params string) string {
		return fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=5s&%s", u, p, tp.addr, tp.db.DBName, params)
	}
	ok := []struct{ name, dsn string }{
		{"native", dsn(user, pw, "")},
		{"native over tls", dsn(user, pw, "tls=skip-verify")},
		{"iam token via clear_password switch", dsn(user, proxytest.Token(user), "allowCleartextPasswords=true")},
		{"iam token over tls", dsn(user, proxytest.Token(user), "allowCleartextPasswords=true&tls=skip-verify")},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			if err := ping(tc.dsn); err != nil {
				t.Fatal(err)
			}
		})
	}
	dials := tp.relayless()
	bad := []struct{ name, dsn string }{
		{"wrong password", dsn(user, "nope", "allowCleartextPasswords=true")},
		{"unknown user", dsn("nobody", pw, "allowCleartextPasswords=true")},
		{"bad iam token", dsn(user, "127.0.0.1:13307/?Action=connect&DBUser="+user+"&X-Amz-Signature=bad", "allowCleartextPasswords=true")},
		{"token for another user", dsn(user, proxytest.Token("other"), "allowCleartextPasswords=true")},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := ping(tc.dsn); mysqlErrNo(err) != erAccessDenied {
				t.Fatalf("got %v, want 1045", err)
			}
		})
	}
	if got := tp.relayless(); got != dials {
		t.Fatalf("failed logins opened backend connections (%d → %d)", dials, got)
	}
	if strings.Contains(tp.logs.String(), pw) || strings.Contains(tp.logs.String(), "X-Amz-Signature=good") {
		t.Fatal("a password or token reached the log")
	}
}

// relayless counts backend connections held by the pool.
func (tp *testProxy) relayless() int { st := tp.srv.PoolStats(); return st.Busy + st.Idle }

// TestSession_CachingSHA2 covers caching_sha2_password, which MariaDB does
// not offer server-side: full auth with RSA key exchange and over TLS,
// then the fast path from the cache.
func TestSession_CachingSHA2(t *testing.T) {
	tp := startProxy(t, proxyOpts{plugin: mysqlwire.PluginSHA2})
	user, pw := tp.db.User, tp.db.Passwd
	dsn := func(params string) string {
		return fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=5s&%s", user, pw, tp.addr, tp.db.DBName, params)
	}
	t.Run("full auth over tls", func(t *testing.T) {
		if err := ping(dsn("tls=skip-verify")); err != nil {
			t.Fatal(err)
		}
	})
	tp.srv.mu.Lock()
	clear(tp.srv.sha2)
	tp.srv.mu.Unlock()
	t.Run("full auth with rsa", func(t *testing.T) {
		if err := ping(dsn("")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("fast auth", func(t *testing.T) {
		if !tp.srv.sha2Cached(user, pw) {
			t.Fatal("full auth did not fill the cache")
		}
		if err := ping(dsn("")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		err := ping(fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=5s", user, "nope", tp.addr, tp.db.DBName))
		if mysqlErrNo(err) != erAccessDenied {
			t.Fatalf("got %v, want 1045", err)
		}
	})
}

// TestSession_RequireTLS: require_tls refuses plaintext clients.
func TestSession_RequireTLS(t *testing.T) {
	tp := startProxy(t, proxyOpts{requireTLS: true})
	if err := ping(tp.dsn("")); mysqlErrNo(err) != erSecureTransport {
		t.Fatalf("plaintext client: %v, want 3159", err)
	}
	if err := ping(tp.dsn("tls=skip-verify")); err != nil {
		t.Fatalf("tls client: %v", err)
	}
	// Large result over TLS.
	db := tp.open(t, "tls=skip-verify")
	if got := queryString(t, db, "SELECT LENGTH(REPEAT('x', 5000000))"); got != "5000000" {
		t.Fatalf("got %s", got)
	}
	var s string
	if err := db.QueryRow("SELECT REPEAT('y', 5000000)").Scan(&s); err != nil || len(s) != 5000000 {
		t.Fatalf("5 MB value over TLS: %v, %d bytes", err, len(s))
	}
}

// TestSession_IAMRequired: with iam_auth required passwords are refused
// and the greeting asks for mysql_clear_password directly.
func TestSession_IAMRequired(t *testing.T) {
	tp := startProxy(t, proxyOpts{iam: "required"})
	if err := ping(tp.dsn("allowCleartextPasswords=true")); mysqlErrNo(err) != erAccessDenied {
		t.Fatalf("password with iam_auth required: %v, want 1045", err)
	}
	tok := fmt.Sprintf("%s:%s@tcp(%s)/%s?allowCleartextPasswords=true", tp.db.User, proxytest.Token(tp.db.User), tp.addr, tp.db.DBName)
	if err := ping(tok); err != nil {
		t.Fatalf("token: %v", err)
	}
}

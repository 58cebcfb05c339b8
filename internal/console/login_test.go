package console

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestConsole_Login(t *testing.T) {
	t.Run("good key sets a strict HttpOnly cookie", func(t *testing.T) {
		e := newConsoleEnv(t)
		w := e.do("POST", "/console/api/login", `{"accessKeyId":"`+goodAKID+`","secretAccessKey":"`+goodSecret+`"}`, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
		var ck *http.Cookie
		for _, c := range w.Result().Cookies() {
			if c.Name == CookieName {
				ck = c
			}
		}
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != Prefix || ck.Secure {
			t.Fatalf("got cookie %+v, want HttpOnly, SameSite=Strict, Path=%s, not Secure on http", ck, Prefix)
		}
		if len(ck.Value) < 43 { // 32 bytes, base64url
			t.Fatalf("session id %q is shorter than 256 bits", ck.Value)
		}
		if strings.Contains(w.Body.String(), goodSecret) || strings.Contains(e.logs.String(), goodSecret) {
			t.Fatal("the secret access key came back in the response or the log")
		}
		if !strings.Contains(w.Body.String(), `"csrfToken"`) {
			t.Fatalf("no CSRF token in %s", w.Body)
		}
	})
	t.Run("Secure cookie over HTTPS", func(t *testing.T) {
		e := newConsoleEnv(t)
		r := httptest.NewRequest("POST", "https://sqlgate.test/console/api/login",
			strings.NewReader(`{"accessKeyId":"`+goodAKID+`","secretAccessKey":"`+goodSecret+`"}`))
		r.Header.Set("Content-Type", "application/json")
		r.TLS = &tls.ConnectionState{}
		w := httptest.NewRecorder()
		e.c.ServeHTTP(w, r)
		if c := w.Result().Cookies(); len(c) != 1 || !c[0].Secure {
			t.Fatalf("got cookies %v, want one Secure cookie", c)
		}
	})
	tests := []struct {
		name, body string
		hdr        map[string]string
		want       int
	}{
		{"wrong secret", `{"accessKeyId":"` + goodAKID + `","secretAccessKey":"nope"}`, nil, http.StatusUnauthorized},
		{"unknown key", `{"accessKeyId":"AKIDUNKNOWN","secretAccessKey":"` + goodSecret + `"}`, nil, http.StatusUnauthorized},
		{"empty", `{}`, nil, http.StatusBadRequest},
		{"not JSON", `accessKeyId=x`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusBadRequest},
		{"cross-origin", `{"accessKeyId":"` + goodAKID + `","secretAccessKey":"` + goodSecret + `"}`,
			map[string]string{"Origin": "http://evil.test"}, http.StatusForbidden},
		{"cross-site fetch", `{"accessKeyId":"` + goodAKID + `","secretAccessKey":"` + goodSecret + `"}`,
			map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newConsoleEnv(t)
			w := e.do("POST", "/console/api/login", tt.body, tt.hdr)
			if w.Code != tt.want {
				t.Fatalf("got %d %s, want %d", w.Code, w.Body, tt.want)
			}
			if e.c.sessions.len() != 0 {
				t.Fatal("a rejected sign-in created a session")
			}
		})
	}
}

func TestConsole_SessionFixation(t *testing.T) {
	t.Run("planted id is not adopted", func(t *testing.T) {
		e := newConsoleEnv(t)
		planted := "attacker-chosen-session-id-0000000000000000"
		cookie, _ := e.login(t, map[string]string{"Cookie": CookieName + "=" + planted})
		if cookie == planted {
			t.Fatal("sign-in kept the planted session id")
		}
		if w := e.do("GET", "/console/api/session", "", authHeaders(planted, "")); w.Code != http.StatusUnauthorized {
			t.Fatalf("planted id: got %d, want 401", w.Code)
		}
	})
	t.Run("new id at every sign-in, old one ends", func(t *testing.T) {
		e := newConsoleEnv(t)
		first, _ := e.login(t, nil)
		second, _ := e.login(t, authHeaders(first, ""))
		if first == second {
			t.Fatal("second sign-in reused the session id")
		}
		if w := e.do("GET", "/console/api/session", "", authHeaders(first, "")); w.Code != http.StatusUnauthorized {
			t.Fatalf("old id: got %d, want 401", w.Code)
		}
		if w := e.do("GET", "/console/api/session", "", authHeaders(second, "")); w.Code != http.StatusOK {
			t.Fatalf("new id: got %d %s", w.Code, w.Body)
		}
	})
}

func TestConsole_CSRF(t *testing.T) {
	e := newConsoleEnv(t)
	cookie, csrf := e.login(t, nil)
	// A token differing from the real one in its first character (the
	// tokens are random, so a fixed replacement would sometimes equal it).
	wrong := "x" + csrf[1:]
	if csrf[0] == 'x' {
		wrong = "y" + csrf[1:]
	}
	body := `{"resourceArn":"arn:aws:rds:us-east-1:000000000000:cluster:a","secretArn":"s","sql":"select 1"}`
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"missing token", authHeaders(cookie, ""), http.StatusForbidden},
		{"wrong token", authHeaders(cookie, wrong), http.StatusForbidden},
		{"other origin", map[string]string{"Cookie": CookieName + "=" + cookie, CSRFHeader: csrf, "Origin": "http://evil.test"}, http.StatusForbidden},
		{"no session", map[string]string{CSRFHeader: csrf}, http.StatusUnauthorized},
		{"good token", map[string]string{"Cookie": CookieName + "=" + cookie, CSRFHeader: csrf, "Origin": "http://sqlgate.test"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.svc.lastCall()
			w := e.do("POST", "/console/api/rds-data/Execute", body, tt.hdr)
			if w.Code != tt.want {
				t.Fatalf("got %d %s, want %d", w.Code, w.Body, tt.want)
			}
			ran := e.svc.lastCall() != before
			if ran != (tt.want == http.StatusOK) {
				t.Fatalf("Data API ran: %v, want %v", ran, tt.want == http.StatusOK)
			}
		})
	}
	t.Run("every state-changing route checks it", func(t *testing.T) {
		for _, path := range []string{"/console/api/logout", "/console/api/secretsmanager/ListSecrets", "/console/api/iam",
			"/console/api/sts", "/console/api/policy/validate", "/console/api/connect/plan", "/console/api/rds-data/BeginTransaction"} {
			if w := e.do("POST", path, "{}", authHeaders(cookie, "")); w.Code != http.StatusForbidden || errType(w) != "InvalidCsrfTokenException" {
				t.Errorf("%s without token: got %d %s, want 403", path, w.Code, errType(w))
			}
		}
	})
}

func TestConsole_Expiry(t *testing.T) {
	e := newConsoleEnv(t)
	cookie, _ := e.login(t, nil)
	e.advance(59 * time.Minute)
	if w := e.do("GET", "/console/api/session", "", authHeaders(cookie, "")); w.Code != http.StatusOK {
		t.Fatalf("before expiry: got %d", w.Code)
	}
	e.advance(time.Minute)
	w := e.do("GET", "/console/api/session", "", authHeaders(cookie, ""))
	if w.Code != http.StatusUnauthorized || errType(w) != "SessionRequiredException" {
		t.Fatalf("after 1h: got %d %s, want 401 SessionRequiredException", w.Code, errType(w))
	}
	if e.c.sessions.len() != 0 {
		t.Fatal("expired session still stored")
	}
}

func TestConsole_Logout(t *testing.T) {
	e := newConsoleEnv(t)
	cookie, csrf := e.login(t, nil)
	w := e.do("POST", "/console/api/logout", "", authHeaders(cookie, csrf))
	if w.Code != http.StatusOK {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	if c := w.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Fatalf("logout did not clear the cookie: %v", c)
	}
	if w := e.do("GET", "/console/api/session", "", authHeaders(cookie, "")); w.Code != http.StatusUnauthorized {
		t.Fatalf("after logout: got %d, want 401", w.Code)
	}
}

func TestConsole_RevokedKey(t *testing.T) {
	e := newConsoleEnv(t)
	cookie, _ := e.login(t, nil)
	e.revoked = true
	if w := e.do("GET", "/console/api/session", "", authHeaders(cookie, "")); w.Code != http.StatusUnauthorized {
		t.Fatalf("deleted key: got %d, want 401", w.Code)
	}
	e.revoked = false
	if w := e.do("GET", "/console/api/session", "", authHeaders(cookie, "")); w.Code != http.StatusUnauthorized {
		t.Fatalf("session of a deleted key came back: %d", w.Code)
	}
}

func TestSessionStore_Evict(t *testing.T) {
	now := time.Unix(0, 0)
	st := newSessionStore(time.Hour, 2, func() time.Time { return now })
	a := st.create("A", "")
	now = now.Add(time.Second)
	b := st.create("B", "")
	now = now.Add(time.Second)
	c := st.create("C", "")
	if st.get(a.id) != nil || st.get(b.id) == nil || st.get(c.id) == nil {
		t.Fatal("want the oldest session evicted when full")
	}
}

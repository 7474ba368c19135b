package pages_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"promiseledger/api/pages"
	"promiseledger/api/session"
)

// TestSessionCookieIsSecureBehindATrustedTLSProxyOnly: behind a
// TLS-terminating proxy (plain HTTP to the server, X-Forwarded-Proto:
// https), the sign-in and session cookies are Secure when the server is
// told to trust the header, and not when it is not (anyone can send it).
func TestSessionCookieIsSecureBehindATrustedTLSProxyOnly(t *testing.T) {
	e := newWriteEnv(t)
	for _, tc := range []struct {
		name       string
		trust      bool
		proto      string
		wantSecure bool
	}{
		{"trusted proxy says https", true, "https", true},
		{"trusted proxy says HTTPS", true, " HTTPS ", true},
		{"trusted proxy says http", true, "http", false},
		{"trusted, no header", true, "", false},
		{"untrusted header says https", false, "https", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sessions, err := session.New(session.Config{DB: e.db})
			if err != nil {
				t.Fatal(err)
			}
			ph, err := pages.New(pages.Config{DB: e.db, Sessions: sessions, Commands: e.cmds, Store: e.store, WriteDB: e.db, TrustForwardedProto: tc.trust})
			if err != nil {
				t.Fatal(err)
			}
			do := func(method, path string, form url.Values, cookies []*http.Cookie) *http.Response {
				var body *strings.Reader
				if form != nil {
					body = strings.NewReader(form.Encode())
				} else {
					body = strings.NewReader("")
				}
				r := httptest.NewRequest(method, path, body)
				r.Header.Set("Accept", "text/html")
				if form != nil {
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				if tc.proto != "" {
					r.Header.Set("X-Forwarded-Proto", tc.proto)
				}
				for _, c := range cookies {
					r.AddCookie(c)
				}
				w := httptest.NewRecorder()
				ph.ServeHTTP(w, r)
				return w.Result()
			}
			page := do(http.MethodGet, "/signin?lang=en", nil, nil)
			var signinCookie *http.Cookie
			for _, c := range page.Cookies() {
				if c.Name == "ledger_signin" {
					signinCookie = c
				}
			}
			if signinCookie == nil || signinCookie.Secure != tc.wantSecure {
				t.Fatalf("the sign-in form's cookie: %+v, want Secure=%v", signinCookie, tc.wantSecure)
			}
			res := do(http.MethodPost, "/signin?lang=en", url.Values{"csrf": {signinCookie.Value}, "token": {e.tokens["officer"]}, "next": {""}},
				[]*http.Cookie{signinCookie})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d", res.StatusCode)
			}
			var sess *http.Cookie
			for _, c := range res.Cookies() {
				if c.Name == session.CookieName {
					sess = c
				}
			}
			if sess == nil || sess.Secure != tc.wantSecure || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode {
				t.Errorf("the session cookie: %+v, want Secure=%v, HttpOnly, SameSite=Strict", sess, tc.wantSecure)
			}
		})
	}
}

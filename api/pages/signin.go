package pages

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"

	"promiseledger/api/session"
)

// signinCookie carries the sign-in form's own CSRF token (a double-submit
// cookie): before there is a session, it stops another site from signing a
// browser in under someone else's token. SameSite=Strict keeps it off
// cross-site posts.
const signinCookie = "ledger_signin"

// signedIn is the header's "signed in as" line and sign-out form.
type signedIn struct {
	Name, Role, CSRF, SignOut string
}

// signinPage is GET /signin: the token form, or who is signed in.
func (h *Handler) signinPage(q *request) (*pageData, error) {
	if h.cfg.Sessions == nil {
		return nil, notFound("signing in is off on this server")
	}
	return h.signinData(q, "", "", q.str("next")), nil
}

// signinData builds the sign-in page; problem is shown above the form,
// tokenErr next to the token field.
func (h *Handler) signinData(q *request, problem, tokenErr, next string) *pageData {
	t := func(k string) string { return h.cat.t(q.lang, k) }
	d := &pageData{Title: t("signin.title"), Lead: t("signin.lead")}
	if q.sess != nil {
		d.Sections = []section{{ID: "signed-in", Heading: t("signin.already"), Paras: []string{q.sess.Name + " (" + t("actor."+string(q.sess.Role)) + ")"}}}
		return d
	}
	raw := make([]byte, 24)
	rand.Read(raw) // never fails
	csrf := base64.RawURLEncoding.EncodeToString(raw)
	http.SetCookie(q.w, &http.Cookie{Name: signinCookie, Value: csrf, Path: "/signin", HttpOnly: true, Secure: h.secure(q.r),
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	f := pageForm{ID: "form-signin", Heading: t("signin.heading"), Action: "/signin?lang=" + q.lang, Submit: t("signin.submit"),
		Error:  problem,
		Hidden: []hiddenField{{"csrf", csrf}, {"next", safeNext(next)}},
		Fields: []formField{{Name: "token", Label: t("signin.token"), Hint: t("signin.token_hint"), Type: "password", Error: tokenErr}}}
	d.Forms = []pageForm{f}
	d.Sections = []section{{ID: "about", Heading: t("signin.about"), Paras: []string{t("signin.about_text")}}}
	return d
}

// safeNext keeps a post-sign-in destination on this site: a path, never
// another origin ("//host", "/\host").
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || len(next) > 500 {
		return ""
	}
	return next
}

// signin is POST /signin: a token for a session.
func (h *Handler) signin() http.Handler {
	rt := route{name: "signin", pattern: "POST /signin"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, ok := h.startPost(w, r, rt, rt.pattern, "signing in is off on this server")
		if !ok {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			h.fail(w, q, &pageError{status: http.StatusBadRequest, key: "error.bad_request", detail: "the form could not be read"})
			return
		}
		c, err := r.Cookie(signinCookie)
		if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("csrf"))) != 1 {
			h.fail(w, q, &pageError{status: http.StatusForbidden, key: "error.csrf", detail: "the sign-in form's security token is missing or wrong: open the sign-in page again"})
			return
		}
		next := safeNext(r.PostForm.Get("next"))
		sess, err := h.cfg.Sessions.SignIn(q.ctx, clientOf(r), r.PostForm.Get("token"))
		t := func(k string) string { return h.cat.t(q.lang, k) }
		switch {
		case errors.Is(err, session.ErrRateLimited):
			w.Header().Set("Retry-After", strconv.Itoa(int(h.cfg.Sessions.FailWindow().Seconds())))
			h.signinAgain(w, q, http.StatusTooManyRequests, t("signin.rate_limited"), "", next)
			return
		case errors.Is(err, session.ErrBadToken):
			h.signinAgain(w, q, http.StatusUnauthorized, t("form.has_errors"), t("signin.bad_token"), next)
			return
		case err != nil:
			h.fail(w, q, err)
			return
		}
		http.SetCookie(w, sess.Cookie(h.secure(r)))
		http.SetCookie(w, &http.Cookie{Name: signinCookie, Path: "/signin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		if next == "" {
			next = "/?lang=" + q.lang
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
}

func (h *Handler) signinAgain(w http.ResponseWriter, q *request, status int, problem, tokenErr, next string) {
	d := h.signinData(q, problem, tokenErr, next)
	if err := h.finishChrome(q, d); err != nil {
		h.fail(w, q, err)
		return
	}
	h.render(w, q, "signin", status, d)
}

// signout is POST /signout: ends the session (CSRF-checked, so another
// site cannot sign a reader out).
func (h *Handler) signout() http.Handler {
	rt := route{name: "signin", pattern: "POST /signout"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, ok := h.startPost(w, r, rt, rt.pattern, "signing in is off on this server")
		if !ok {
			return
		}
		sess, err := h.cfg.Sessions.FromRequest(r)
		if err != nil {
			h.fail(w, q, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			h.fail(w, q, &pageError{status: http.StatusBadRequest, key: "error.bad_request", detail: "the form could not be read"})
			return
		}
		if sess != nil {
			if !sess.CheckCSRF(r.PostForm.Get("csrf")) {
				h.fail(w, q, &pageError{status: http.StatusForbidden, key: "error.csrf", detail: "the form's security token is missing or not this session's"})
				return
			}
			c, _ := r.Cookie(session.CookieName)
			if err := h.cfg.Sessions.SignOut(q.ctx, c.Value); err != nil {
				h.fail(w, q, err)
				return
			}
		}
		http.SetCookie(w, session.ClearCookie(h.secure(r)))
		http.Redirect(w, r, "/?lang="+q.lang, http.StatusSeeOther)
	})
}

// secure reports whether the browser reached the server over HTTPS: the
// connection is TLS, or, behind a TLS-terminating proxy the server is told
// to trust (Config.TrustForwardedProto), the proxy says so in
// X-Forwarded-Proto. The cookies are Secure then, so a browser never sends
// the session over plain HTTP. The header alone counts for nothing: anyone
// can send it.
func (h *Handler) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return h.cfg.TrustForwardedProto && strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}

// clientOf names the client for the sign-in rate limit: its address as
// the connection shows it (a proxy in front means one limit for all; put
// the limit in the proxy then).
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

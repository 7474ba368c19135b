package pages_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"promiseledger/api/pages"
	"promiseledger/api/session"
	"promiseledger/commands"
	"promiseledger/domain"
)

// reportForm is a filled report form for a numeric measure, with the
// hidden fields of the page it was read from.
func reportForm(hidden url.Values) url.Values {
	v := url.Values{"value": {"42"}, "evidence_url": {"https://example.kz/act/17"}, "evidence_description": {"Акт приёмки"}}
	for k, vals := range hidden {
		v[k] = vals
	}
	return v
}

var locationEventRE = regexp.MustCompile(`#e-([0-9a-f-]{36})$`)

func TestSignInGivesAnHttpOnlyStrictSessionCookieNotTheToken(t *testing.T) {
	e := newWriteEnv(t)
	c := e.client(t)
	page := c.get("/signin?lang=en")
	form := formValues(t, page.body, "form-signin")
	form.Set("token", e.tokens["officer"])
	res := c.post("/signin?lang=en", form)
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.status)
	}
	var cookie *http.Cookie
	for _, ck := range (&http.Response{Header: res.header}).Cookies() {
		if ck.Name == session.CookieName {
			cookie = ck
		}
	}
	switch {
	case cookie == nil:
		t.Fatal("no session cookie")
	case !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode:
		t.Errorf("cookie HttpOnly=%v SameSite=%v, want HttpOnly and Strict", cookie.HttpOnly, cookie.SameSite)
	case cookie.Secure:
		t.Errorf("cookie is Secure over plain HTTP: the browser would never send it back")
	case strings.Contains(cookie.Value, e.tokens["officer"]) || strings.HasPrefix(cookie.Value, "plt_"):
		t.Errorf("the cookie holds the token")
	}
	var stored int
	if err := e.db.Get(&stored, `SELECT count(*) FROM api_sessions WHERE id_sha256 = sha256(convert_to($1, 'UTF8'))`, cookie.Value); err != nil {
		t.Fatal(err)
	}
	if stored != 1 {
		t.Errorf("found %d sessions by the SHA-256 of the cookie, want 1 (only the hash is stored)", stored)
	}
	home := c.get("/?lang=en")
	if !strings.Contains(home.body, "Signed in as") || !strings.Contains(home.header.Get("Cache-Control"), "no-store") {
		t.Errorf("a signed-in page should say who is signed in and not be cached; Cache-Control %q", home.header.Get("Cache-Control"))
	}

	// Sign out: the session ends on the server, not only in the browser.
	out := c.post("/signout?lang=en", url.Values{})
	if out.status != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token: %d, want 403", out.status)
	}
	csrf := regexp.MustCompile(`class="whoami" method="post" action="[^"]*"><span>[^<]*<strong>[^<]*</strong>[^<]*</span>\s*<input type="hidden" name="csrf" value="([^"]+)"`).FindStringSubmatch(home.body)
	if csrf == nil {
		t.Fatal("no sign-out form")
	}
	if out := c.post("/signout?lang=en", url.Values{"csrf": {html.UnescapeString(csrf[1])}}); out.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", out.status)
	}
	replay := e.client(t)
	u, _ := url.Parse(e.srv.URL)
	replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: session.CookieName, Value: cookie.Value}})
	if p := replay.get("/?lang=en"); strings.Contains(p.body, "Signed in as") {
		t.Errorf("the signed-out session's cookie still signs in")
	}
}

func TestSignInRefusesAWrongTokenAndLimitsFailedAttempts(t *testing.T) {
	e := newWriteEnv(t)
	// A server of its own: the limit is per client address, and every test
	// client is 127.0.0.1.
	sessions, err := session.New(session.Config{DB: e.db, MaxFailures: 3})
	if err != nil {
		t.Fatal(err)
	}
	ph, err := pages.New(pages.Config{DB: e.db, Sessions: sessions, Commands: e.cmds, Store: e.store, WriteDB: e.db})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ph)
	defer srv.Close()
	own := &writeEnv{srv: srv, tokens: e.tokens}
	c := own.client(t)
	try := func(token string) response {
		page := c.get("/signin?lang=ru")
		form := formValues(t, page.body, "form-signin")
		form.Set("token", token)
		return c.post("/signin?lang=ru", form)
	}
	cat := readCatalogs(t)
	for i := range 3 {
		res := try("plt_wrong")
		if res.status != http.StatusUnauthorized || !strings.Contains(html.UnescapeString(res.body), cat["ru"]["signin.bad_token"]) {
			t.Fatalf("wrong token, attempt %d: %d, want 401 with the Russian message next to the field", i+1, res.status)
		}
	}
	if res := try(e.tokens["officer"]); res.status != http.StatusTooManyRequests {
		t.Fatalf("after 3 failures a good token: %d, want 429 (limited)", res.status)
	}

	// Without the sign-in form's cookie (a cross-site post) nothing opens.
	c2 := e.client(t)
	if res := c2.post("/signin?lang=en", url.Values{"token": {e.tokens["officer"]}, "csrf": {"guess"}}); res.status != http.StatusForbidden {
		t.Errorf("sign-in without the form's token: %d, want 403", res.status)
	}
}

func TestReportFormRecordsOnceAndTheMeasurePageShowsIt(t *testing.T) {
	e := newWriteEnv(t)
	id := e.newIndicator(t, domain.KindNumeric)
	c := e.client(t)
	c.signIn("officer")
	page := c.get("/measures/" + id + "?lang=en")
	form := reportForm(formValues(t, page.body, "form-report"))
	before := e.streamVersion(t, id)

	first := c.post("/measures/"+id+"/report?lang=en", form)
	if first.status != http.StatusSeeOther {
		t.Fatalf("report: %d %s", first.status, first.body)
	}
	loc := first.header.Get("Location")
	m := locationEventRE.FindStringSubmatch(loc)
	if m == nil || !strings.HasPrefix(loc, "/measures/"+id+"?lang=en") {
		t.Fatalf("redirect to %q, want the measure's page at the new event", loc)
	}
	// Read-your-writes: the page right after the redirect shows the event.
	after := c.get(strings.Split(loc, "#")[0])
	if !strings.Contains(after.body, `id="e-`+m[1]+`"`) || !strings.Contains(after.body, "https://example.kz/act/17") {
		t.Errorf("the page after the redirect does not show event %s", m[1])
	}
	again := c.post("/measures/"+id+"/report?lang=en", form)
	if again.status != http.StatusSeeOther || again.header.Get("Location") != loc {
		t.Errorf("double submit: %d to %q, want the same 303 to %q", again.status, again.header.Get("Location"), loc)
	}
	if got := e.streamVersion(t, id); got != before+1 {
		t.Errorf("the measure has %d events after two submits of one form, want %d", got, before+1)
	}
}

func TestStaleFormIsRefusedNamingWhatChanged(t *testing.T) {
	e := newWriteEnv(t)
	id := e.newIndicator(t, domain.KindNumeric)
	c := e.client(t)
	c.signIn("officer")
	page := c.get("/measures/" + id + "?lang=en")
	form := reportForm(formValues(t, page.body, "form-report"))
	// Someone else re-targets the measure after the page was read.
	target := 120.0
	if _, err := e.cmds.RetargetIndicator.Handle(context.Background(), commands.RetargetIndicator{
		Header: commands.Header{Actor: commands.Actor{ID: "admin-other", Role: "admin"}, Reason: "the council raised the bar"}, IndicatorID: id, Target: &target}); err != nil {
		t.Fatal(err)
	}
	before := e.streamVersion(t, id)
	res := c.post("/measures/"+id+"/report?lang=en", form)
	body := html.UnescapeString(res.body)
	if res.status != http.StatusConflict {
		t.Fatalf("stale form: %d, want 409", res.status)
	}
	cat := readCatalogs(t)
	for _, want := range []string{cat["en"]["form.stale"], cat["en"]["event.retargeted"], "the council raised the bar", `value="42"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the refused form's page lacks %q", want)
		}
	}
	if got := e.streamVersion(t, id); got != before {
		t.Errorf("a stale form appended: %d events, want %d", got, before)
	}
	// The form offered again is pinned to the new version: sent, it records.
	redo := c.post("/measures/"+id+"/report?lang=en", reportForm(formValues(t, res.body, "form-report")))
	if redo.status != http.StatusSeeOther {
		t.Errorf("the redone form: %d, want 303", redo.status)
	}
}

func TestFormWithoutTheSessionsCSRFTokenAppendsNothing(t *testing.T) {
	e := newWriteEnv(t)
	id := e.newIndicator(t, domain.KindNumeric)
	c := e.client(t)
	c.signIn("officer")
	other := e.client(t)
	other.signIn("admin")
	otherForm := formValues(t, other.get("/measures/"+id+"?lang=en").body, "form-report")
	form := reportForm(formValues(t, c.get("/measures/"+id+"?lang=en").body, "form-report"))
	before := e.streamVersion(t, id)
	for name, f := range map[string]url.Values{
		"missing":             func() url.Values { v := reportForm(form); v.Del("csrf"); return v }(),
		"another session's":   func() url.Values { v := reportForm(form); v.Set("csrf", otherForm.Get("csrf")); return v }(),
		"the right one, bent": func() url.Values { v := reportForm(form); v.Set("csrf", form.Get("csrf")+"x"); return v }(),
	} {
		if res := c.post("/measures/"+id+"/report?lang=en", f); res.status != http.StatusForbidden {
			t.Errorf("%s CSRF token: %d, want 403", name, res.status)
		}
	}
	// A cross-site post carries no SameSite=Strict cookie: no session.
	if res := e.client(t).post("/measures/"+id+"/report?lang=en", form); res.status != http.StatusUnauthorized {
		t.Errorf("a post without the session cookie: %d, want 401", res.status)
	}
	if got := e.streamVersion(t, id); got != before {
		t.Errorf("refused posts appended: %d events, want %d", got, before)
	}
}

func TestFormsAreShownOnlyToWhoMayUseThemAndRefusedToOthers(t *testing.T) {
	e := newWriteEnv(t)
	id := e.newIndicator(t, domain.KindNumeric)
	anon := e.client(t).get("/measures/" + id + "?lang=en")
	if strings.Contains(anon.body, `id="form-`) || !strings.Contains(anon.body, `href="/signin?`) {
		t.Errorf("a reader who is not signed in should see no form and a sign-in link")
	}
	for _, role := range []string{"officer", "admin"} {
		c := e.client(t)
		c.signIn(role)
		body := c.get("/measures/" + id + "?lang=en").body
		for _, f := range []string{"form-report", "form-retarget", "form-cancel"} {
			if !strings.Contains(body, `id="`+f+`"`) {
				t.Errorf("%s: the measure page lacks %s", role, f)
			}
		}
	}
	// The officer's own form, sent with another role's session.
	owner := e.client(t)
	owner.signIn("officer")
	form := reportForm(formValues(t, owner.get("/measures/"+id+"?lang=en").body, "form-report"))
	before := e.streamVersion(t, id)
	for _, role := range []string{"council", "deputy", "other-officer"} {
		c := e.client(t)
		c.signIn(role)
		page := c.get("/measures/" + id + "?lang=en")
		// A council member may see the assessment form (forms_council_test.go),
		// never the officer's.
		for _, f := range []string{"form-report", "form-correct", "form-retarget", "form-cancel"} {
			if strings.Contains(page.body, `id="`+f+`"`) {
				t.Errorf("%s sees %s on a measure they may not change", role, f)
			}
		}
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.body)
		if csrf == nil {
			t.Fatalf("%s: no sign-out form", role)
		}
		f := reportForm(form)
		f.Set("csrf", html.UnescapeString(csrf[1]))
		if res := c.post("/measures/"+id+"/report?lang=en", f); res.status != http.StatusForbidden {
			t.Errorf("%s posts the report form: %d, want 403", role, res.status)
		}
	}
	if got := e.streamVersion(t, id); got != before {
		t.Errorf("forbidden posts appended: %d events, want %d", got, before)
	}
}

func TestFormFieldErrorsAreShownNextToTheFieldInEveryLanguage(t *testing.T) {
	e := newWriteEnv(t)
	id := e.newIndicator(t, domain.KindNumeric)
	c := e.client(t)
	c.signIn("officer")
	cat := readCatalogs(t)
	cases := []struct {
		name, field, key string
		set              map[string]string
	}{
		{"a value that is not a number", "value", "form.err.number", map[string]string{"value": "forty"}},
		{"no evidence", "evidence_url", "form.err.evidence", map[string]string{"evidence_url": ""}},
		{"a link that is not http", "evidence_url", "form.err.url", map[string]string{"evidence_url": "javascript:alert(1)"}},
		{"a short hash", "evidence_sha256", "form.err.sha256", map[string]string{"evidence_sha256": "abc"}},
	}
	before := e.streamVersion(t, id)
	for _, tc := range cases {
		for _, lang := range languages {
			page := c.get("/measures/" + id + "?lang=" + lang)
			form := reportForm(formValues(t, page.body, "form-report"))
			for k, v := range tc.set {
				form.Set(k, v)
			}
			res := c.post("/measures/"+id+"/report?lang="+lang, form)
			if res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s (%s): %d, want 422", tc.name, lang, res.status)
				continue
			}
			ctrl := "form-report-" + strings.ReplaceAll(tc.field, "_", "-")
			want := `<p class="field-error" id="` + ctrl + `-error">` + cat[lang][tc.key] + `</p>`
			if !strings.Contains(html.UnescapeString(res.body), want) {
				t.Errorf("%s (%s): no %q next to %s", tc.name, lang, cat[lang][tc.key], tc.field)
			}
		}
	}
	if got := e.streamVersion(t, id); got != before {
		t.Errorf("refused forms appended: %d events, want %d", got, before)
	}
}

func TestHostileTextInAFormIsAFieldErrorNotAFailure(t *testing.T) {
	e := newWriteEnv(t)
	id := e.newIndicator(t, domain.KindNumeric)
	c := e.client(t)
	c.signIn("officer")
	cat := readCatalogs(t)
	before := e.streamVersion(t, id)
	for name, text := range map[string]string{
		"NUL": "a\x00b", "escape": "a\x1b[31mb", "bad UTF-8": "a\xffb", "a lone surrogate": "a\xed\xa0\x80b",
		"a bidi override": "a\u202eb", "4,000 characters": strings.Repeat("я", 4000),
	} {
		form := reportForm(formValues(t, c.get("/measures/"+id+"?lang=kk").body, "form-report"))
		form.Set("evidence_description", text)
		res := c.post("/measures/"+id+"/report?lang=kk", form)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(res.body), cat["kk"]["form.err.text"]) {
			t.Errorf("%s in the description: %d, want 422 with the field error", name, res.status)
		}
	}
	if got := e.streamVersion(t, id); got != before {
		t.Errorf("hostile forms appended: %d events, want %d", got, before)
	}
}

func TestOfficerFormsCorrectRetargetAndCancelThroughTheCommands(t *testing.T) {
	e := newWriteEnv(t)
	id := e.newIndicator(t, domain.KindNumeric)
	c := e.client(t)
	c.signIn("officer")
	post := func(form string, set map[string]string) response {
		t.Helper()
		v := formValues(t, c.get("/measures/"+id+"?lang=ru").body, "form-"+form)
		for k, s := range set {
			v.Set(k, s)
		}
		return c.post("/measures/"+id+"/"+form+"?lang=ru", v)
	}
	if res := post("report", map[string]string{"value": "10", "evidence_url": "https://example.kz/1"}); res.status != http.StatusSeeOther {
		t.Fatalf("report: %d", res.status)
	}
	page := c.get("/measures/" + id + "?lang=ru").body
	opt := regexp.MustCompile(`<select id="form-correct-corrects" name="corrects"><option value="([0-9a-f-]+)"`).FindStringSubmatch(page)
	if opt == nil {
		t.Fatal("the correction form offers no report to correct")
	}
	cat := readCatalogs(t)
	steps := []struct {
		form      string
		set       map[string]string
		status    int
		wantOnPag string
	}{
		{"correct", map[string]string{"corrects": opt[1], "value": "12", "evidence_url": "https://example.kz/2"}, http.StatusUnprocessableEntity, cat["ru"]["form.err.reason"]},
		{"correct", map[string]string{"corrects": opt[1], "value": "12", "evidence_url": "https://example.kz/2", "reason": "опечатка в акте"}, http.StatusSeeOther, "опечатка в акте"},
		{"retarget", map[string]string{"target": "150", "reason": "решение маслихата"}, http.StatusSeeOther, "решение маслихата"},
		{"retarget", map[string]string{"reason": "ничего"}, http.StatusUnprocessableEntity, cat["ru"]["form.err.retarget_nothing"]},
		{"cancel", map[string]string{"reason": ""}, http.StatusUnprocessableEntity, cat["ru"]["form.err.reason"]},
		{"cancel", map[string]string{"reason": "мера заменена другой"}, http.StatusSeeOther, "мера заменена другой"},
	}
	for _, s := range steps {
		before := e.streamVersion(t, id)
		res := post(s.form, s.set)
		if res.status != s.status {
			t.Fatalf("%s %v: %d, want %d: %s", s.form, s.set, res.status, s.status, res.body)
		}
		body := res.body
		want := before
		if res.status == http.StatusSeeOther {
			body = c.get(strings.Split(res.header.Get("Location"), "#")[0]).body
			want++
		}
		if !strings.Contains(html.UnescapeString(body), s.wantOnPag) {
			t.Errorf("%s %v: the page lacks %q", s.form, s.set, s.wantOnPag)
		}
		if got := e.streamVersion(t, id); got != want {
			t.Errorf("%s %v: %d events, want %d", s.form, s.set, got, want)
		}
	}
	if body := c.get("/measures/" + id + "?lang=ru").body; strings.Contains(body, `id="form-`) {
		t.Errorf("a cancelled measure still offers forms")
	}
}

// TestSignInAndOutCheckTheirParametersLikeEveryPage: POST /signin and
// /signout run the pages' shared parameter check, so NUL, invalid UTF-8 and
// unknown names in the URL are a 400 and no session is made.
func TestSignInAndOutCheckTheirParametersLikeEveryPage(t *testing.T) {
	e := newWriteEnv(t)
	c := e.client(t)
	form := formValues(t, c.get("/signin?lang=en").body, "form-signin")
	form.Set("token", e.tokens["officer"])
	for _, path := range []string{"/signin?lang=en&x=1", "/signin?lang=%00", "/signin?lang=%ff", "/signout?lang=en&next=%00"} {
		res := c.post(path, form)
		if res.status != http.StatusBadRequest {
			t.Errorf("POST %s: %d, want 400", path, res.status)
		}
		for _, ck := range (&http.Response{Header: res.header}).Cookies() {
			if ck.Name == session.CookieName && ck.Value != "" {
				t.Errorf("POST %s made a session", path)
			}
		}
	}
}

package pages_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"promiseledger/commands"
	"promiseledger/domain"
)

// The administrator's forms: /admin (register a roadmap, issue and revoke
// tokens) and the roadmap page's assign and unassign forms.

// eventsOfType counts a type's events in the log.
func (e *writeEnv) eventsOfType(t *testing.T, typ string) int {
	t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM events WHERE type = $1`, typ); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *writeEnv) tokenCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM api_tokens`); err != nil {
		t.Fatal(err)
	}
	return n
}

// newRoadmap registers a roadmap of the test's own, with no responsible.
func (e *writeEnv) newRoadmap(t *testing.T) string {
	t.Helper()
	id := fmt.Sprintf("0190a6a4-5e2b-7c3d-8e4f-%012x", 0xf0a00+e.seq.Add(1))
	h := commands.Header{Actor: commands.Actor{ID: "admin-setup", Role: "admin"}}
	if _, err := e.cmds.RegisterRoadmap.Handle(context.Background(), commands.RegisterRoadmap{Header: h, ID: id, ProgramID: wProgram,
		TerritoryKATO: "110000000", Level: domain.LevelRegional, Title: domain.Text{KK: "Жол картасы " + id[len(id)-4:], RU: "Карта " + id[len(id)-4:], EN: "Roadmap " + id[len(id)-4:]},
		Period: domain.Period{Start: domain.NewDate(2022, 1, 1), End: domain.NewDate(2026, 12, 31)}}); err != nil {
		t.Fatal(err)
	}
	e.waitProjected(t)
	return id
}

func roadmapForm(hidden url.Values) url.Values {
	v := url.Values{"program_id": {wProgram}, "territory_kato": {"110000000"}, "level": {"regional"},
		"title_kk": {"Су құбыры"}, "title_ru": {"Водопровод"}, "title_en": {"Water mains"}, "period_start": {"2023-01-01"}, "period_end": {"2027-12-31"}}
	for k, vals := range hidden {
		v[k] = vals
	}
	return v
}

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the page (not signed in?)")
	}
	return html.UnescapeString(m[1])
}

func TestAdminPageAndFormsAreForAdministratorsOnly(t *testing.T) {
	e := newWriteEnv(t)
	if res := e.client(t).get("/admin?lang=en"); res.status != http.StatusUnauthorized {
		t.Errorf("GET /admin signed out: %d, want 401", res.status)
	}
	admin := e.client(t)
	admin.signIn("admin")
	page := admin.get("/admin?lang=en")
	if page.status != http.StatusOK || !strings.Contains(page.body, `<a href="/admin?lang=en"`) {
		t.Fatalf("the administrator's /admin: %d, header link shown: %v", page.status, strings.Contains(page.body, `href="/admin?lang=en"`))
	}
	forms := map[string]url.Values{
		"roadmap": roadmapForm(formValues(t, page.body, "form-roadmap")),
		"token": func() url.Values {
			v := formValues(t, page.body, "form-token")
			v.Set("name", "x")
			v.Set("role", "admin")
			return v
		}(),
		"revoke": func() url.Values {
			v := formValues(t, page.body, "form-revoke")
			v.Set("token_id", tokenIDs(t, page.body)[0])
			return v
		}(),
	}
	registered, tokens := e.eventsOfType(t, domain.TypeRoadmapRegistered), e.tokenCount(t)
	var revokedBefore int
	if err := e.db.Get(&revokedBefore, `SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"officer", "council", "deputy"} {
		c := e.client(t)
		c.signIn(role)
		home := c.get("/?lang=en")
		if strings.Contains(home.body, `href="/admin?`) {
			t.Errorf("%s sees the link to /admin", role)
		}
		if res := c.get("/admin?lang=en"); res.status != http.StatusForbidden || strings.Contains(res.body, `id="form-`) {
			t.Errorf("%s GET /admin: %d, want 403 and no form", role, res.status)
		}
		for name, f := range forms {
			v := url.Values{}
			for k, vals := range f {
				v[k] = vals
			}
			v.Set("csrf", csrfOf(t, home.body))
			if res := c.post("/admin/"+name+"?lang=en", v); res.status != http.StatusForbidden {
				t.Errorf("%s posts the %s form: %d, want 403", role, name, res.status)
			}
		}
	}
	// A cross-site post: the administrator's own form without the CSRF token.
	for name, f := range forms {
		v := url.Values{}
		for k, vals := range f {
			v[k] = vals
		}
		v.Del("csrf")
		if res := admin.post("/admin/"+name+"?lang=en", v); res.status != http.StatusForbidden {
			t.Errorf("the %s form without the CSRF token: %d, want 403", name, res.status)
		}
	}
	var revokedAfter int
	if err := e.db.Get(&revokedAfter, `SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if e.eventsOfType(t, domain.TypeRoadmapRegistered) != registered || e.tokenCount(t) != tokens || revokedAfter != revokedBefore {
		t.Error("refused posts registered a roadmap, issued or revoked a token")
	}
}

var tokenOptionRE = regexp.MustCompile(`<option value="([0-9a-f-]{36})"`)

// tokenIDs are the live tokens the revoke form offers.
func tokenIDs(t *testing.T, body string) []string {
	t.Helper()
	i := strings.Index(body, `id="form-revoke"`)
	if i < 0 {
		t.Fatal("no revoke form")
	}
	var out []string
	for _, m := range tokenOptionRE.FindAllStringSubmatch(body[i:], -1) {
		out = append(out, m[1])
	}
	return out
}

func TestRegisterRoadmapFormRecordsOnceAndTheRoadmapPageShowsIt(t *testing.T) {
	e := newWriteEnv(t)
	c := e.client(t)
	c.signIn("admin")
	form := roadmapForm(formValues(t, c.get("/admin?lang=ru").body, "form-roadmap"))
	before := e.eventsOfType(t, domain.TypeRoadmapRegistered)
	first := c.post("/admin/roadmap?lang=ru", form)
	if first.status != http.StatusSeeOther {
		t.Fatalf("register: %d %.2000s", first.status, first.body)
	}
	loc := first.header.Get("Location")
	m := locationEventRE.FindStringSubmatch(loc)
	if m == nil || !strings.HasPrefix(loc, "/roadmaps/") {
		t.Fatalf("redirect to %q, want the new roadmap's page at its event", loc)
	}
	page := c.get(strings.Split(loc, "#")[0])
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="e-`+m[1]+`"`) || !strings.Contains(page.body, "Водопровод") {
		t.Errorf("the new roadmap's page (%d) does not show its registration %s", page.status, m[1])
	}
	if !strings.Contains(page.body, `id="form-assign"`) {
		t.Error("the new roadmap's page offers the administrator no assign form")
	}
	again := c.post("/admin/roadmap?lang=ru", form)
	if again.status != http.StatusSeeOther || again.header.Get("Location") != loc {
		t.Errorf("double submit: %d to %q, want the same 303 to %q", again.status, again.header.Get("Location"), loc)
	}
	if got := e.eventsOfType(t, domain.TypeRoadmapRegistered); got != before+1 {
		t.Errorf("%d roadmaps registered by two submits of one form, want 1", got-before)
	}
}

func TestRegisterRoadmapFormFieldErrorsInEveryLanguage(t *testing.T) {
	e := newWriteEnv(t)
	c := e.client(t)
	c.signIn("admin")
	cat := readCatalogs(t)
	cases := []struct {
		name, field, key string
		set              map[string]string
	}{
		{"a date that is not one", "period_start", "form.err.date", map[string]string{"period_start": "01.01.2023"}},
		{"an unknown territory", "territory_kato", "form.err.unknown", map[string]string{"territory_kato": "990000000"}},
		{"an unknown programme", "program_id", "form.err.unknown", map[string]string{"program_id": "0190a6a4-5e2b-7c3d-8e4f-00000000beef"}},
		{"no English title", "title_en", "form.err.required", map[string]string{"title_en": " "}},
	}
	before := e.eventsOfType(t, domain.TypeRoadmapRegistered)
	for _, tc := range cases {
		for _, lang := range languages {
			form := roadmapForm(formValues(t, c.get("/admin?lang="+lang).body, "form-roadmap"))
			for k, v := range tc.set {
				form.Set(k, v)
			}
			res := c.post("/admin/roadmap?lang="+lang, form)
			if res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s (%s): %d, want 422", tc.name, lang, res.status)
				continue
			}
			ctrl := "form-roadmap-" + strings.ReplaceAll(tc.field, "_", "-")
			want := `<p class="field-error" id="` + ctrl + `-error">` + cat[lang][tc.key] + `</p>`
			if !strings.Contains(html.UnescapeString(res.body), want) {
				t.Errorf("%s (%s): no %q next to %s", tc.name, lang, cat[lang][tc.key], tc.field)
			}
		}
	}
	if got := e.eventsOfType(t, domain.TypeRoadmapRegistered); got != before {
		t.Errorf("refused forms registered %d roadmaps", got-before)
	}
}

func TestAssignAndUnassignFormsOnTheRoadmapPage(t *testing.T) {
	e := newWriteEnv(t)
	id := e.newRoadmap(t)
	c := e.client(t)
	c.signIn("admin")
	path := "/roadmaps/" + id + "?lang=kk"
	form := formValues(t, c.get(path).body, "form-assign")
	form.Set("person_id", "official-assigned-1")
	form.Set("role", "official")
	form.Set("display_name", "Асқар Тағайындалған")
	stream := func() int64 {
		v, err := e.store.StreamVersion(context.Background(), domain.RoadmapStream(id))
		if err != nil {
			t.Fatal(err)
		}
		return int64(v)
	}
	before := stream()
	res := c.post("/roadmaps/"+id+"/assign?lang=kk", form)
	if res.status != http.StatusSeeOther {
		t.Fatalf("assign: %d %.2000s", res.status, res.body)
	}
	m := locationEventRE.FindStringSubmatch(res.header.Get("Location"))
	page := c.get(path)
	if m == nil || !strings.Contains(page.body, `id="e-`+m[1]+`"`) || !strings.Contains(page.body, "Асқар Тағайындалған") {
		t.Errorf("after assigning, the roadmap's page does not show the event and the person")
	}
	if again := c.post("/roadmaps/"+id+"/assign?lang=kk", form); again.status != http.StatusSeeOther || stream() != before+1 {
		t.Errorf("double submit: %d, %d events, want one", again.status, stream()-before)
	}
	// Stale: someone else assigns after the page was read.
	stale := formValues(t, c.get(path).body, "form-assign")
	stale.Set("person_id", "deputy-assigned-2")
	stale.Set("role", "deputy")
	stale.Set("display_name", "Гүлнар Депутатова")
	if _, err := e.cmds.AssignRoadmapResponsible.Handle(context.Background(), commands.AssignRoadmapResponsible{
		Header: commands.Header{Actor: commands.Actor{ID: "admin-other", Role: "admin"}}, RoadmapID: id, PersonID: "official-other-3",
		Role: domain.RoleOfficial, DisplayName: "Басқа Шенеунік"}); err != nil {
		t.Fatal(err)
	}
	cat := readCatalogs(t)
	if res := c.post("/roadmaps/"+id+"/assign?lang=kk", stale); res.status != http.StatusConflict ||
		!strings.Contains(html.UnescapeString(res.body), cat["kk"]["form.stale"]) || !strings.Contains(res.body, "Басқа Шенеунік") {
		t.Errorf("stale assign form: %d, want 409 naming the other assignment", res.status)
	}
	// Unassign: a reason is required, in the page's language.
	un := formValues(t, c.get(path).body, "form-unassign")
	un.Set("person_id", "official-assigned-1")
	if res := c.post("/roadmaps/"+id+"/unassign?lang=kk", un); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(html.UnescapeString(res.body), cat["kk"]["form.err.reason"]) {
		t.Errorf("unassign without a reason: %d, want 422 with %q", res.status, cat["kk"]["form.err.reason"])
	}
	un.Set("reason", "басқа жұмысқа ауысты")
	res = c.post("/roadmaps/"+id+"/unassign?lang=kk", un)
	if res.status != http.StatusSeeOther {
		t.Fatalf("unassign: %d", res.status)
	}
	if page := c.get(path); !strings.Contains(page.body, "басқа жұмысқа ауысты") {
		t.Error("the roadmap's history does not show the unassignment's reason")
	}
	// An officer of another roadmap, and the roadmap's own officer: the
	// API lets only administrators assign.
	off := e.client(t)
	off.signIn("officer")
	own := off.get("/roadmaps/" + wRoadmap + "?lang=en")
	if strings.Contains(own.body, `id="form-assign"`) {
		t.Error("an officer sees the assign form")
	}
	f := formValues(t, c.get("/roadmaps/"+wRoadmap+"?lang=en").body, "form-assign")
	f.Set("person_id", "official-sneaky")
	f.Set("role", "official")
	f.Set("display_name", "Sneaky")
	f.Set("csrf", csrfOf(t, own.body))
	v0, _ := e.store.StreamVersion(context.Background(), domain.RoadmapStream(wRoadmap))
	if res := off.post("/roadmaps/"+wRoadmap+"/assign?lang=en", f); res.status != http.StatusForbidden {
		t.Errorf("an officer posts the assign form: %d, want 403", res.status)
	}
	if v1, _ := e.store.StreamVersion(context.Background(), domain.RoadmapStream(wRoadmap)); v1 != v0 {
		t.Error("a refused assignment appended")
	}
}

var secretRE = regexp.MustCompile(`plt_[A-Za-z0-9_-]{20,}`)

func TestIssueTokenFormShowsTheSecretOnceAndRevokeEndsItsSessions(t *testing.T) {
	e := newWriteEnv(t)
	c := e.client(t)
	c.signIn("admin")
	cat := readCatalogs(t)
	// Field errors, in every language.
	for _, lang := range languages {
		f := formValues(t, c.get("/admin?lang="+lang).body, "form-token")
		f.Set("name", "Officer without a person")
		f.Set("role", "officer")
		res := c.post("/admin/token?lang="+lang, f)
		want := `<p class="field-error" id="form-token-person-id-error">` + cat[lang]["form.err.person_required"] + `</p>`
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(res.body), want) {
			t.Errorf("an officer token without a person (%s): %d, want 422 with the error next to person_id", lang, res.status)
		}
	}
	before := e.tokenCount(t)
	form := formValues(t, c.get("/admin?lang=en").body, "form-token")
	form.Set("name", "Ревизор Ерлан")
	form.Set("role", "deputy")
	form.Set("person_id", "deputy-issued-1")
	first := c.post("/admin/token?lang=en", form)
	secret := secretRE.FindString(first.body)
	if first.status != http.StatusOK || secret == "" || !strings.Contains(first.header.Get("Cache-Control"), "no-store") {
		t.Fatalf("issue: %d, secret shown: %v, Cache-Control %q", first.status, secret != "", first.header.Get("Cache-Control"))
	}
	again := c.post("/admin/token?lang=en", form)
	if again.status != http.StatusOK || secretRE.MatchString(again.body) || !strings.Contains(html.UnescapeString(again.body), "Ревизор Ерлан") {
		t.Errorf("double submit: %d, shows a secret: %v (want the note that it was issued once, and no secret)", again.status, secretRE.MatchString(again.body))
	}
	if got := e.tokenCount(t); got != before+1 {
		t.Errorf("two submits of one form issued %d tokens, want 1", got-before)
	}
	if list := c.get("/admin?lang=en"); secretRE.MatchString(list.body) {
		t.Error("the admin page shows a secret again")
	}
	// The secret signs in; revoking it ends that session at once.
	holder := e.client(t)
	sf := formValues(t, holder.get("/signin?lang=en").body, "form-signin")
	sf.Set("token", secret)
	if res := holder.post("/signin?lang=en", sf); res.status != http.StatusSeeOther {
		t.Fatalf("sign in with the issued token: %d", res.status)
	}
	if !strings.Contains(holder.get("/?lang=en").body, "Ревизор Ерлан") {
		t.Fatal("the issued token's session does not name its holder")
	}
	var id string
	if err := e.db.Get(&id, `SELECT id::text FROM api_tokens WHERE name = $1`, "Ревизор Ерлан"); err != nil {
		t.Fatal(err)
	}
	rv := formValues(t, c.get("/admin?lang=en").body, "form-revoke")
	rv.Set("token_id", id)
	if res := c.post("/admin/revoke?lang=en", rv); res.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.status)
	}
	if strings.Contains(holder.get("/?lang=en").body, "Ревизор Ерлан") {
		t.Error("the revoked token's session still signs in")
	}
	if ids := tokenIDs(t, c.get("/admin?lang=en").body); strings.Contains(strings.Join(ids, " "), id) {
		t.Error("the revoke form still offers the revoked token")
	}
	rv.Set("token_id", "0190a6a4-5e2b-7c3d-8e4f-00000000beef")
	if res := c.post("/admin/revoke?lang=ru", rv); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(html.UnescapeString(res.body), cat["ru"]["form.err.token"]) {
		t.Errorf("revoking an unknown token: %d, want 422 with %q", res.status, cat["ru"]["form.err.token"])
	}
}

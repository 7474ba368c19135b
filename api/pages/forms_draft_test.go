package pages_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"promiseledger/domain"
	"promiseledger/projections"
)

// The council member's recommendation form, on the council's page.

// draftsOf counts the recommendations drafted for the write world's
// council in the event log.
func (e *writeEnv) draftsOf(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM events WHERE type = $1 AND convert_from(data, 'UTF8')::jsonb->>'council_id' = $2`,
		domain.TypeRecommendationDrafted, wCouncil); err != nil {
		t.Fatal(err)
	}
	return n
}

func draftForm(hidden url.Values) url.Values {
	v := url.Values{
		"title_kk": {"Жол сапасын тексеру"}, "title_ru": {"Проверить качество дороги"}, "title_en": {"Inspect the road's quality"},
		"proposal_kk": {"Комиссия құрып, учаскені қайта тексеру."}, "proposal_ru": {"Создать комиссию и перепроверить участок."},
		"proposal_en":  {"Form a commission and re-inspect the section."},
		"addressee_id": {"akimat-forms"}, "addressee_kk": {"Сынақ әкімдігі"}, "addressee_ru": {"Тестовый акимат"}, "addressee_en": {"Test akimat"},
	}
	for k, vals := range hidden {
		v[k] = vals
	}
	return v
}

func TestDraftFormRecordsOnceAndTheRecommendationPageShowsIt(t *testing.T) {
	e := newWriteEnv(t)
	e.withCouncil(t)
	measure := e.newIndicator(t, domain.KindNumeric)
	c := e.client(t)
	c.awaitSignedIn("council", "/councils/"+wCouncil+"?lang=en", `id="form-draft"`)
	form := draftForm(formValues(t, c.get("/councils/"+wCouncil+"?lang=en").body, "form-draft"))
	form.Set("measure_id", measure)
	before := e.draftsOf(t)
	first := c.post("/councils/"+wCouncil+"/draft?lang=en", form)
	if first.status != http.StatusSeeOther {
		t.Fatalf("draft: %d %s", first.status, first.body)
	}
	loc := first.header.Get("Location")
	m := locationEventRE.FindStringSubmatch(loc)
	if m == nil || !strings.HasPrefix(loc, "/recommendations/") {
		t.Fatalf("redirect to %q, want the recommendation's page at the new event", loc)
	}
	// Read-your-writes: the recommendation's page, its history and the
	// council's list show it at once.
	page := c.get(strings.Split(loc, "#")[0])
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="e-`+m[1]+`"`) || !strings.Contains(page.body, "Inspect the road&#39;s quality") ||
		!strings.Contains(page.body, `href="/measures/`+measure+`?lang=en"`) {
		t.Errorf("the recommendation's page (%d) does not show the draft %s with its measure", page.status, m[1])
	}
	recPath := strings.Split(strings.Split(loc, "#")[0], "?")[0]
	if council := c.get("/councils/" + wCouncil + "?lang=en"); !strings.Contains(council.body, `href="`+recPath+`?lang=en"`) {
		t.Errorf("the council's page does not link to the new recommendation %s", recPath)
	}
	again := c.post("/councils/"+wCouncil+"/draft?lang=en", form)
	if again.status != http.StatusSeeOther || again.header.Get("Location") != loc {
		t.Errorf("double submit: %d to %q, want the same 303 to %q", again.status, again.header.Get("Location"), loc)
	}
	if got := e.draftsOf(t); got != before+1 {
		t.Errorf("%d drafts after two submits of one form, want %d", got, before+1)
	}
	var by string
	if err := e.db.Get(&by, `SELECT convert_from(metadata, 'UTF8')::jsonb->>'actor_id' FROM events WHERE event_id = $1`, m[1]); err != nil {
		t.Fatal(err)
	}
	if by != wMember {
		t.Errorf("the draft is recorded as by %q, want the member %q", by, wMember)
	}
	// The same history in the API's read model: the form wrote through
	// the API's command.
	rec, err := projections.GetRecommendation(t.Context(), e.db, strings.TrimPrefix(recPath, "/recommendations/"), nil, time.Now())
	if err != nil || rec.Addressee.ID != "akimat-forms" || len(rec.Links.IndicatorIDs) != 1 {
		t.Errorf("the read model holds %+v (%v)", rec, err)
	}
}

func TestDraftFormIsShownOnlyToMembersAndRefusedToOthers(t *testing.T) {
	e := newWriteEnv(t)
	e.withCouncil(t)
	member := e.client(t)
	member.awaitSignedIn("council", "/councils/"+wCouncil+"?lang=en", `id="form-draft"`)
	form := draftForm(formValues(t, member.get("/councils/"+wCouncil+"?lang=en").body, "form-draft"))
	if anon := e.client(t).get("/councils/" + wCouncil + "?lang=en"); strings.Contains(anon.body, `id="form-draft"`) {
		t.Error("a reader who is not signed in sees the draft form")
	}
	before := e.draftsOf(t)
	for _, role := range []string{"officer", "deputy", "admin"} {
		c := e.client(t)
		c.signIn(role)
		page := c.get("/councils/" + wCouncil + "?lang=en")
		if strings.Contains(page.body, `id="form-draft"`) {
			t.Errorf("%s, not a member, sees the draft form", role)
		}
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.body)
		if csrf == nil {
			t.Fatalf("%s: no sign-out form", role)
		}
		f := draftForm(form)
		f.Set("csrf", html.UnescapeString(csrf[1]))
		if res := c.post("/councils/"+wCouncil+"/draft?lang=en", f); res.status != http.StatusForbidden {
			t.Errorf("%s posts the draft form: %d, want 403", role, res.status)
		}
	}
	noCSRF := draftForm(form)
	noCSRF.Del("csrf")
	if res := member.post("/councils/"+wCouncil+"/draft?lang=en", noCSRF); res.status != http.StatusForbidden {
		t.Errorf("the member without the CSRF token: %d, want 403", res.status)
	}
	if res := member.post("/councils/0190a6a4-5e2b-7c3d-8e4f-0000000f0cff/draft?lang=en", form); res.status != http.StatusNotFound {
		t.Errorf("a draft for an unknown council: %d, want 404", res.status)
	}
	if got := e.draftsOf(t); got != before {
		t.Errorf("refused posts drafted %d recommendations, want 0", got-before)
	}
}

func TestDraftFormFieldErrorsInEveryLanguage(t *testing.T) {
	e := newWriteEnv(t)
	e.withCouncil(t)
	c := e.client(t)
	c.awaitSignedIn("council", "/councils/"+wCouncil+"?lang=en", `id="form-draft"`)
	cat := readCatalogs(t)
	cases := []struct {
		name, field, key string
		set              map[string]string
	}{
		{"no Kazakh title", "title_kk", "form.err.required", map[string]string{"title_kk": ""}},
		{"a body code in Cyrillic", "addressee_id", "form.err.slug", map[string]string{"addressee_id": "Акимат"}},
		{"no body name in Kazakh", "addressee_kk", "form.err.required", map[string]string{"addressee_kk": ""}},
		{"an unknown measure", "measure_id", "form.err.measure", map[string]string{"measure_id": "0190a6a4-5e2b-7c3d-8e4f-00000000dead"}},
		{"a measure id that is not one", "measure_id", "form.err.measure", map[string]string{"measure_id": "road 7"}},
		{"a control character in the proposal", "proposal_ru", "form.err.text", map[string]string{"proposal_ru": "a\x1bb"}},
	}
	before := e.draftsOf(t)
	for _, tc := range cases {
		for _, lang := range languages {
			form := draftForm(formValues(t, c.get("/councils/"+wCouncil+"?lang="+lang).body, "form-draft"))
			for k, v := range tc.set {
				form.Set(k, v)
			}
			res := c.post("/councils/"+wCouncil+"/draft?lang="+lang, form)
			if res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s (%s): %d, want 422", tc.name, lang, res.status)
				continue
			}
			ctrl := "form-draft-" + strings.ReplaceAll(tc.field, "_", "-")
			want := `<p class="field-error" id="` + ctrl + `-error">` + cat[lang][tc.key] + `</p>`
			if !strings.Contains(html.UnescapeString(res.body), want) {
				t.Errorf("%s (%s): no %q next to %s", tc.name, lang, cat[lang][tc.key], tc.field)
			}
		}
	}
	if got := e.draftsOf(t); got != before {
		t.Errorf("refused forms drafted %d recommendations, want 0", got-before)
	}
}

package pages_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// The council's forms: a member assesses a measure on its page, a deputy
// replies on theirs, a member drafts a recommendation on the council's.

const (
	wCouncil = "0190a6a4-5e2b-7c3d-8e4f-0000000f0c01"
	wMember  = "member-forms-1" // the "council" token's person
)

var councilOnce struct {
	once sync.Once
	err  error
}

// withCouncil registers the write world's council with the "council"
// token's person as a member, once, and waits for the read model.
func (e *writeEnv) withCouncil(t *testing.T) {
	t.Helper()
	councilOnce.once.Do(func() {
		ctx := context.Background()
		h := commands.Header{Actor: commands.Actor{ID: "admin-setup", Role: "admin"}}
		if _, err := e.cmds.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: h, ID: wCouncil, TerritoryKATO: "110000000",
			Level: domain.CouncilRegional, Name: domain.Text{KK: "Сынақ кеңесі", RU: "Тестовый совет", EN: "Test council"}}); err != nil {
			councilOnce.err = err
			return
		}
		_, councilOnce.err = e.cmds.JoinCouncil.Handle(ctx, commands.JoinCouncil{Header: h, CouncilID: wCouncil, MemberID: wMember,
			Role: domain.MemberMember, DisplayName: "Ержан Кеңесов"})
	})
	if councilOnce.err != nil {
		t.Fatalf("register the council: %v", councilOnce.err)
	}
	e.waitFor(t, projections.CouncilsName)
}

// waitFor waits until a projector has applied every event stored so far.
func (e *writeEnv) waitFor(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	head := e.head(t)
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		cp, err := projections.Checkpoint(ctx, e.db, name)
		if err != nil {
			t.Fatal(err)
		}
		if !cp.Less(head) {
			return
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("projector %s is at %s, the log at %s after a minute", name, cp, head)
		}
	}
}

// await gets a page until it holds needle (a form the test is about to
// use): the projectors run apart from the commands, and a test's setup
// writes may not be on the pages yet. Bounded by a minute.
func (c *browserClient) await(path, needle string) response {
	c.t.Helper()
	start := time.Now()
	for {
		res := c.get(path)
		if strings.Contains(res.body, needle) || time.Since(start) > time.Minute {
			return res
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// awaitSignedIn signs in as role and waits until path holds needle.
func (c *browserClient) awaitSignedIn(role, path, needle string) {
	c.t.Helper()
	c.signIn(role)
	if res := c.await(path, needle); !strings.Contains(res.body, needle) {
		c.t.Fatalf("%s: %s never showed %s", role, path, needle)
	}
}

// assessmentsOf counts the assessments of a measure in the event log.
func (e *writeEnv) assessmentsOf(t *testing.T, id string) int {
	t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM events WHERE type = $1 AND convert_from(data, 'UTF8')::jsonb->>'indicator_id' = $2`, domain.TypeAssessmentRecorded, id); err != nil {
		t.Fatal(err)
	}
	return n
}

func assessForm(hidden url.Values) url.Values {
	v := url.Values{"council_id": {wCouncil}, "position": {"disagree"}, "comment": {"Дорога не построена: акт подписан без выезда"},
		"evidence_url": {"https://example.kz/photo/9"}}
	for k, vals := range hidden {
		v[k] = vals
	}
	return v
}

func TestAssessFormRecordsOnceAndTheMeasurePageShowsIt(t *testing.T) {
	e := newWriteEnv(t)
	e.withCouncil(t)
	id := e.newIndicator(t, domain.KindNumeric)
	c := e.client(t)
	c.signIn("council")
	page := c.await("/measures/"+id+"?lang=en", `id="form-assess"`)
	if !strings.Contains(page.body, `<option value="`+wCouncil+`" selected>Test council</option>`) &&
		!strings.Contains(page.body, `<option value="`+wCouncil+`">Test council</option>`) {
		t.Errorf("the assessment form does not offer the member's council")
	}
	form := assessForm(formValues(t, page.body, "form-assess"))
	first := c.post("/measures/"+id+"/assess?lang=en", form)
	if first.status != http.StatusSeeOther {
		t.Fatalf("assess: %d %s", first.status, first.body)
	}
	loc := first.header.Get("Location")
	m := locationEventRE.FindStringSubmatch(loc)
	if m == nil || !strings.HasPrefix(loc, "/measures/"+id+"?lang=en") {
		t.Fatalf("redirect to %q, want the measure's page at the new event", loc)
	}
	after := html.UnescapeString(c.get(strings.Split(loc, "#")[0]).body)
	if !strings.Contains(after, `id="e-`+m[1]+`"`) || !strings.Contains(after, "акт подписан без выезда") {
		t.Errorf("the page after the redirect does not show assessment event %s", m[1])
	}
	again := c.post("/measures/"+id+"/assess?lang=en", form)
	if again.status != http.StatusSeeOther || again.header.Get("Location") != loc {
		t.Errorf("double submit: %d to %q, want the same 303 to %q", again.status, again.header.Get("Location"), loc)
	}
	if n := e.assessmentsOf(t, id); n != 1 {
		t.Errorf("%d assessments after two submits of one form, want 1", n)
	}
	// The API's record says the same: one assessment, by the member.
	var by string
	if err := e.db.Get(&by, `SELECT convert_from(metadata, 'UTF8')::jsonb->>'actor_id' FROM events WHERE event_id = $1`, m[1]); err != nil {
		t.Fatal(err)
	}
	if by != wMember {
		t.Errorf("the assessment is recorded as by %q, want %q", by, wMember)
	}
}

func TestAssessFormIsShownOnlyToCouncilMembersAndRefusedToOthers(t *testing.T) {
	e := newWriteEnv(t)
	e.withCouncil(t)
	id := e.newIndicator(t, domain.KindNumeric)
	member := e.client(t)
	member.signIn("council")
	form := assessForm(formValues(t, member.await("/measures/"+id+"?lang=en", `id="form-assess"`).body, "form-assess"))
	for _, role := range []string{"officer", "deputy", "admin"} {
		c := e.client(t)
		c.signIn(role)
		page := c.get("/measures/" + id + "?lang=en")
		if strings.Contains(page.body, `id="form-assess"`) {
			t.Errorf("%s, not a member, sees the assessment form", role)
		}
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.body)
		if csrf == nil {
			t.Fatalf("%s: no sign-out form", role)
		}
		f := assessForm(form)
		f.Set("csrf", html.UnescapeString(csrf[1]))
		if res := c.post("/measures/"+id+"/assess?lang=en", f); res.status != http.StatusForbidden {
			t.Errorf("%s posts the assessment form: %d, want 403", role, res.status)
		}
	}
	// A member naming a council they do not sit on: the API's policy
	// answers, 404 for no such council.
	f := assessForm(form)
	f.Set("council_id", "0190a6a4-5e2b-7c3d-8e4f-0000000f0cff")
	if res := member.post("/measures/"+id+"/assess?lang=en", f); res.status != http.StatusNotFound {
		t.Errorf("an unknown council: %d, want 404", res.status)
	}
	// Without the session's CSRF token.
	f = assessForm(form)
	f.Del("csrf")
	if res := member.post("/measures/"+id+"/assess?lang=en", f); res.status != http.StatusForbidden {
		t.Errorf("no CSRF token: %d, want 403", res.status)
	}
	if n := e.assessmentsOf(t, id); n != 0 {
		t.Errorf("refused posts recorded %d assessments, want 0", n)
	}
}

func TestAssessFormFieldErrorsInEveryLanguageAndHostileText(t *testing.T) {
	e := newWriteEnv(t)
	e.withCouncil(t)
	id := e.newIndicator(t, domain.KindNumeric)
	c := e.client(t)
	c.signIn("council")
	cat := readCatalogs(t)
	cases := []struct {
		name, field, key string
		set              map[string]string
	}{
		{"no comment", "comment", "form.err.comment", map[string]string{"comment": "  "}},
		{"no position", "position", "form.err.position", map[string]string{"position": "maybe"}},
		{"a NUL in the comment", "comment", "form.err.text", map[string]string{"comment": "a\x00b"}},
		{"bad UTF-8 in the comment", "comment", "form.err.text", map[string]string{"comment": "a\xffb"}},
		{"a bidi override in the comment", "comment", "form.err.text", map[string]string{"comment": "a\u202eb"}},
		{"a comment of 9,000 characters (the ledger keeps 8,000)", "comment", "form.err.text", map[string]string{"comment": strings.Repeat("я", 9000)}},
		{"a link that is not http", "evidence_url", "form.err.url", map[string]string{"evidence_url": "javascript:alert(1)"}},
	}
	for _, tc := range cases {
		for _, lang := range languages {
			form := assessForm(formValues(t, c.await("/measures/"+id+"?lang="+lang, `id="form-assess"`).body, "form-assess"))
			for k, v := range tc.set {
				form.Set(k, v)
			}
			res := c.post("/measures/"+id+"/assess?lang="+lang, form)
			if res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s (%s): %d, want 422", tc.name, lang, res.status)
				continue
			}
			ctrl := "form-assess-" + strings.ReplaceAll(tc.field, "_", "-")
			want := `<p class="field-error" id="` + ctrl + `-error">` + cat[lang][tc.key] + `</p>`
			if !strings.Contains(html.UnescapeString(res.body), want) {
				t.Errorf("%s (%s): no %q next to %s", tc.name, lang, cat[lang][tc.key], tc.field)
			}
		}
	}
	if n := e.assessmentsOf(t, id); n != 0 {
		t.Errorf("refused forms recorded %d assessments, want 0", n)
	}
}

func TestStaleAssessFormIsRefusedNamingWhatChanged(t *testing.T) {
	e := newWriteEnv(t)
	e.withCouncil(t)
	id := e.newIndicator(t, domain.KindNumeric)
	c := e.client(t)
	c.signIn("council")
	form := assessForm(formValues(t, c.await("/measures/"+id+"?lang=en", `id="form-assess"`).body, "form-assess"))
	// The officer reports after the member opened the page: the member
	// would be assessing a report they have not seen.
	v := 30.0
	if _, err := e.cmds.ReportProgress.Handle(context.Background(), commands.ReportProgress{
		Header: commands.Header{Actor: commands.Actor{ID: wOfficer, Role: "officer"}}, IndicatorID: id, Value: &v,
		Evidence: domain.Evidence{URL: "https://example.kz/act/new"}}); err != nil {
		t.Fatal(err)
	}
	res := c.post("/measures/"+id+"/assess?lang=en", form)
	if res.status != http.StatusConflict {
		t.Fatalf("stale assessment form: %d, want 409", res.status)
	}
	cat := readCatalogs(t)
	body := html.UnescapeString(res.body)
	for _, want := range []string{cat["en"]["form.stale"], cat["en"]["event.reported"], "акт подписан без выезда"} {
		if !strings.Contains(body, want) {
			t.Errorf("the refused form's page lacks %q", want)
		}
	}
	if n := e.assessmentsOf(t, id); n != 0 {
		t.Errorf("a stale form recorded %d assessments, want 0", n)
	}
	if redo := c.post("/measures/"+id+"/assess?lang=en", assessForm(formValues(t, res.body, "form-assess"))); redo.status != http.StatusSeeOther {
		t.Errorf("the redone form: %d, want 303", redo.status)
	}
}

// assessed records a council assessment of a fresh measure, through the
// commands, and returns its id once the read model has it.
func (e *writeEnv) assessed(t *testing.T) string {
	t.Helper()
	e.withCouncil(t)
	id := e.newIndicator(t, domain.KindNumeric)
	res, err := e.cmds.RecordAssessment.Handle(context.Background(), commands.RecordAssessment{
		Header: commands.Header{Actor: commands.Actor{ID: wMember, Role: "council"}}, CouncilID: wCouncil, IndicatorID: id,
		Position: domain.PositionDisagree, Comment: "Отчёт не подтверждён"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, projections.CouncilsName)
	return res.ID
}

// repliesTo counts the replies recorded to an assessment.
func (e *writeEnv) repliesTo(t *testing.T, assessment string) int {
	t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM events WHERE type = $1 AND stream_id = $2`, domain.TypeAssessmentReplied, domain.AssessmentStream(assessment)); err != nil {
		t.Fatal(err)
	}
	return n
}

func replyForm(hidden url.Values) url.Values {
	v := url.Values{"reply": {"Акт подписан после выезда комиссии"}, "evidence_url": {"https://example.kz/act/commission"}}
	for k, vals := range hidden {
		v[k] = vals
	}
	return v
}

func TestReplyFormRecordsOnceAndTheDeputyPageShowsIt(t *testing.T) {
	e := newWriteEnv(t)
	aid := e.assessed(t)
	c := e.client(t)
	c.signIn("deputy")
	page := c.await("/deputies/"+wDeputy+"?lang=en", `id="form-reply-`+aid+`"`)
	form := replyForm(formValues(t, page.body, "form-reply-"+aid))
	if form.Get("assessment_id") != aid {
		t.Fatalf("the reply form names assessment %q, want %s", form.Get("assessment_id"), aid)
	}
	first := c.post("/deputies/"+wDeputy+"/reply?lang=en", form)
	if first.status != http.StatusSeeOther {
		t.Fatalf("reply: %d %s", first.status, first.body)
	}
	loc := first.header.Get("Location")
	m := locationEventRE.FindStringSubmatch(loc)
	if m == nil || !strings.HasPrefix(loc, "/deputies/"+wDeputy+"?lang=en") {
		t.Fatalf("redirect to %q, want the deputy's page at the new event", loc)
	}
	after := html.UnescapeString(c.get(strings.Split(loc, "#")[0]).body)
	if !strings.Contains(after, `id="e-`+m[1]+`"`) || !strings.Contains(after, "Акт подписан после выезда комиссии") {
		t.Errorf("the page after the redirect does not show reply event %s", m[1])
	}
	if strings.Contains(after, `id="form-reply-`+aid+`"`) {
		t.Errorf("an answered assessment still offers a reply form")
	}
	again := c.post("/deputies/"+wDeputy+"/reply?lang=en", form)
	if again.status != http.StatusSeeOther || again.header.Get("Location") != loc {
		t.Errorf("double submit: %d to %q, want the same 303 to %q", again.status, again.header.Get("Location"), loc)
	}
	if n := e.repliesTo(t, aid); n != 1 {
		t.Errorf("%d replies after two submits of one form, want 1", n)
	}
}

func TestReplyFormIsOnlyTheRespondentsAndRefusedToOthers(t *testing.T) {
	e := newWriteEnv(t)
	aid := e.assessed(t)
	deputy := e.client(t)
	deputy.signIn("deputy")
	form := replyForm(formValues(t, deputy.await("/deputies/"+wDeputy+"?lang=en", `id="form-reply-`+aid+`"`).body, "form-reply-"+aid))
	for _, role := range []string{"council", "officer", "other-officer", "admin"} {
		c := e.client(t)
		c.signIn(role)
		page := c.get("/deputies/" + wDeputy + "?lang=en")
		if strings.Contains(page.body, `id="form-reply-`) {
			t.Errorf("%s sees a reply form on the deputy's page", role)
		}
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.body)
		if csrf == nil {
			t.Fatalf("%s: no sign-out form", role)
		}
		f := replyForm(form)
		f.Set("csrf", html.UnescapeString(csrf[1]))
		if res := c.post("/deputies/"+wDeputy+"/reply?lang=en", f); res.status != http.StatusForbidden {
			t.Errorf("%s posts the deputy's reply form: %d, want 403", role, res.status)
		}
	}
	// Without the session's CSRF token.
	f := replyForm(form)
	f.Del("csrf")
	if res := deputy.post("/deputies/"+wDeputy+"/reply?lang=en", f); res.status != http.StatusForbidden {
		t.Errorf("no CSRF token: %d, want 403", res.status)
	}
	if n := e.repliesTo(t, aid); n != 0 {
		t.Errorf("refused posts recorded %d replies, want 0", n)
	}
}

func TestReplyFormFieldErrorsInEveryLanguageAndHostileText(t *testing.T) {
	e := newWriteEnv(t)
	aid := e.assessed(t)
	c := e.client(t)
	c.signIn("deputy")
	cat := readCatalogs(t)
	cases := []struct {
		name, field, key string
		set              map[string]string
	}{
		{"no reply", "reply", "form.err.reply", map[string]string{"reply": ""}},
		{"an escape in the reply", "reply", "form.err.text", map[string]string{"reply": "a\x1b[31mb"}},
		{"a lone surrogate in the reply", "reply", "form.err.text", map[string]string{"reply": "a\xed\xa0\x80b"}},
		{"a reply of 9,000 characters", "reply", "form.err.text", map[string]string{"reply": strings.Repeat("я", 9000)}},
	}
	for _, tc := range cases {
		for _, lang := range languages {
			form := replyForm(formValues(t, c.await("/deputies/"+wDeputy+"?lang="+lang, `id="form-reply-`+aid+`"`).body, "form-reply-"+aid))
			for k, v := range tc.set {
				form.Set(k, v)
			}
			res := c.post("/deputies/"+wDeputy+"/reply?lang="+lang, form)
			if res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s (%s): %d, want 422", tc.name, lang, res.status)
				continue
			}
			// The error is next to the field of this assessment's form.
			body := html.UnescapeString(res.body)
			i := strings.Index(body, `id="form-reply-`+aid+`"`)
			want := `<p class="field-error" id="form-reply-` + aid + `-reply-error">` + cat[lang][tc.key] + `</p>`
			if i < 0 || !strings.Contains(body[i:], want) {
				t.Errorf("%s (%s): no %q next to the reply", tc.name, lang, cat[lang][tc.key])
			}
		}
	}
	if n := e.repliesTo(t, aid); n != 0 {
		t.Errorf("refused forms recorded %d replies, want 0", n)
	}
}

func TestStaleReplyFormIsRefusedNamingWhatChanged(t *testing.T) {
	e := newWriteEnv(t)
	aid := e.assessed(t)
	c := e.client(t)
	c.signIn("deputy")
	form := replyForm(formValues(t, c.await("/deputies/"+wDeputy+"?lang=en", `id="form-reply-`+aid+`"`).body, "form-reply-"+aid))
	if _, err := e.cmds.WithdrawAssessment.Handle(context.Background(), commands.WithdrawAssessment{
		Header: commands.Header{Actor: commands.Actor{ID: wMember, Role: "council"}, Reason: "оценка отозвана советом"}, AssessmentID: aid}); err != nil {
		t.Fatal(err)
	}
	res := c.post("/deputies/"+wDeputy+"/reply?lang=en", form)
	if res.status != http.StatusConflict {
		t.Fatalf("stale reply form: %d, want 409", res.status)
	}
	body := html.UnescapeString(res.body)
	for _, want := range []string{readCatalogs(t)["en"]["form.reply.stale"], "оценка отозвана советом"} {
		if !strings.Contains(body, want) {
			t.Errorf("the refused form's page lacks %q", want)
		}
	}
	if n := e.repliesTo(t, aid); n != 0 {
		t.Errorf("a stale form recorded %d replies, want 0", n)
	}
}

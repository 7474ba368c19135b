package pages_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// The deputy's reply to their rating (deputy.rating_replied.v1), on the
// deputy's page.

var ratingOnce struct {
	once sync.Once
	err  error
}

// withRating registers the write world's deputy in the regional
// maslikhat and publishes a quarterly rating method, once, and waits for
// the ratings read model: the deputy's page then shows a rating to reply
// to.
func (e *writeEnv) withRating(t *testing.T) {
	t.Helper()
	ratingOnce.once.Do(func() {
		ctx := context.Background()
		h := commands.Header{Actor: commands.Actor{ID: "admin-setup", Role: "admin"}}
		six := 6.0
		text := domain.Text{KK: "Қабылдау рейтингі", RU: "Рейтинг приёмов", EN: "Receptions rating"}
		since := h
		since.EffectiveAt = time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)
		steps := []func() (commands.Result, error){
			func() (commands.Result, error) {
				return e.cmds.PublishRatingMethod.Handle(ctx, commands.PublishRatingMethod{Header: h, Method: "forms-rating", Title: text,
					Summary: "Receptions held.", EffectiveFrom: domain.NewDate(2021, 1, 1),
					Formula: domain.RatingFormula{Period: domain.RatingPeriod{Kind: domain.PeriodQuarter, From: domain.NewDate(2021, 1, 1)},
						Components: []domain.RatingComponent{{Key: "receptions", Title: text, Source: domain.MetricReceptionsHeld, Weight: 1,
							Normalization: domain.Normalization{Kind: domain.NormalizeRatioToTarget, Target: &six}}},
						Minimum: domain.MinimumData{Components: 1, Peers: 1}}})
			},
			func() (commands.Result, error) {
				return e.cmds.RegisterDeputy.Handle(ctx, commands.RegisterDeputy{Header: since, DeputyID: wDeputy, DisplayName: "Айгерим Сейткали",
					Assembly: domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: "110000000", Level: domain.CouncilRegional}})
			},
			func() (commands.Result, error) {
				// Only deputies in a faction are rated.
				return e.cmds.JoinFaction.Handle(ctx, commands.JoinFaction{Header: since, DeputyID: wDeputy, Faction: "forms-faction"})
			},
			func() (commands.Result, error) {
				return e.cmds.ReportDeputyActivity.Handle(ctx, commands.ReportDeputyActivity{Header: h, DeputyID: wDeputy,
					Period: domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)},
					Counts: domain.ActivityCounts{ReceptionsHeld: 4, PeopleReceived: 30, AppealsHandled: 10, Outcomes: domain.AppealOutcomes{Positive: 10}}})
			},
		}
		for _, step := range steps {
			if _, err := step(); err != nil {
				ratingOnce.err = err
				return
			}
		}
	})
	if ratingOnce.err != nil {
		t.Fatalf("register the deputy and the rating: %v", ratingOnce.err)
	}
	e.waitFor(t, projections.RatingsName)
}

func (e *writeEnv) ratingReplies(t *testing.T) int {
	t.Helper()
	return e.eventsOfType(t, domain.TypeDeputyRatingReplied)
}

func ratingReplyForm(hidden url.Values) url.Values {
	v := url.Values{"reply": {"Приёмы в мае были приостановлены решением маслихата"}, "evidence_url": {"https://maslikhat.example.kz/order/5"}}
	for k, vals := range hidden {
		v[k] = vals
	}
	return v
}

// TestRatingReplyFormRecordsOnceAndTheDeputyPageShowsIt walks the form's
// life in order, as a rating is answered once: field errors in every
// language, a stale form, then the reply, seen at once, a double submit
// recording once, and the form gone.
func TestRatingReplyFormRecordsOnceAndTheDeputyPageShowsIt(t *testing.T) {
	e := newWriteEnv(t)
	e.withRating(t)
	c := e.client(t)
	page := "/deputies/" + wDeputy
	c.awaitSignedIn("deputy", page+"?lang=en", `id="form-rating_reply"`)
	cat := readCatalogs(t)
	before := e.ratingReplies(t)
	for _, tc := range []struct{ name, set, key string }{
		{"an empty reply", "  ", "form.err.rating_reply"},
		{"a control character", "a\x1bb", "form.err.text"},
		{"a NUL", "a\x00b", "form.err.text"},
	} {
		for _, lang := range languages {
			f := ratingReplyForm(formValues(t, c.get(page+"?lang="+lang).body, "form-rating_reply"))
			f.Set("reply", tc.set)
			res := c.post(page+"/rating_reply?lang="+lang, f)
			want := `<p class="field-error" id="form-rating_reply-reply-error">` + cat[lang][tc.key] + `</p>`
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(res.body), want) {
				t.Errorf("%s (%s): %d, want 422 with %q next to the reply", tc.name, lang, res.status, cat[lang][tc.key])
			}
		}
	}
	// A form that lost the rating it answers is refused whole.
	broken := ratingReplyForm(formValues(t, c.get(page+"?lang=en").body, "form-rating_reply"))
	broken.Set("period_end", "soon")
	if res := c.post(page+"/rating_reply?lang=en", broken); res.status != http.StatusBadRequest {
		t.Errorf("a form without its rating: %d, want 400", res.status)
	}
	// Stale: the deputy's record changes after the page was read.
	stale := ratingReplyForm(formValues(t, c.get(page+"?lang=ru").body, "form-rating_reply"))
	if _, err := e.cmds.AssignDeputyResponsibility.Handle(context.Background(), commands.AssignDeputyResponsibility{
		Header: commands.Header{Actor: commands.Actor{ID: "admin-other", Role: "admin"}}, DeputyID: wDeputy,
		Subject: domain.ResponsibleForRoadmap, SubjectID: wRoadmap}); err != nil {
		t.Fatal(err)
	}
	if res := c.post(page+"/rating_reply?lang=ru", stale); res.status != http.StatusConflict ||
		!strings.Contains(html.UnescapeString(res.body), cat["ru"]["form.rating_reply.stale"]) {
		t.Errorf("a stale form: %d, want 409 with %q", res.status, cat["ru"]["form.rating_reply.stale"])
	}
	if got := e.ratingReplies(t); got != before {
		t.Fatalf("refused forms recorded %d replies", got-before)
	}
	e.waitFor(t, projections.RatingsName)
	form := ratingReplyForm(formValues(t, c.get(page+"?lang=ru").body, "form-rating_reply"))
	first := c.post(page+"/rating_reply?lang=ru", form)
	if first.status != http.StatusSeeOther {
		t.Fatalf("reply: %d %.1500s", first.status, first.body)
	}
	loc := first.header.Get("Location")
	m := locationEventRE.FindStringSubmatch(loc)
	if m == nil || !strings.HasPrefix(loc, page+"?lang=ru") {
		t.Fatalf("redirect to %q, want the deputy's page at the new event", loc)
	}
	after := c.get(strings.Split(loc, "#")[0])
	if !strings.Contains(after.body, `id="e-`+m[1]+`"`) || !strings.Contains(after.body, "Приёмы в мае были приостановлены") {
		t.Errorf("the deputy's page after the redirect does not show the reply %s", m[1])
	}
	if strings.Contains(after.body, `id="form-rating_reply"`) {
		t.Error("the rating answered still offers the reply form")
	}
	again := c.post(page+"/rating_reply?lang=ru", form)
	if again.status != http.StatusSeeOther || again.header.Get("Location") != loc {
		t.Errorf("double submit: %d to %q, want the same 303 to %q", again.status, again.header.Get("Location"), loc)
	}
	if got := e.ratingReplies(t); got != before+1 {
		t.Errorf("%d replies after two submits of one form, want 1", got-before)
	}
	// The public sees it too, signed out.
	if pub := e.client(t).get(page + "?lang=kk"); !strings.Contains(pub.body, `id="e-`+m[1]+`"`) {
		t.Error("a reader who is not signed in does not see the reply")
	}
	e.requireInAuditFeed(t, m[1])
}

func TestRatingReplyFormIsTheDeputysAloneAndRefusedToOthers(t *testing.T) {
	e := newWriteEnv(t)
	e.withRating(t)
	page := "/deputies/" + wDeputy
	before := e.ratingReplies(t)
	hidden := url.Values{"method": {"forms-rating"}, "method_version": {"1"}, "period_start": {"2021-01-01"}, "period_end": {"2021-03-31"},
		"key": {"5b0c7b8e-3f51-4a8f-9a0e-6b1d5f4c2e97"}, "version": {"0"}}
	for _, role := range []string{"officer", "council", "admin"} {
		c := e.client(t)
		c.signIn(role)
		body := c.get(page + "?lang=en").body
		if strings.Contains(body, `id="form-rating_reply"`) {
			t.Errorf("%s sees the deputy's rating reply form", role)
		}
		f := ratingReplyForm(hidden)
		f.Set("csrf", csrfOf(t, body))
		if res := c.post(page+"/rating_reply?lang=en", f); res.status != http.StatusForbidden {
			t.Errorf("%s posts a reply on the deputy's page: %d, want 403", role, res.status)
		}
	}
	if anon := e.client(t).post(page+"/rating_reply?lang=en", ratingReplyForm(hidden)); anon.status != http.StatusUnauthorized {
		t.Errorf("a post without a session: %d, want 401", anon.status)
	}
	if got := e.ratingReplies(t); got != before {
		t.Errorf("refused posts recorded %d replies", got-before)
	}
}

package pages_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"promiseledger/api"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// formsBrowser drives one Chromium through the write world's forms.
type formsBrowser struct {
	t     *testing.T
	e     *writeEnv
	ctx   context.Context
	shots string
}

func (b *formsBrowser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *formsBrowser) submit(what, form string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#"+form+` button[type="submit"]`), chromedp.NodeVisible)); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *formsBrowser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

func (b *formsBrowser) absent(sel string) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	gone, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(sel)+`) === null`))
	if err != nil {
		b.t.Fatal(err)
	}
	return gone
}

func (b *formsBrowser) shoot(sel, name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// landedEvent is the event the browser landed at after a form: the page's
// fragment, which must name an element of the history.
func (b *formsBrowser) landedEvent(what string) string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	m := locationEventRE.FindStringSubmatch(loc)
	if m == nil || b.absent("#e-"+m[1]) {
		b.t.Fatalf("after %s the browser is at %s, which shows no new event", what, loc)
	}
	return m[1]
}

func (b *formsBrowser) signIn(role string) {
	b.t.Helper()
	b.do("open the sign-in page", call(network.ClearBrowserCookies, cdp.Empty{}), viewport(1280, 900), chromedp.Navigate(b.e.srv.URL+"/signin?lang=en"),
		chromedp.SendKeys(chromedp.CSS("#form-signin-token"), b.e.tokens[role], chromedp.NodeVisible))
	b.submit("sign in as "+role, "form-signin")
	if who := b.text(".whoami strong"); who != role {
		b.t.Fatalf("after signing in as %s the header names %q", role, who)
	}
}

// TestNewFormsInBrowser signs in as a council member, an administrator and
// a deputy in Chromium and uses the forms added for them: a
// recommendation's draft (field errors read in kk, ru and en first), the
// administration page (a roadmap, a responsible, a token issued once and
// revoked) and a deputy's reply to their rating; each lands on the page
// showing the new event, which the audit feed then serves. Others see none
// of these forms. Screenshots of each form go to $LEDGER_SCREENSHOT_DIR.
func TestNewFormsInBrowser(t *testing.T) {
	e := newWriteEnv(t)
	e.withCouncil(t)
	b := &formsBrowser{t: t, e: e, ctx: newBrowser(t), shots: screenshotDir(t)}
	cat := loadTestCatalog(t)
	council := e.srv.URL + "/councils/" + wCouncil

	t.Run("council member drafts a recommendation", func(t *testing.T) {
		b.t = t
		e.client(t).awaitSignedIn("council", "/councils/"+wCouncil+"?lang=kk", `id="form-draft"`)
		b.signIn("council")
		for _, lang := range []string{"kk", "ru", "en"} {
			b.do("open the council", chromedp.Navigate(council+"?lang="+lang),
				chromedp.SendKeys(chromedp.CSS("#form-draft-title-ru"), "Отремонтировать дорогу", chromedp.NodeVisible),
				chromedp.SendKeys(chromedp.CSS("#form-draft-addressee-id"), "Акимат"))
			b.submit("send a draft without a Kazakh title", "form-draft")
			if got := b.text("#form-draft-title-kk-error"); got != cat[lang]["form.err.required"] {
				t.Errorf("%s: the error next to the Kazakh title reads %q, want %q", lang, got, cat[lang]["form.err.required"])
			}
			if got := b.text("#form-draft-addressee-id-error"); got != cat[lang]["form.err.slug"] {
				t.Errorf("%s: the error next to the body's code reads %q, want %q", lang, got, cat[lang]["form.err.slug"])
			}
			if lang != "en" {
				b.shoot("#form-draft", "draft-field-errors-"+lang+".png")
			}
		}
		b.do("fill the draft", chromedp.Navigate(council+"?lang=ru"), chromedp.WaitVisible(chromedp.CSS("#form-draft")))
		for field, v := range draftForm(nil) {
			b.do("type "+field, chromedp.SendKeys(chromedp.CSS("#form-draft-"+strings.ReplaceAll(field, "_", "-")), v[0]))
		}
		b.shoot("#form-draft", "draft-filled-ru.png")
		b.submit("draft", "form-draft")
		id := b.landedEvent("drafting")
		b.shoot("main", "recommendation-after-draft-ru.png")
		e.requireInAuditFeed(t, id)
	})

	t.Run("administrator registers a roadmap, assigns, issues and revokes a token", func(t *testing.T) {
		b.t = t
		b.signIn("admin")
		b.do("open the administration page from the header", chromedp.Navigate(e.srv.URL+"/?lang=kk"),
			chromedp.Click(chromedp.CSS(`.site-nav a[href^="/admin"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#form-roadmap")))
		b.do("send a roadmap for an unknown territory", chromedp.SendKeys(chromedp.CSS("#form-roadmap-territory-kato"), "990000000"),
			chromedp.SetValue(chromedp.CSS("#form-roadmap-period-start"), "2024-01-01"), chromedp.SetValue(chromedp.CSS("#form-roadmap-period-end"), "2027-12-31"))
		b.submit("register for an unknown territory", "form-roadmap")
		if got := b.text("#form-roadmap-territory-kato-error"); got != cat["kk"]["form.err.unknown"] {
			t.Errorf("the territory's error reads %q, want %q", got, cat["kk"]["form.err.unknown"])
		}
		if got := b.text("#form-roadmap-title-en-error"); got != cat["kk"]["form.err.required"] {
			t.Errorf("the English title's error reads %q, want %q", got, cat["kk"]["form.err.required"])
		}
		b.shoot("#form-roadmap", "admin-roadmap-field-error-kk.png")
		b.do("open the form in English", chromedp.Navigate(e.srv.URL+"/admin?lang=en"), chromedp.WaitVisible(chromedp.CSS("#form-roadmap")))
		b.do("choose the level", chromedp.SetValue(chromedp.CSS("#form-roadmap-level"), "regional"))
		for field, v := range roadmapForm(nil) {
			if field == "program_id" || field == "level" {
				continue // selects: the only programme, the level above
			}
			sel := "#form-roadmap-" + strings.ReplaceAll(field, "_", "-")
			if field == "period_start" || field == "period_end" {
				// A date input takes its value through script, in any locale.
				b.do("set "+field, chromedp.SetValue(chromedp.CSS(sel), v[0]))
				continue
			}
			b.do("type "+field, chromedp.SendKeys(chromedp.CSS(sel), v[0]))
		}
		b.shoot("#form-roadmap", "admin-roadmap-en.png")
		b.submit("register", "form-roadmap")
		reg := b.landedEvent("registering")
		e.requireInAuditFeed(t, reg)
		b.do("assign", chromedp.SendKeys(chromedp.CSS("#form-assign-person-id"), "official-browser-1", chromedp.NodeVisible),
			chromedp.SendKeys(chromedp.CSS("#form-assign-display-name"), "Бауыржан Браузеров"))
		b.shoot("#form-assign", "roadmap-assign-en.png")
		b.submit("assign", "form-assign")
		assigned := b.landedEvent("assigning")
		b.shoot("#history", "roadmap-history-en.png")
		e.requireInAuditFeed(t, assigned)
		b.do("open the administration page in Russian", chromedp.Navigate(e.srv.URL+"/admin?lang=ru"),
			chromedp.SendKeys(chromedp.CSS("#form-token-name"), "Наблюдатель", chromedp.NodeVisible),
			chromedp.SetValue(chromedp.CSS("#form-token-role"), "council"),
			chromedp.SendKeys(chromedp.CSS("#form-token-person-id"), "member-browser-1"))
		b.shoot("#form-token", "admin-token-ru.png")
		b.submit("issue", "form-token")
		secret := b.text("#token-issued code")
		if !strings.HasPrefix(secret, api.TokenPrefix) {
			t.Fatalf("the issued token reads %q", secret)
		}
		b.shoot("#token-issued", "admin-token-issued-ru.png")
		b.do("reload the page", chromedp.Navigate(e.srv.URL+"/admin?lang=ru"), chromedp.WaitVisible(chromedp.CSS("#form-revoke")))
		if !b.absent("#token-issued") {
			t.Error("the secret is shown again on the next visit")
		}
		var id string
		if err := e.db.Get(&id, `SELECT id::text FROM api_tokens WHERE name = 'Наблюдатель'`); err != nil {
			t.Fatal(err)
		}
		b.do("choose the token", chromedp.SetValue(chromedp.CSS("#form-revoke-token-id"), id))
		b.shoot("#form-revoke", "admin-revoke-ru.png")
		b.submit("revoke", "form-revoke")
		var revoked bool
		if err := e.db.Get(&revoked, `SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = $1`, id); err != nil || !revoked {
			t.Errorf("the token is not revoked (%v)", err)
		}
		b.shoot("#tokens", "admin-tokens-ru.png")
	})

	t.Run("deputy replies to their rating", func(t *testing.T) {
		b.t = t
		// A deputy of their own: a rating is answered once.
		e.withRating(t)
		const deputy2 = "deputy-forms-2"
		ctx := context.Background()
		if _, ok := e.tokens["deputy2"]; !ok {
			h := commands.Header{Actor: commands.Actor{ID: "admin-setup", Role: "admin"}, EffectiveAt: time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)}
			if _, err := e.cmds.RegisterDeputy.Handle(ctx, commands.RegisterDeputy{Header: h, DeputyID: deputy2, DisplayName: "Ерлан Екінші",
				Assembly: domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: "110000000", Level: domain.CouncilRegional}}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.cmds.JoinFaction.Handle(ctx, commands.JoinFaction{Header: h, DeputyID: deputy2, Faction: "forms-faction"}); err != nil {
				t.Fatal(err)
			}
			secret, _, err := api.CreateToken(ctx, e.db, api.TokenSpec{Name: "deputy2", Role: api.RoleDeputy, PersonID: deputy2})
			if err != nil {
				t.Fatal(err)
			}
			e.tokens["deputy2"] = secret
		}
		e.waitFor(t, projections.RatingsName)
		e.client(t).awaitSignedIn("deputy2", "/deputies/"+deputy2+"?lang=ru", `id="form-rating_reply"`)
		b.signIn("deputy2")
		b.do("open the deputy's page", chromedp.Navigate(e.srv.URL+"/deputies/"+deputy2+"?lang=ru"),
			chromedp.WaitVisible(chromedp.CSS("#form-rating_reply")))
		b.submit("reply with nothing", "form-rating_reply")
		if got := b.text("#form-rating_reply-reply-error"); got != cat["ru"]["form.err.rating_reply"] {
			t.Errorf("the empty reply's error reads %q, want %q", got, cat["ru"]["form.err.rating_reply"])
		}
		b.do("write the reply", chromedp.SendKeys(chromedp.CSS("#form-rating_reply-reply"), "В первом квартале я был избран только в феврале", chromedp.NodeVisible))
		b.shoot("#form-rating_reply", "deputy-rating-reply-ru.png")
		b.submit("reply", "form-rating_reply")
		id := b.landedEvent("replying")
		if !b.absent("#form-rating_reply") {
			t.Error("the answered rating still offers the form")
		}
		b.shoot("#rating-replies", "deputy-rating-replies-ru.png")
		e.requireInAuditFeed(t, id)
		b.do("the page in Kazakh", chromedp.Navigate(e.srv.URL+"/deputies/"+deputy2+"?lang=kk"), chromedp.WaitVisible(chromedp.CSS("#rating-replies")))
		b.shoot("#rating-replies", "deputy-rating-replies-kk.png")
	})

	t.Run("others see none of these forms", func(t *testing.T) {
		b.t = t
		for _, role := range []string{"officer", "deputy"} {
			b.signIn(role)
			b.do("open the council", chromedp.Navigate(council+"?lang=en"), chromedp.WaitVisible(chromedp.CSS("#members")))
			if !b.absent("#form-draft") {
				t.Errorf("%s sees the draft form", role)
			}
			if !b.absent(`.site-nav a[href^="/admin"]`) {
				t.Errorf("%s sees the link to the administration page", role)
			}
			b.do("open a roadmap", chromedp.Navigate(e.srv.URL+"/roadmaps/"+wRoadmap+"?lang=en"), chromedp.WaitVisible(chromedp.CSS("#people")))
			if !b.absent("#form-assign") {
				t.Errorf("%s sees the assign form", role)
			}
		}
	})
}

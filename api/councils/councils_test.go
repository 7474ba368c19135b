package councils_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/api/councils"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var projectors = []projections.Projector{projections.Catalog{}, projections.Indicators{}, projections.Councils{}, projections.Ratings{}}

// env is a fresh database with the event store, the read models, real
// command handlers on a settable clock, and the handler under test.
// Credentials are "Authorization: Bearer <actor>/<role>".
type env struct {
	t     *testing.T
	store *postgres.Store
	db    *sqlx.DB
	cmd   *commands.Handlers
	h     http.Handler
	mu    sync.Mutex
	now   time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	store, err := postgres.Open(ctx, postgres.Config{URL: pgtest.NewURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := store.DB()
	for _, migrate := range []func(context.Context, *sqlx.DB) error{postgres.Migrate, projections.Migrate, translog.Migrate} {
		if err := migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, store: store, db: db, now: time.Date(2021, 1, 5, 12, 0, 0, 0, time.UTC)}
	if e.cmd, err = commands.New(commands.Deps{Store: store, Clock: e.clock}); err != nil {
		t.Fatal(err)
	}
	for _, p := range projectors {
		if err := projections.Register(ctx, db, p.Name()); err != nil {
			t.Fatal(err)
		}
	}
	e.h, err = councils.NewHandler(councils.Config{DB: db, Commands: e.cmd, Now: e.clock, Location: time.UTC,
		Authenticate: func(r *http.Request) (string, string, bool, error) {
			auth := r.Header.Get("Authorization")
			if auth == "" {
				return "", "", false, nil
			}
			id, role, ok := strings.Cut(strings.TrimPrefix(auth, "Bearer "), "/")
			if !ok {
				return "", "", false, io.ErrUnexpectedEOF
			}
			return id, role, true, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) at(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, _ := time.Parse(time.DateOnly, s)
	e.now = d.Add(12 * time.Hour)
}

// catchUp applies every event to every projector. The store shows an
// event only once every older transaction of the cluster has ended, so
// under parallel tests it retries until each projector has applied as many
// events as the store holds.
func (e *env) catchUp() {
	e.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, p := range projectors {
			for {
				pos, err := projections.Checkpoint(ctx, e.db, p.Name())
				if err != nil {
					e.t.Fatal(err)
				}
				page, err := e.store.ReadAll(ctx, pos, 500)
				if err != nil {
					e.t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				if err := projections.Process(ctx, e.db, p, page); err != nil {
					e.t.Fatal(err)
				}
			}
		}
		var behind bool
		if err := e.db.Get(&behind, `SELECT EXISTS (SELECT 1 FROM projectors p JOIN projector_checkpoints c
	ON c.name = p.name AND c.generation = p.active_generation WHERE c.events_total < (SELECT count(*) FROM events))`); err != nil {
			e.t.Fatal(err)
		}
		if !behind {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatal("the projectors did not catch up with the store")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request as who ("" for anonymous, else "actor/role").
func (e *env) do(method, path, who string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+who)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	out := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &out.body)
	return out
}

func (e *env) expect(r response, status int) response {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if status >= 400 && !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		e.t.Fatalf("an error without problem+json: %s", r.header.Get("Content-Type"))
	}
	return r
}

const (
	admin   = "admin-1/admin"
	officer = "official-9/officer"
)

func text(s string) map[string]string {
	return map[string]string{"kk": s + " (kk)", "ru": s + " (ru)", "en": s}
}

func (e *env) territories() {
	e.t.Helper()
	ctx := context.Background()
	h := commands.Header{Actor: commands.Actor{ID: "admin-1", Role: "admin"}}
	for _, c := range []commands.RegisterTerritory{
		{KATO: "0", Name: domain.Text{KK: "Қазақстан", RU: "Казахстан", EN: "Kazakhstan"}, Kind: domain.TerritoryRepublic},
		{KATO: "110000000", Name: domain.Text{KK: "Ақмола", RU: "Акмолинская", EN: "Akmola"}, Kind: domain.TerritoryRegion, ParentKATO: "0"},
	} {
		c.Header = h
		if _, err := e.cmd.RegisterTerritory.Handle(ctx, c); err != nil {
			e.t.Fatal(err)
		}
	}
}

func TestRecommendationsOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.territories()

	council := map[string]any{"territory_kato": "110000000", "level": "regional", "name": text("Akmola public council")}
	e.expect(e.do("POST", "/v1/councils", "", council), 401)
	e.expect(e.do("POST", "/v1/councils", "member-1/council", council), 403)
	bad := e.expect(e.do("POST", "/v1/councils", admin, map[string]any{"territory_kato": "110000000", "level": "district", "name": text("x")}), 422)
	if !strings.Contains(bad.raw, `"field":"level"`) {
		t.Fatalf("422 without the field: %s", bad.raw)
	}
	e.expect(e.do("POST", "/v1/councils", admin, map[string]any{"territory": "110000000"}), 400)
	id := e.expect(e.do("POST", "/v1/councils", admin, council), 201).body["id"].(string)
	for _, m := range []map[string]any{
		{"member_id": "member-1", "role": "chair", "display_name": "Айгерим С."},
		{"member_id": "member-2", "role": "member", "display_name": "Ерлан Б."},
	} {
		e.expect(e.do("POST", "/v1/councils/"+id+"/members", admin, m), 201)
	}
	e.expect(e.do("POST", "/v1/councils/"+id+"/members", admin, map[string]any{"member_id": "member-3", "role": "chair", "display_name": "X"}), 422)
	e.catchUp()

	if r := e.expect(e.do("GET", "/v1/councils?level=regional", "", nil), 200); len(r.body["items"].([]any)) != 1 {
		t.Fatalf("councils: %s", r.raw)
	}
	e.expect(e.do("GET", "/v1/councils/not-a-uuid", "", nil), 404)
	if r := e.expect(e.do("GET", "/v1/councils/"+id+"/members", "", nil), 200); len(r.body["items"].([]any)) != 2 {
		t.Fatalf("members: %s", r.raw)
	}

	draft := map[string]any{"title": text("Food prices"), "proposal": text("Publish weekly prices of socially significant food"),
		"addressee": map[string]any{"id": "akimat-110000000", "name": text("Akmola akimat")}, "links": map[string]any{"topics": []string{"food_prices"}}}
	e.expect(e.do("POST", "/v1/councils/"+id+"/recommendations", "stranger/council", draft), 403)
	e.expect(e.do("POST", "/v1/councils/"+id+"/recommendations", admin, draft), 403) // an admin is no member
	first := e.expect(e.do("POST", "/v1/councils/"+id+"/recommendations", "member-1/council", draft, "Idempotency-Key", "draft-1"), 201)
	again := e.expect(e.do("POST", "/v1/councils/"+id+"/recommendations", "member-1/council", draft, "Idempotency-Key", "draft-1"), 201)
	if again.body["id"] != first.body["id"] || again.body["duplicate"] != true || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s after %s", again.raw, first.raw)
	}
	rec := first.body["id"].(string)
	// The same key with another body is another request, not a replay.
	other := map[string]any{}
	for k, v := range draft {
		other[k] = v
	}
	other["title"] = text("Another recommendation")
	if diff := e.do("POST", "/v1/councils/"+id+"/recommendations", "member-1/council", other, "Idempotency-Key", "draft-1"); diff.body["duplicate"] == true {
		t.Fatalf("a different body under the same key was answered as a replay: %s", diff.raw)
	}
	e.catchUp()

	answer := map[string]any{"decision": "accepted", "reply": "Prices will be published every Monday.",
		"evidence": map[string]any{"url": "https://akmola.gov.kz/letters/17.pdf"}}
	early := e.expect(e.do("POST", "/v1/recommendations/"+rec+"/answer", admin, answer), 409)
	if early.body["state"] != "drafted" || !strings.Contains(early.raw, `"allowed_from":["submitted","acknowledged"]`) {
		t.Fatalf("answer before submission: %s", early.raw)
	}
	e.expect(e.do("POST", "/v1/recommendations/"+rec+"/answer", "member-1/council", answer), 403)
	e.expect(e.do("POST", "/v1/recommendations/"+rec+"/answer", officer, answer), 403) // officers do not answer for state bodies
	e.expect(e.do("POST", "/v1/recommendations/"+rec+"/submit", "member-2/council", map[string]any{"response_deadline": "2021-02-01"}), 200)
	e.catchUp()

	// After the deadline, the recommendation is overdue for everyone to see.
	e.at("2021-02-10")
	overdue := e.expect(e.do("GET", "/v1/recommendations/overdue", "", nil), 200)
	if items := overdue.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["overdue"] != true {
		t.Fatalf("overdue: %s", overdue.raw)
	}
	// As of the end of January it was not overdue yet.
	if r := e.expect(e.do("GET", "/v1/recommendations/overdue?as_of=2021-01-31", "", nil), 200); len(r.body["items"].([]any)) != 0 {
		t.Fatalf("overdue as of 01-31: %s", r.raw)
	}
	e.expect(e.do("GET", "/v1/recommendations?status=nonsense", "", nil), 400)

	e.expect(e.do("POST", "/v1/recommendations/"+rec+"/answer", admin, map[string]any{"decision": "maybe", "reply": "?", "evidence": map[string]any{}}), 422)
	e.expect(e.do("POST", "/v1/recommendations/"+rec+"/answer", admin, answer), 200)
	e.expect(e.do("POST", "/v1/recommendations/"+rec+"/judgement", "member-1/council", map[string]any{"verdict": "implemented", "comment": "Published."}), 200)
	e.expect(e.do("POST", "/v1/recommendations/"+rec+"/dissents", "member-2/council", map[string]any{"opinion": "Weekly is not often enough."}), 201)
	e.expect(e.do("POST", "/v1/recommendations/"+rec+"/dissents", "member-2/council", map[string]any{"opinion": "Weekly is not often enough."}), 409)
	e.catchUp()

	got := e.expect(e.do("GET", "/v1/recommendations/"+rec, "", nil), 200)
	if got.body["status"] != "implemented" || got.body["decision"] != "accepted" || got.body["answered_late"] != true || got.header.Get("ETag") == "" {
		t.Fatalf("recommendation: %s", got.raw)
	}
	rates := e.expect(e.do("GET", "/v1/state-bodies/rates", "", nil), 200)
	if !strings.Contains(rates.raw, `"answer_percent":100`) || !strings.Contains(rates.raw, `"on_time_percent":0`) {
		t.Fatalf("rates: %s", rates.raw)
	}
	e.expect(e.do("GET", "/v1/recommendations/0190a1b2-c3d4-7e5f-8a9b-0000000000ff", "", nil), 404)
	e.expect(e.do("DELETE", "/v1/councils/"+id+"/members/member-2", admin, map[string]any{}), 422) // no reason
	e.expect(e.do("DELETE", "/v1/councils/"+id+"/members/member-2", admin, map[string]any{"reason": "moved away"}), 200)
}

func TestAssessmentsAndRatingsOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.territories()
	ctx := context.Background()
	h := commands.Header{Actor: commands.Actor{ID: "admin-1", Role: "admin"}}
	program, err := e.cmd.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: h, Name: domain.Text{KK: "a", RU: "a", EN: "a"},
		Kind: domain.ProgramMain, Period: domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}})
	if err != nil {
		t.Fatal(err)
	}
	roadmap, err := e.cmd.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: h, ProgramID: program.ID, TerritoryKATO: "110000000",
		Level: domain.LevelRegional, Title: domain.Text{KK: "r", RU: "r", EN: "r"}, Period: domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cmd.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: h, RoadmapID: roadmap.ID, PersonID: "deputy-1",
		Role: domain.RoleDeputy, DisplayName: "Айгерим Сейткали"}); err != nil {
		t.Fatal(err)
	}
	ind, err := e.cmd.AddIndicator.Handle(ctx, commands.AddIndicator{Header: h, RoadmapID: roadmap.ID, Title: domain.Text{KK: "i", RU: "i", EN: "i"},
		Kind: domain.KindMilestone, Deadline: domain.NewDate(2021, 12, 31)})
	if err != nil {
		t.Fatal(err)
	}

	// Deputies, a method and activity, over HTTP.
	e.expect(e.do("POST", "/v1/deputies", admin, map[string]any{"deputy_id": "deputy-1", "display_name": "Айгерим Сейткали",
		"assembly": map[string]any{"kind": "maslikhat", "territory_kato": "110000000", "level": "regional"}}), 201)
	e.expect(e.do("POST", "/v1/deputies", admin, map[string]any{"deputy_id": "deputy-2", "display_name": "Ерлан Беков",
		"assembly": map[string]any{"kind": "maslikhat", "territory_kato": "110000000", "level": "regional"}}), 201)
	for _, d := range []string{"deputy-1", "deputy-2"} {
		e.expect(e.do("POST", "/v1/deputies/"+d+"/faction", admin, map[string]any{"faction": "nur-otan"}), 200)
	}
	e.expect(e.do("POST", "/v1/deputies/deputy-1/responsibilities", admin, map[string]any{"subject": "roadmap", "subject_id": roadmap.ID}), 200)
	method := map[string]any{"method": "faction-rating", "title": text("Faction rating"), "summary": "Receptions and measures.",
		"effective_from": "2021-01-01", "formula": map[string]any{
			"period": map[string]any{"kind": "quarter", "from": "2021-01-01"},
			"components": []any{
				map[string]any{"key": "receptions", "title": text("Receptions"), "source": "receptions_held", "weight": 1,
					"normalization": map[string]any{"kind": "ratio_to_target", "target": 10}},
				map[string]any{"key": "done", "title": text("Done"), "source": "indicators_done_share", "weight": 1,
					"normalization": map[string]any{"kind": "identity"}},
			},
			"minimum": map[string]any{"faction_days": 1, "components": 1, "peers": 1},
		}}
	e.expect(e.do("POST", "/v1/rating-methods", officer, method), 403)
	e.expect(e.do("POST", "/v1/deputies/deputy-2/activity", officer, map[string]any{"period": map[string]any{"start": "2021-02-01", "end": "2021-03-31"},
		"receptions_held": 5}), 403) // nor record another person's activity
	e.expect(e.do("POST", "/v1/rating-methods", admin, method), 201)
	e.at("2021-04-02")
	e.expect(e.do("POST", "/v1/deputies/deputy-2/activity", admin, map[string]any{"period": map[string]any{"start": "2021-02-01", "end": "2021-03-31"},
		"receptions_held": 5, "people_received": 30, "appeals_handled": 4, "outcomes": map[string]any{"positive": 4, "explained": 0, "rejected": 0, "pending": 0}}), 201)
	e.expect(e.do("POST", "/v1/deputies/deputy-2/activity", admin, map[string]any{"period": map[string]any{"start": "2021-02-01", "end": "2021-03-31"},
		"receptions_held": 1, "people_received": 0, "appeals_handled": 0, "citizen_name": "x", "outcomes": map[string]any{"positive": 0, "explained": 0, "rejected": 0, "pending": 0}}), 400)

	// A council assesses the indicator; the deputy replies, a stranger cannot.
	cid := e.expect(e.do("POST", "/v1/councils", admin, map[string]any{"territory_kato": "110000000", "level": "regional", "name": text("Council")}), 201).body["id"].(string)
	e.expect(e.do("POST", "/v1/councils/"+cid+"/members", admin, map[string]any{"member_id": "member-1", "role": "member", "display_name": "Дана К."}), 201)
	e.catchUp()
	aid := e.expect(e.do("POST", "/v1/councils/"+cid+"/assessments", "member-1/council", map[string]any{"indicator_id": ind.ID, "position": "disagree",
		"comment": "Nothing was done."}), 201).body["id"].(string)
	e.catchUp()
	e.expect(e.do("POST", "/v1/assessments/"+aid+"/replies", "deputy-2/deputy", map[string]any{"reply": "Not mine."}), 403)
	e.expect(e.do("POST", "/v1/assessments/"+aid+"/replies", "deputy-1/deputy", map[string]any{"reply": "Work starts in May."}), 201)
	e.catchUp()
	if r := e.expect(e.do("GET", "/v1/assessments?indicator_id="+ind.ID, "", nil), 200); !strings.Contains(r.raw, "Work starts in May.") {
		t.Fatalf("assessments: %s", r.raw)
	}

	// Ratings of Q1 2021 (the latest period that has ended). deputy-2:
	// receptions 5/10 → 0.5, no measures (0): 100 × (0.5 + 0) / 2 = 25.
	// deputy-1: no activity; done share 0/1 → 0.
	r := e.expect(e.do("GET", "/v1/deputies/deputy-2/rating", "", nil), 200)
	cur := r.body["current"].(map[string]any)
	if cur["score"] != 25.0 || cur["rank_level"] != 1.0 || r.body["version"] != 1.0 || len(r.body["versions"].([]any)) != 1 {
		t.Fatalf("deputy-2 rating: %s", r.raw)
	}
	league := e.expect(e.do("GET", "/v1/ratings/league?level=regional", "", nil), 200)
	rows := league.body["items"].([]any)
	if len(rows) != 2 || rows[0].(map[string]any)["deputy_id"] != "deputy-2" {
		t.Fatalf("league: %s", league.raw)
	}
	// Rating answers name their provenance: live, the method version, and
	// the instant "now" meant (docs/methodology.md, "Provenance").
	for name, body := range map[string]map[string]any{"rating": r.body, "league": league.body} {
		p, _ := body["provenance"].(map[string]any)
		ms, _ := p["methods"].([]any)
		if p == nil || p["basis"] != "live" || p["as_of"] == nil || p["as_of"] != p["computed_at"] || len(ms) != 1 ||
			ms[0].(map[string]any)["version"] != 1.0 {
			t.Errorf("%s provenance: %v", name, p)
		}
	}
	e.expect(e.do("GET", "/v1/ratings/league", "", nil), 400)
	// limit cuts the table from the top (ranks stay those of the whole
	// table), and never goes past the configured maximum.
	if top := e.expect(e.do("GET", "/v1/ratings/league?level=regional&limit=1", "", nil), 200); len(top.body["items"].([]any)) != 1 ||
		top.body["items"].([]any)[0].(map[string]any)["deputy_id"] != "deputy-2" {
		t.Fatalf("league limit=1: %s", top.raw)
	}
	e.expect(e.do("GET", "/v1/ratings/league?level=regional&limit=501", "", nil), 400)
	if l := e.expect(e.do("GET", "/v1/councils/"+cid+"/league", "", nil), 200); l.body["assembly_id"] != "maslikhat-110000000" {
		t.Fatalf("council league: %s", l.raw)
	}
	e.expect(e.do("GET", "/v1/councils/maslikhat-110000000/league", "", nil), 200)
	e.expect(e.do("GET", "/v1/councils/maslikhat-750000000/league", "", nil), 404)

	// As of before the activity report took effect, deputy-2 had no data.
	past := e.expect(e.do("GET", "/v1/deputies/deputy-2/rating?as_of=2021-03-31", "", nil), 200)
	if c := past.body["current"].(map[string]any); c["rated"] != false {
		t.Fatalf("deputy-2 as of 03-31: %s", past.raw)
	}

	// The deputy replies to their rating, once; nobody else may, and a
	// period the method does not rate is refused naming the field. The
	// reply is in the rating's answer, and not as of before it was made.
	reply := map[string]any{"method": "faction-rating", "version": 1, "period": map[string]any{"start": "2021-01-01", "end": "2021-03-31"},
		"reply": "Receptions doubled in April.", "evidence": map[string]any{"url": "https://example.kz/receptions"}}
	e.expect(e.do("POST", "/v1/deputies/deputy-2/rating/replies", "deputy-1/deputy", reply), 403)
	e.expect(e.do("POST", "/v1/deputies/deputy-2/rating/replies", "", reply), 401)
	bad := map[string]any{"method": "faction-rating", "version": 1, "period": map[string]any{"start": "2021-01-01", "end": "2021-02-28"}, "reply": "x"}
	if r := e.expect(e.do("POST", "/v1/deputies/deputy-2/rating/replies", "deputy-2/deputy", bad), 422); !strings.Contains(r.raw, `"period"`) {
		t.Fatalf("reply to an unrated period: %s", r.raw)
	}
	for _, hostile := range []string{"a\x00b", "\u202eevil", strings.Repeat("я", 1<<17)} {
		h := maps.Clone(reply)
		h["reply"] = hostile
		if r := e.expect(e.do("POST", "/v1/deputies/deputy-2/rating/replies", "deputy-2/deputy", h), 422); !strings.Contains(r.raw, `"reply"`) {
			t.Fatalf("hostile reply %.20q: %s", hostile, r.raw)
		}
	}
	e.expect(e.do("POST", "/v1/deputies/deputy-2/rating/replies", "deputy-2/deputy", reply), 201)
	e.expect(e.do("POST", "/v1/deputies/deputy-2/rating/replies", "deputy-2/deputy", reply), 409)
	e.catchUp()
	if r := e.expect(e.do("GET", "/v1/deputies/deputy-2/rating", "", nil), 200); len(r.body["replies"].([]any)) != 1 ||
		r.body["replies"].([]any)[0].(map[string]any)["reply"] != "Receptions doubled in April." {
		t.Fatalf("rating replies: %s", r.raw)
	}
	if r := e.expect(e.do("GET", "/v1/deputies/deputy-2/rating?known_at=2021-04-01", "", nil), 200); len(r.body["replies"].([]any)) != 0 {
		t.Fatalf("rating replies known at 2021-04-01: %s", r.raw)
	}

	// The deputy's own view lists the events behind each component.
	e.expect(e.do("GET", "/v1/me/rating", "", nil), 401)
	e.expect(e.do("GET", "/v1/me/rating", "member-1/council", nil), 403)
	me := e.expect(e.do("GET", "/v1/me/rating", "deputy-2/deputy", nil), 200)
	events := me.body["events"].(map[string]any)["receptions"].([]any)
	if len(events) != 1 || events[0].(map[string]any)["type"] != domain.TypeDeputyActivityReported {
		t.Fatalf("my rating: %s", me.raw)
	}
	if r := e.expect(e.do("GET", "/v1/deputies/deputy-1", "", nil), 200); r.body["in_faction"] != true {
		t.Fatalf("deputy: %s", r.raw)
	}
	e.expect(e.do("GET", "/v1/deputies/deputy%201", "", nil), 404)
	e.expect(e.do("GET", "/v1/rating-methods", "", nil), 200)
}

// TestOpenAPIPathsMatchRoutes checks that OpenAPIPaths describes exactly
// the routes the handler serves, with every path parameter declared.
func TestOpenAPIPathsMatchRoutes(t *testing.T) {
	t.Parallel()
	paths := councils.OpenAPIPaths()
	patterns := councils.RoutePatterns()
	mux := http.NewServeMux()
	for _, p := range patterns {
		mux.Handle(p, http.NotFoundHandler())
	}
	param := regexp.MustCompile(`\{(\w+)\}`)
	var documented []string
	for path, item := range paths {
		if !strings.HasPrefix(path, "/v1/") {
			t.Errorf("%s is not under /v1/", path)
		}
		for method, op := range item.(map[string]any) {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			// The path, with its parameters filled in, reaches its own route.
			req := httptest.NewRequest(strings.ToUpper(method), param.ReplaceAllString(path, "x"), nil)
			if _, pattern := mux.Handler(req); pattern != strings.ToUpper(method)+" "+path {
				t.Errorf("%s %s is served by %q", method, path, pattern)
			}
			o := op.(map[string]any)
			var declared []string
			for _, p := range asSlice(o["parameters"]) {
				if p["in"] == "path" {
					declared = append(declared, p["name"].(string))
				}
			}
			for _, m := range param.FindAllStringSubmatch(path, -1) {
				if !slices.Contains(declared, m[1]) {
					t.Errorf("%s %s: path parameter %s is not declared", method, path, m[1])
				}
			}
			if o["responses"] == nil || o["operationId"] == nil {
				t.Errorf("%s %s: no responses or operationId", method, path)
			}
		}
	}
	slices.Sort(documented)
	slices.Sort(patterns)
	if !slices.Equal(documented, patterns) {
		t.Errorf("documented:\n%v\nserved:\n%v", documented, patterns)
	}
	if _, err := json.Marshal(paths); err != nil {
		t.Fatal(err)
	}
}

// TestUnmatchedRequestsGetProblems: a path under another method is 405
// with Allow, an unknown path 404, both as problem documents.
func TestUnmatchedRequestsGetProblems(t *testing.T) {
	t.Parallel()
	h, err := councils.NewHandler(councils.Config{DB: &sqlx.DB{}, Commands: &commands.Handlers{},
		Authenticate: func(*http.Request) (string, string, bool, error) { return "", "", false, nil }})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("PUT", "/v1/councils", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD, POST" || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("PUT /v1/councils: %d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/nothing", nil))
	if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET /v1/nothing: %d %v", rec.Code, rec.Header())
	}
}

func asSlice(v any) []map[string]any {
	switch s := v.(type) {
	case []map[string]any:
		return s
	case []any:
		var out []map[string]any
		for _, x := range s {
			out = append(out, x.(map[string]any))
		}
		return out
	}
	return nil
}

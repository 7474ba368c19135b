package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/commands"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testClock is the commands' clock: every reading moves it a second on, so
// recorded times are distinct; Set jumps it. The API reads it without
// moving it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) tick() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var start = time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC)

// env is one test's world: a fresh database with the event store, the read
// models and the API's tables, real command handlers, and the API's handler.
type env struct {
	t       *testing.T
	ctx     context.Context
	db      *sqlx.DB
	store   *postgres.Store
	clock   *testClock
	srv     *Server
	handler http.Handler
	schemas *schemaChecker
	// Secrets by name: admin, officer (official-9), stranger (an officer
	// assigned nowhere), council, deputy.
	tokens map[string]string
	ids    map[string]Token
}

type envOption func(*Config)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	ctx := t.Context()
	store, err := postgres.Open(ctx, postgres.Config{URL: pgtest.NewURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := store.DB()
	for _, migrate := range []func(context.Context, *sqlx.DB) error{postgres.Migrate, projections.Migrate, translog.Migrate, Migrate} {
		if err := migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	// Register the projectors as their router would, so that Process and
	// Statuses find them.
	for _, p := range projections.All() {
		if err := projections.Register(ctx, db, p.Name()); err != nil {
			t.Fatal(err)
		}
	}
	clock := &testClock{t: start}
	// A generous retry budget: tests check that version-less writers
	// retry until each lands (every round one of them wins), not how fast
	// a loaded machine runs 20 of them under -race.
	handlers, err := commands.New(commands.Deps{Store: store, Clock: clock.tick, RetryBudget: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{DB: db, Store: store, Commands: handlers, Now: clock.now, Logger: testLogger(t), Version: "test"}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := newSchemaChecker(srv.openAPI)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, db: db, store: store, clock: clock, srv: srv, handler: srv.Handler(), schemas: schemas,
		tokens: map[string]string{}, ids: map[string]Token{}}
	for _, spec := range []struct {
		name string
		spec TokenSpec
	}{
		{"admin", TokenSpec{Name: "admin", Role: RoleAdmin, PersonID: "admin-1"}},
		{"officer", TokenSpec{Name: "officer", Role: RoleOfficer, PersonID: "official-9"}},
		{"stranger", TokenSpec{Name: "stranger", Role: RoleOfficer, PersonID: "official-10"}},
		{"council", TokenSpec{Name: "council", Role: RoleCouncil, PersonID: "council-3"}},
		{"deputy", TokenSpec{Name: "deputy", Role: RoleDeputy, PersonID: "deputy-17"}},
	} {
		secret, tok, err := CreateToken(ctx, db, spec.spec)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[spec.name], e.ids[spec.name] = secret, tok
	}
	return e
}

// testLogger sends warnings and errors to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// response is an answer of the handler.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// decode reads the body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problemType is the slug of a problem answer.
func (r response) problemType() string {
	var p struct{ Type string }
	json.Unmarshal(r.body, &p) //nolint:errcheck // empty for non-problems
	return strings.TrimPrefix(p.Type, problemTypePrefix)
}

// req describes a request for do.
type req struct {
	method, path string
	token        string // a name in env.tokens, or a literal "Bearer …" header
	body         any    // marshalled as JSON unless []byte or string
	header       map[string]string
}

// do sends a request through the whole handler and checks the answer
// against the OpenAPI document: its status and media type are documented
// for the route, and a JSON body validates against the documented schema.
func (e *env) do(r req) response {
	e.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	hr := httptest.NewRequestWithContext(e.ctx, r.method, r.path, body)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	switch {
	case strings.Contains(r.token, " "):
		hr.Header.Set("Authorization", r.token)
	case r.token != "":
		secret, ok := e.tokens[r.token]
		if !ok {
			e.t.Fatalf("no token %q", r.token)
		}
		hr.Header.Set("Authorization", "Bearer "+secret)
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	_, pattern := e.srv.mux.Handler(hr)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, hr)
	res := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	method := hr.Method
	if method == http.MethodHead {
		method = http.MethodGet // the mux answers HEAD with the GET route
	}
	if errs := e.conforms(pattern, method, res); len(errs) > 0 {
		e.t.Errorf("%s %s answered %s\nwhich the OpenAPI document does not describe:\n  %s", r.method, r.path, res, strings.Join(errs, "\n  "))
	}
	return res
}

func (e *env) conforms(pattern, method string, res response) []string {
	ct := res.header.Get("Content-Type")
	var schema map[string]any
	if pattern == "" {
		if res.status != http.StatusNotFound && res.status != http.StatusMethodNotAllowed {
			return []string{fmt.Sprintf("an unmatched route answered %d", res.status)}
		}
		if !strings.HasPrefix(ct, problemMedia) {
			return []string{"an unmatched route answered " + ct}
		}
		var err error
		if schema, err = e.schemas.resolve("#/components/schemas/Problem"); err != nil {
			return []string{err.Error()}
		}
	} else {
		path := pattern[strings.Index(pattern, " ")+1:]
		var err error
		if schema, err = e.schemas.responseSchema(path, method, res.status, ct); err != nil {
			return []string{err.Error()}
		}
		if schema == nil {
			return nil
		}
	}
	var v any
	if err := json.Unmarshal(res.body, &v); err != nil {
		return []string{"body is not JSON: " + err.Error()}
	}
	return e.schemas.validate(schema, v, "$")
}

// must sends a request that must answer want.
func (e *env) must(want int, r req) response {
	e.t.Helper()
	res := e.do(r)
	if res.status != want {
		e.t.Fatalf("%s %s: got %s, want %d", r.method, r.path, res, want)
	}
	return res
}

// created sends a write that must answer 201 and returns the new id.
func (e *env) created(r req) string {
	e.t.Helper()
	var out writeResult
	e.must(http.StatusCreated, r).decode(e.t, &out)
	return out.ID
}

// catchUp runs every projector over what the store holds, synchronously.
// Each page waits (briefly) until the log is readable to its newest event: a
// transaction open elsewhere on the server, in another test's database,
// holds the store's read horizon back (pgtest.ReadAll).
func (e *env) catchUp() {
	e.t.Helper()
	e.settle()
	for _, p := range projections.All() {
		for {
			pos, err := projections.Checkpoint(e.ctx, e.db, p.Name())
			if err != nil {
				e.t.Fatal(err)
			}
			events := pgtest.ReadAll(e.t, e.store, pos, 500)
			if len(events) == 0 {
				break
			}
			if err := projections.Process(e.ctx, e.db, p, events); err != nil {
				e.t.Fatal(err)
			}
		}
	}
}

// settle waits until the store's readers see every stored event.
func (e *env) settle() {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		total := e.eventCount()
		var visible int64
		if err := e.db.GetContext(e.ctx, &visible,
			`SELECT count(*) FROM events WHERE tx_id < (SELECT events_readable_below())`); err != nil {
			e.t.Fatal(err)
		}
		if visible == total {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("only %d of %d events became readable", visible, total)
		}
		time.Sleep(2 * time.Millisecond) // another database's transaction is about to end
	}
}

func (e *env) eventCount() int64 {
	e.t.Helper()
	var n int64
	if err := e.db.GetContext(e.ctx, &n, `SELECT count(*) FROM events`); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) head() eventstore.Position {
	e.t.Helper()
	return pgtest.Head(e.t, e.store)
}

// appendsNothing runs fn and fails if the store gained an event.
func (e *env) appendsNothing(what string, fn func()) {
	e.t.Helper()
	e.settle()
	head, count := e.head(), e.eventCount()
	fn()
	e.settle()
	if after, n := e.head(), e.eventCount(); after != head || n != count {
		e.t.Errorf("%s appended: head %s → %s, events %d → %d", what, head, after, count, n)
	}
}

// world registers, through the API, the republic, a region with two
// districts, a program, a republican roadmap and one roadmap per district;
// activates the first district's roadmap and assigns official-9 to it; adds
// a numeric indicator to it and a milestone to the other; and projects it
// all.
type world struct {
	programID                      string
	republic, region, north, south string // KATO codes
	republicRoadmap, rm1, rm2      string
	numeric, milestone             string // indicator ids: numeric in rm1, milestone in rm2
}

var (
	text = func(s string) map[string]string {
		return map[string]string{"kk": s + " (kk)", "ru": s + " (ru)", "en": s}
	}
	period = map[string]string{"start": "2021-01-01", "end": "2025-12-31"}
)

func (e *env) world() world {
	e.t.Helper()
	w := world{republic: "0", region: "110000000", north: "111000000", south: "112000000"}
	for _, t := range []map[string]any{
		{"kato": w.republic, "name": text("Kazakhstan"), "kind": "republic"},
		{"kato": w.region, "name": text("Akmola region"), "kind": "region", "parent_kato": w.republic},
		{"kato": w.north, "name": text("North district"), "kind": "district", "parent_kato": w.region},
		{"kato": w.south, "name": text("South district"), "kind": "district", "parent_kato": w.region},
	} {
		e.created(req{method: "POST", path: "/v1/territories", token: "admin", body: t})
	}
	w.programID = e.created(req{method: "POST", path: "/v1/programs", token: "admin",
		body: map[string]any{"name": text("Path of change"), "kind": "main", "period": period}})
	roadmap := func(kato, level, title string) string {
		return e.created(req{method: "POST", path: "/v1/roadmaps", token: "admin", body: map[string]any{
			"program_id": w.programID, "territory_kato": kato, "level": level, "title": text(title), "period": period}})
	}
	w.republicRoadmap = roadmap(w.republic, "republican", "Republican roadmap")
	w.rm1 = roadmap(w.north, "regional", "North roadmap")
	w.rm2 = roadmap(w.south, "regional", "South roadmap")
	e.must(http.StatusOK, req{method: "POST", path: "/v1/roadmaps/" + w.rm1 + "/activate", token: "admin"})
	e.must(http.StatusOK, req{method: "POST", path: "/v1/roadmaps/" + w.rm1 + "/responsibles", token: "admin",
		body: map[string]any{"person_id": "official-9", "role": "official", "display_name": "A. Official"}})
	w.numeric = e.created(req{method: "POST", path: "/v1/roadmaps/" + w.rm1 + "/indicators", token: "admin", body: map[string]any{
		"title": text("Roads repaired"), "kind": "numeric", "baseline": 0, "target": 100, "unit": text("km"),
		"deadline": "2021-12-31", "weight": 2}})
	w.milestone = e.created(req{method: "POST", path: "/v1/roadmaps/" + w.rm2 + "/indicators", token: "admin", body: map[string]any{
		"title": text("School opened"), "kind": "milestone", "deadline": "2022-06-30", "responsible_id": "official-10"}})
	e.catchUp()
	return w
}

var evidence = map[string]string{"url": "https://akmola.gov.kz/report.pdf"}

package kernel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"promiseledger/api"
	"promiseledger/api/kernel"
	"promiseledger/api/kernel/kerneltest"
	"promiseledger/api/params"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// unreachableDatabaseError is the real error of a query to a port where no
// PostgreSQL listens any more.
func unreachableDatabaseError(t *testing.T) error {
	t.Helper()
	db, _ := kerneltest.DeadDatabase(t)
	_, err := db.ExecContext(t.Context(), `SELECT 1`)
	if err == nil {
		t.Fatal("a query to a closed port succeeded")
	}
	return fmt.Errorf("load council-1: %w", err)
}

// TestClassifyMapsEveryErrorKindOnce: the one table of error kinds to
// statuses and problem types, for every route group.
func TestClassifyMapsEveryErrorKindOnce(t *testing.T) {
	t.Parallel()
	validation := fmt.Errorf("register: %w", domain.ValidationErrors{{Field: "title.kk", Problem: "required"}})
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		slug       string
		retryAfter string
	}{
		{"a problem stays itself", kernel.Forbidden("no"), 403, kernel.SlugForbidden, ""},
		{"a refused parameter", &params.Error{Problems: []params.Problem{{Field: "limit", Problem: "too big"}}}, 400, kernel.SlugBadRequest, ""},
		{"validation wins over what it wraps", validation, 422, kernel.SlugValidation, ""},
		{"a version conflict", &eventstore.ConflictError{Stream: "s", Expected: eventstore.Exactly(1), Actual: 2}, 409, kernel.SlugVersionConflict, ""},
		{"a version-less write kept losing", &commands.ContentionError{Stream: "recommendation-1", Attempts: 30, Spent: 5 * time.Second}, 409, kernel.SlugWriteContention, "1"},
		{"not a member", fmt.Errorf("x: %w", domain.ErrNotMember), 403, kernel.SlugForbidden, ""},
		{"not found", fmt.Errorf("x: %w", domain.ErrNotFound), 404, kernel.SlugNotFound, ""},
		{"no such read-model record", projections.ErrNoSuchRecord, 404, kernel.SlugNotFound, ""},
		{"no such log entry", translog.ErrNotFound, 404, kernel.SlugNotFound, ""},
		{"an illegal transition", &domain.TransitionError{State: "draft", Allowed: []string{"sent"}}, 409, kernel.SlugInvalidTransition, ""},
		{"the roadmap is closed", domain.ErrRoadmapClosed, 409, kernel.SlugRoadmapClosed, ""},
		{"a key reused for another request", eventstore.ErrDuplicateEvent, 422, kernel.SlugIdempotencyReused, ""},
		{"a foreign cursor", projections.ErrInvalidCursor, 400, kernel.SlugInvalidCursor, ""},
		{"an unknown scope", projections.ErrUnknownScope, 404, kernel.SlugUnknownScope, ""},
		{"the database unreachable", unreachableDatabaseError(t), 503, kernel.SlugUnavailable, "2"},
		{"the client gave up", context.Canceled, 503, kernel.SlugUnavailable, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := kernel.Classify(tc.err)
			if p == nil || p.Status != tc.status || p.Type != kernel.TypePrefix+tc.slug || p.Header.Get("Retry-After") != tc.retryAfter {
				t.Fatalf("%v answered %+v; want %d %s (Retry-After %q)", tc.err, p, tc.status, tc.slug, tc.retryAfter)
			}
			if strings.Contains(p.Detail, "127.0.0.1") {
				t.Errorf("the detail names the database's address: %q", p.Detail)
			}
		})
	}
	if p := kernel.Classify(errors.New("a bug")); p != nil {
		t.Errorf("an unexpected error classified as %+v; want nil (a 500)", p)
	}
	if p := kernel.Classify(&domain.TransitionError{State: "draft", Allowed: []string{"sent"}}); p.State != "draft" || len(p.AllowedFrom) != 1 {
		t.Errorf("transition problem %+v lacks state and allowed_from", p)
	}
}

type problemBody struct {
	Type      string `json:"type"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field string `json:"field"`
	} `json:"errors"`
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) problemBody {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, rec.Body)
	}
	var p problemBody
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProblemsNameTheFullPathAndTheRequestID: a handler mounted under a
// prefix (the audit routes under /v1/audit) still answers with the path the
// client asked for, and with the edge's request id, from the context or
// from the response header the edge set.
func TestProblemsNameTheFullPathAndTheRequestID(t *testing.T) {
	t.Parallel()
	inner := kernel.Responder{}.Wrap(func(http.ResponseWriter, *http.Request) error {
		return kernel.NotFound("no checkpoint 9")
	})
	mounted := http.StripPrefix("/v1/audit", inner)

	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/v1/audit/checkpoints/9", nil)
	mounted.ServeHTTP(rec, r.WithContext(kernel.WithRequestID(r.Context(), "req-1")))
	if p := decodeProblem(t, rec); p.Instance != "/v1/audit/checkpoints/9" || p.RequestID != "req-1" || rec.Code != 404 {
		t.Errorf("answered %d %+v; want 404 at /v1/audit/checkpoints/9 with request id req-1", rec.Code, p)
	}

	rec = httptest.NewRecorder()
	rec.Header().Set("X-Request-Id", "req-2")
	mounted.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/audit/checkpoints/9", nil))
	if p := decodeProblem(t, rec); p.RequestID != "req-2" {
		t.Errorf("request_id %q; want the edge's X-Request-Id req-2", p.RequestID)
	}
}

// TestJSONAnswersDoNotEscapeHTML: the 401 says "Bearer <token>", not
// "Bearer \u003ctoken\u003e".
func TestJSONAnswersDoNotEscapeHTML(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	kernel.WriteProblem(rec, httptest.NewRequest("POST", "/v1/roadmaps", nil),
		kernel.Unauthorized("writing needs a token: send Authorization: Bearer <token>", false))
	if !strings.Contains(rec.Body.String(), "Bearer <token>") || rec.Code != 401 || rec.Header().Get("Www-Authenticate") == "" {
		t.Errorf("answered %d %v: %s", rec.Code, rec.Header(), rec.Body)
	}
	if n := rec.Header().Get("Content-Length"); n != fmt.Sprint(rec.Body.Len()) {
		t.Errorf("Content-Length %s for a body of %d bytes", n, rec.Body.Len())
	}
}

// TestUnmatchedRoutesAnswerProblems: the mux's own plain-text 404 and 405
// become problem documents, with Allow on the 405.
func TestUnmatchedRoutesAnswerProblems(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /things", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	h := kernel.Routes(mux)
	for _, tc := range []struct {
		method, path string
		status       int
		slug, allow  string
	}{
		{"GET", "/things", 405, kernel.SlugMethodNotAllowed, "POST"},
		{"GET", "/nothing", 404, kernel.SlugNotFound, ""},
	} {
		rec := httptest.NewRecorder()
		rec.Header().Set("X-Request-Id", "req-3")
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		p := decodeProblem(t, rec)
		if rec.Code != tc.status || p.Type != kernel.TypePrefix+tc.slug || rec.Header().Get("Allow") != tc.allow || p.RequestID != "req-3" || p.Instance != tc.path {
			t.Errorf("%s %s: %d Allow %q %+v", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), p)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/things", nil))
	if rec.Code != 204 {
		t.Errorf("a matched route answered %d", rec.Code)
	}
}

// TestHandleRefusesParametersTheOperationDoesNotDeclare: the path and
// query check comes from the OpenAPI parameters, and a refusal is a 400
// naming the parameter.
func TestHandleRefusesParametersTheOperationDoesNotDeclare(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	parameters := []any{map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer"}}}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	if err := (kernel.Responder{}).Handle(mux, "GET", "/things", parameters, ok); err != nil {
		t.Fatal(err)
	}
	if err := (kernel.Responder{}).Handle(mux, "GET", "/things/{id}", nil, ok); err == nil {
		t.Error("a path parameter the operation does not declare was accepted")
	}
	for target, field := range map[string]string{"/things?limit=1&limit=2": "limit", "/things?colour=red": "colour"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if p := decodeProblem(t, rec); rec.Code != 400 || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("GET %s: %d %+v; want 400 naming %s", target, rec.Code, p, field)
		}
	}
}

type body struct {
	kernel.WriteCommon
	Title string `json:"title"`
	Count int    `json:"count"`
}

// TestDecodeStrictRefusesWhatIsNotExactlyTheBody: unknown fields, wrong
// types, trailing data and text the decoder would alter are refused; an
// empty body is the zero body. (An escaped NUL is valid JSON text: the
// domain's text rules refuse it, naming the field.)
func TestDecodeStrictRefusesWhatIsNotExactlyTheBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw string
		status    int
		field     string
	}{
		{"empty", "  ", 0, ""},
		{"exact", `{"title":"t","count":2}`, 0, ""},
		{"unknown field", `{"title":"t","colour":"red"}`, 400, "colour"},
		{"wrong type", `{"count":"two"}`, 400, "count"},
		{"not an object", `[1]`, 400, ""},
		{"trailing data", `{"title":"t"} {}`, 400, ""},
		{"cut short", `{"title":"t"`, 400, ""},
		{"lone surrogate", `{"title":"\ud800"}`, 422, "title"},
		{"invalid UTF-8", "{\"title\":\"\xff\"}", 422, "title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b body
			err := kernel.DecodeStrict([]byte(tc.raw), &b)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			p := kernel.Classify(err)
			if p == nil || p.Status != tc.status {
				t.Fatalf("%v: got %+v, want %d", err, p, tc.status)
			}
			if tc.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tc.field) {
				t.Errorf("errors %+v do not name %s", p.Errors, tc.field)
			}
		})
	}
}

// TestReadBodyRefusesLargeAndNonJSONBodies: 413 over the limit, 415 for a
// body that is not JSON; an empty body needs no Content-Type.
func TestReadBodyRefusesLargeAndNonJSONBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, contentType string
		status                  int
	}{
		{"too large", strings.Repeat(" ", 65), "application/json", 413},
		{"not JSON", `{"a":1}`, "text/plain", 415},
		{"a +json type", `{"a":1}`, "application/merge-patch+json", 0},
		{"empty without a type", "", "", 0},
	} {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(tc.body))
		if tc.contentType != "" {
			r.Header.Set("Content-Type", tc.contentType)
		}
		_, err := kernel.ReadBody(httptest.NewRecorder(), r, 64)
		if got := kernel.Classify(err); (tc.status == 0) != (err == nil) || (got != nil && got.Status != tc.status) {
			t.Errorf("%s: %v, want %d", tc.name, err, tc.status)
		}
	}
}

// TestReadCommandReadsTheHeaderTheRequestCarries: If-Match wins over
// expected_version; bad versions, times and keys are refused before any
// key is claimed.
func TestReadCommandReadsTheHeaderTheRequestCarries(t *testing.T) {
	t.Parallel()
	claimed := 0
	claim := func(*http.Request, string, []byte) (uuid.UUID, error) {
		claimed++
		return uuid.MustParse("00000000-0000-0000-0000-000000000001"), nil
	}
	send := func(raw string, header ...string) (commands.Header, error) {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(raw))
		r.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		var b body
		return kernel.ReadCommand[body](httptest.NewRecorder(), r, 1<<10, &b, claim)
	}
	h, err := send(`{"reason":"why","expected_version":3,"effective_at":"2021-06-01T09:00:00+05:00"}`, "If-Match", `"7"`, "Idempotency-Key", "k-1")
	if err != nil || h.Reason != "why" || *h.ExpectedVersion != 7 || !h.EffectiveAt.Equal(time.Date(2021, 6, 1, 4, 0, 0, 0, time.UTC)) || h.EventID == uuid.Nil || claimed != 1 {
		t.Fatalf("header %+v, err %v, claimed %d", h, err, claimed)
	}
	for _, bad := range [][]string{
		{`{"expected_version":-1}`},
		{`{"effective_at":"yesterday"}`},
		{`{}`, "If-Match", `W/"7"`},
		{`{}`, "Idempotency-Key", "has spaces"},
	} {
		if _, err := send(bad[0], bad[1:]...); kernel.Classify(err) == nil || kernel.Classify(err).Status >= 500 {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if claimed != 1 {
		t.Errorf("a refused request claimed its key (%d claims)", claimed)
	}
}

// TestIdempotencyKeyMeansOneRequest: the same key with the same request
// gives the same event id (a replay); with another body, query or path it
// is refused with ErrDuplicateEvent (422), whatever route group asks.
func TestIdempotencyKeyMeansOneRequest(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := sqlx.Open("postgres", pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := api.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	token := uuid.New()
	if _, err := db.ExecContext(ctx, `INSERT INTO api_tokens (id, name, role, secret_sha256) VALUES ($1, 't', 'council', $2)`,
		token, make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	store := kernel.Idempotency{DB: db}
	claim := func(target, raw string) (uuid.UUID, error) {
		r := httptest.NewRequest("POST", target, strings.NewReader(raw))
		return store.Claim(ctx, token, "POST /v1/councils/{id}/recommendations", "draft-1", r, []byte(raw))
	}
	first, err := claim("/v1/councils/c1/recommendations", `{"title":"a"}`)
	if err != nil {
		t.Fatal(err)
	}
	again, err := claim("/v1/councils/c1/recommendations", ` {"title":"a"}`+"\n")
	if err != nil || again != first {
		t.Fatalf("replay: %v %v, first %v", again, err, first)
	}
	for name, tc := range map[string][2]string{
		"another body":   {"/v1/councils/c1/recommendations", `{"title":"b"}`},
		"another target": {"/v1/councils/c2/recommendations", `{"title":"a"}`},
		"another query":  {"/v1/councils/c1/recommendations?x=1", `{"title":"a"}`},
	} {
		if _, err := claim(tc[0], tc[1]); !errors.Is(err, eventstore.ErrDuplicateEvent) || kernel.Classify(err).Status != 422 {
			t.Errorf("%s under the same key: %v, want a 422 ErrDuplicateEvent", name, err)
		}
	}
}

// TestPagesAreItemsAndNextCursor: every list is items ([] when empty) and
// next_cursor (null on the last page), with a Link to the next page that
// keeps the full path and the query.
func TestPagesAreItemsAndNextCursor(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	kernel.WritePage[int](rec, httptest.NewRequest("GET", "/v1/things", nil), nil, "")
	if got := strings.TrimSpace(rec.Body.String()); got != `{"items":[],"next_cursor":null}` || rec.Header().Get("Link") != "" {
		t.Errorf("last page: %s (Link %q)", got, rec.Header().Get("Link"))
	}
	rec = httptest.NewRecorder()
	h := http.StripPrefix("/v1/audit", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kernel.WritePage(w, r, []int{1, 2}, "c2")
	}))
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/audit/events?limit=2", nil))
	if got := strings.TrimSpace(rec.Body.String()); got != `{"items":[1,2],"next_cursor":"c2"}` ||
		rec.Header().Get("Link") != `</v1/audit/events?cursor=c2&limit=2>; rel="next"` {
		t.Errorf("first page: %s (Link %q)", got, rec.Header().Get("Link"))
	}
}

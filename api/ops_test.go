package api

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"promiseledger/domain"
	"promiseledger/projections"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var h healthResponse
	e.must(http.StatusOK, req{method: "GET", path: "/healthz"}).decode(t, &h)
	if h.Status != "ok" || h.Version != "test" {
		t.Errorf("healthz %+v", h)
	}

	e.world()
	var ready readyResponse
	e.must(http.StatusOK, req{method: "GET", path: "/readyz"}).decode(t, &ready)
	if ready.Status != "ready" || len(ready.Checks) != 1+len(projections.All()) {
		t.Errorf("readyz %+v", ready)
	}

	notReady := func(why string) {
		t.Helper()
		res := e.must(http.StatusServiceUnavailable, req{method: "GET", path: "/readyz"})
		if res.problemType() != ptNotReady || !strings.Contains(string(res.body), why) {
			t.Errorf("readyz: %s, want %q", res.body, why)
		}
	}
	if _, err := e.db.ExecContext(e.ctx, `UPDATE projectors SET stopped = true, last_error = 'boom' WHERE name = $1`, projections.IndicatorsName); err != nil {
		t.Fatal(err)
	}
	notReady("boom")
	if _, err := e.db.ExecContext(e.ctx, `UPDATE projectors SET stopped = false`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ExecContext(e.ctx, `DELETE FROM projectors WHERE name = $1`, projections.CatalogName); err != nil {
		t.Fatal(err)
	}
	notReady("has never run")
}

func TestReadinessLag(t *testing.T) {
	t.Parallel()
	// Real time here: lag is the age of the oldest unapplied event, by the
	// store's clock.
	e := newEnv(t, func(c *Config) { c.Now = time.Now; c.ReadyMaxLag = time.Millisecond })
	e.must(http.StatusCreated, req{method: "POST", path: "/v1/territories", token: "admin",
		body: map[string]any{"kato": "0", "name": text("Kazakhstan"), "kind": "republic"}})
	e.settle()
	time.Sleep(5 * time.Millisecond) // let the unapplied event age past the allowed lag
	res := e.must(http.StatusServiceUnavailable, req{method: "GET", path: "/readyz"})
	if !strings.Contains(string(res.body), "behind") {
		t.Errorf("readyz: %s", res.body)
	}
	e.catchUp()
	e.must(http.StatusOK, req{method: "GET", path: "/readyz"})
}

// TestReadinessSeesOwedRatingsRecompute: the ratings' checkpoint says
// their events are stored; a recomputation of scores owed for longer than
// ReadyMaxLag makes the process not ready, and /readyz says how long.
func TestReadinessSeesOwedRatingsRecompute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.Now = time.Now })
	e.world()
	e.catchUp()
	var ready readyResponse
	e.must(http.StatusOK, req{method: "GET", path: "/readyz"}).decode(t, &ready)
	for _, c := range ready.Checks {
		if c.Name == "projector "+projections.RatingsName && (c.RecomputeSeconds == nil || *c.RecomputeSeconds != 0) {
			t.Errorf("ratings check when nothing is owed: %+v", c)
		}
	}
	const owe = `INSERT INTO rm_rating_pending_levels (generation, level, pending_since)
SELECT active_generation, 'district', now() - interval '1 hour' FROM projectors WHERE name = $1`
	if _, err := e.db.ExecContext(e.ctx, owe, projections.RatingsName); err != nil {
		t.Fatal(err)
	}
	res := e.must(http.StatusServiceUnavailable, req{method: "GET", path: "/readyz"})
	if !strings.Contains(string(res.body), "due for recomputation") || !strings.Contains(string(res.body), projections.RatingsName) {
		t.Errorf("readyz with a recompute owed for an hour: %s", res.body)
	}
	if _, err := e.db.ExecContext(e.ctx, `DELETE FROM rm_rating_pending_levels`); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusOK, req{method: "GET", path: "/readyz"})
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(http.StatusOK, req{method: "GET", path: "/healthz"})
	e.must(http.StatusNotFound, req{method: "GET", path: "/v1/nowhere"})
	e.catchUp()
	res := e.must(http.StatusOK, req{method: "GET", path: "/metrics"})
	for _, want := range []string{
		`ledger_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`ledger_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`ledger_http_request_duration_seconds_bucket{method="GET",route="/healthz"`,
		`ledger_projector_lag_events{projector="catalog.v1"} 0`,
		`ledger_projector_status_up 1`,
		`go_goroutines`,
	} {
		if !bytes.Contains(res.body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// A shared registry takes the metrics once: a second server on it fails.
	reg := prometheus.NewRegistry()
	cfg := Config{DB: e.db, Store: e.store, Commands: e.srv.cfg.Commands, Registry: reg}
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); err == nil {
		t.Error("a second server registered the same metrics")
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.must(http.StatusNotFound, req{method: "GET", path: "/v2/roadmaps"})
	if res.problemType() != ptNotFound || res.header.Get("Content-Type") != problemMedia {
		t.Errorf("404: %s", res)
	}
	res = e.must(http.StatusMethodNotAllowed, req{method: "PUT", path: "/v1/roadmaps"})
	if res.problemType() != ptMethodNotAllowed || !strings.Contains(res.header.Get("Allow"), "POST") {
		t.Errorf("405: %s (Allow %q)", res, res.header.Get("Allow"))
	}
	res = e.must(http.StatusMethodNotAllowed, req{method: "DELETE", path: "/v1/indicators/0190a6a4-5e2b-7c3d-8e4f-000000000000"})
	if !strings.Contains(res.header.Get("Allow"), "GET") {
		t.Errorf("405 Allow %q", res.header.Get("Allow"))
	}
	// HEAD is answered like GET, without a body.
	res = e.do(req{method: "HEAD", path: "/healthz"})
	if res.status != http.StatusOK {
		t.Errorf("HEAD /healthz: %s", res)
	}
	// A token on a read is checked: a wrong one is refused, not ignored.
	res = e.must(http.StatusUnauthorized, req{method: "GET", path: "/v1/roadmaps", token: "Bearer plt_nope"})
	if !strings.Contains(res.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("WWW-Authenticate = %q", res.header.Get("WWW-Authenticate"))
	}
	e.must(http.StatusOK, req{method: "GET", path: "/v1/roadmaps", token: "council"})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	_, err := New(Config{MaxPageSize: -1})
	for _, want := range []string{"DB is required", "Store is required", "Commands is required", "MaxPageSize"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New: %v, want %q", err, want)
		}
	}
	e := newEnv(t, func(c *Config) { c.MaxPageSize = 10 })
	if e.srv.pageSize != 10 {
		t.Errorf("default page with MaxPageSize 10: %d", e.srv.pageSize)
	}
	e.must(http.StatusBadRequest, req{method: "GET", path: "/v1/roadmaps?limit=11"})
	s := NewHTTPServer(":0", e.handler)
	if s.ReadHeaderTimeout == 0 || s.ReadTimeout == 0 || s.WriteTimeout == 0 || s.IdleTimeout == 0 || s.MaxHeaderBytes == 0 {
		t.Errorf("timeouts not set: %+v", s)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct {
		spec  TokenSpec
		field string
	}{
		{TokenSpec{Role: RoleAdmin}, "name"},
		{TokenSpec{Name: "x", Role: "root"}, "role"},
		{TokenSpec{Name: "x", Role: RoleOfficer}, "person_id"},
	} {
		_, _, err := CreateToken(e.ctx, e.db, c.spec)
		fe := domain.FieldErrors(err)
		if !errors.Is(err, domain.ErrValidation) || len(fe) != 1 || fe[0].Field != c.field {
			t.Errorf("%+v: %v", c.spec, err)
		}
	}
	secret, tok, err := CreateToken(e.ctx, e.db, TokenSpec{Name: " importer ", Role: RoleOfficer, PersonID: "official-9"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) != len(TokenPrefix)+43 || tok.Name != "importer" || tok.CreatedAt.IsZero() {
		t.Errorf("secret %q, token %+v", secret, tok)
	}
	// Only the hash is stored.
	var stored []byte
	if err := e.db.GetContext(e.ctx, &stored, `SELECT secret_sha256 FROM api_tokens WHERE id = $1`, tok.ID); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(secret)); !bytes.Equal(stored, sum[:]) {
		t.Error("stored hash is not the secret's SHA-256")
	}
	var leaks int
	if err := e.db.GetContext(e.ctx, &leaks, `SELECT count(*) FROM api_tokens t WHERE position($1 in t::text) > 0`, secret); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 {
		t.Error("the secret is stored")
	}

	// Using a token notes when.
	e.must(http.StatusOK, req{method: "GET", path: "/v1/methods", token: "Bearer " + secret})
	list, err := ListTokens(e.ctx, e.db)
	if err != nil {
		t.Fatal(err)
	}
	var found *Token
	for i := range list {
		if list[i].ID == tok.ID {
			found = &list[i]
		}
	}
	if len(list) != 6 || found == nil || found.LastUsedAt == nil || found.RevokedAt != nil || found.PersonID != "official-9" {
		t.Fatalf("list %+v", list)
	}

	if err := RevokeToken(e.ctx, e.db, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := RevokeToken(e.ctx, e.db, tok.ID); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if err := RevokeToken(e.ctx, e.db, uuid.New()); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("revoking an unknown token: %v", err)
	}
	e.must(http.StatusUnauthorized, req{method: "GET", path: "/v1/methods", token: "Bearer " + secret})
	list, _ = ListTokens(e.ctx, e.db)
	for _, l := range list {
		if l.ID == tok.ID && l.RevokedAt == nil {
			t.Error("revoked_at not set")
		}
	}
}

// lockedBuffer is a log sink safe for the handler's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestInternalErrors: an unexpected error answers a generic 500 naming the
// request id, and is logged once, with the cause; so is a panic.
func TestInternalErrors(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	e := newEnv(t, func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	if _, err := e.db.ExecContext(e.ctx, `DROP TABLE rm_programs`); err != nil {
		t.Fatal(err)
	}
	res := e.must(http.StatusInternalServerError, req{method: "GET", path: "/v1/programs", header: map[string]string{"X-Request-Id": "req-500"}})
	if res.problemType() != ptInternal || strings.Contains(string(res.body), "rm_programs") || !strings.Contains(string(res.body), "req-500") {
		t.Errorf("500 answer: %s", res.body)
	}
	if n := strings.Count(logs.String(), "rm_programs"); n != 1 {
		t.Errorf("the cause is logged %d times:\n%s", n, logs.String())
	}

	e.srv.mux.HandleFunc("GET /v1/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/boom", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), problemTypePrefix+ptInternal) ||
		!strings.Contains(logs.String(), `"panic":"boom"`) {
		t.Errorf("panic: %d %s\n%s", rec.Code, rec.Body, logs.String())
	}
}

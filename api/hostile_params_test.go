package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"promiseledger/api/audit"
	"promiseledger/api/councils"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// fullEnv is an env with the council routes and the audit routes mounted
// as ledger serve mounts them (the council routes using the API's
// idempotency keys), with some data: the world, a council with a member,
// and a signed checkpoint of the log.
type fullEnv struct {
	*env
	w       world
	council string
	cp      *translog.Checkpointer
}

func newFullEnv(t *testing.T) *fullEnv {
	t.Helper()
	f := &fullEnv{}
	e := newEnv(t, func(c *Config) {
		ctx := t.Context()
		if err := translog.Migrate(ctx, c.DB); err != nil {
			t.Fatal(err)
		}
		if err := projections.Register(ctx, c.DB, translog.Name); err != nil {
			t.Fatal(err)
		}
		skey, vkey, err := translog.GenerateKey("test.example/log")
		if err != nil {
			t.Fatal(err)
		}
		signer, err := translog.LoadSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		if f.cp, err = translog.NewCheckpointerWithConfig(translog.CheckpointerConfig{DB: c.DB, Signer: signer}); err != nil {
			t.Fatal(err)
		}
		ah, err := audit.NewHandler(audit.Config{DB: c.DB, Store: c.Store, Verifier: vkey, Logger: c.Logger})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := councils.NewHandler(councils.Config{DB: c.DB, Commands: c.Commands, Now: c.Now, Logger: c.Logger,
			Idempotency: IdempotencyKeys(c.DB),
			Authenticate: func(r *http.Request) (string, string, bool, error) {
				id, role, ok := Caller(r)
				return id, role, ok, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		c.Mounts = []Mount{
			{Prefix: audit.PathPrefix, Handler: ah, Ops: audit.Operations()},
			{Prefix: "/v1", Handler: ch, Ops: councils.Operations(), KeepPrefix: true},
		}
	})
	f.env = e
	f.w = e.world()
	res := f.raw("POST", "/v1/councils", "admin", `{"territory_kato":"110000000","level":"regional","name":{"kk":"Кеңес","ru":"Совет","en":"Council"}}`)
	if res.status != http.StatusCreated {
		t.Fatalf("register a council: %s", res)
	}
	var out writeResult
	res.decode(t, &out)
	f.council = out.ID
	if res := f.raw("POST", "/v1/councils/"+f.council+"/members", "admin", `{"member_id":"council-3","role":"member","display_name":"A. Member"}`); res.status != http.StatusCreated {
		t.Fatalf("join the council: %s", res)
	}
	f.project()
	return f
}

// project runs every projector and the log, and signs a checkpoint.
func (f *fullEnv) project() {
	f.t.Helper()
	f.catchUp()
	for {
		pos, err := projections.Checkpoint(f.ctx, f.db, translog.Name)
		if err != nil {
			f.t.Fatal(err)
		}
		events := pgtest.ReadAll(f.t, f.store, pos, 500)
		if len(events) == 0 {
			break
		}
		if err := projections.Process(f.ctx, f.db, translog.Projector{}, events); err != nil {
			f.t.Fatal(err)
		}
	}
	if _, _, err := f.cp.CheckpointOnce(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// raw sends target as it is (already escaped) through the whole handler,
// as token (a name in tokens, or "" for none).
func (f *fullEnv) raw(method, target, token, body string) response {
	f.t.Helper()
	var hr *http.Request
	if body == "" {
		hr = httptest.NewRequestWithContext(f.ctx, method, target, nil)
	} else {
		hr = httptest.NewRequestWithContext(f.ctx, method, target, strings.NewReader(body))
		hr.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+f.tokens[token])
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, hr)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// fields are the parameters a 400 problem names in errors[].
func (r response) fields() []string {
	var p struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	json.Unmarshal(r.body, &p) //nolint:errcheck // no fields then
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// TestHostileParametersFromOpenAPIAreRefusedOnEveryRoute is generated from
// /openapi.json (the main routes, the council routes and the audit routes
// merged): for every route and every path and query parameter it sends
// NUL, bytes that are not UTF-8, an overlong encoding, NUL inside a value
// and a 10 KB value, and to every route an unknown parameter. Each must
// answer 400 naming the parameter — never 5xx — and nothing may be
// appended to the event store.
func TestHostileParametersFromOpenAPIAreRefusedOnEveryRoute(t *testing.T) {
	t.Parallel()
	f := newFullEnv(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
		} `json:"paths"`
	}
	if res := f.raw("GET", "/openapi.json", "", ""); res.status != http.StatusOK {
		t.Fatalf("openapi: %s", res)
	} else {
		res.decode(t, &doc)
	}
	hostile := map[string]string{
		"NUL": "%00", "the byte FF": "%FF", "an overlong slash": "%C0%AF", "NUL inside": "a%00b",
		"10 KB": strings.Repeat("a", 10<<10),
	}
	wildcard := regexp.MustCompile(`\{([^}]+)\}`)
	fill := func(path, name, value string) string {
		return wildcard.ReplaceAllStringFunc(path, func(w string) string {
			if w[1:len(w)-1] == name {
				return value
			}
			return "x"
		})
	}
	routes, probes := 0, 0
	f.appendsNothing("the hostile probes", func() {
		for path, item := range doc.Paths {
			for method, op := range item {
				method = strings.ToUpper(method)
				routes++
				body := ""
				if method != http.MethodGet {
					body = "{}"
				}
				check := func(target, param, what string) {
					t.Helper()
					probes++
					res := f.raw(method, target, "admin", body)
					switch {
					case res.status >= 500:
						t.Errorf("%s %s with %s in %s: %s", method, path, what, param, res)
					case res.status != http.StatusBadRequest || !slices.Contains(res.fields(), param):
						t.Errorf("%s %s with %s in %s: want 400 naming %s, got %.300s", method, path, what, param, param, res)
					case !strings.HasPrefix(res.header.Get("Content-Type"), problemMedia):
						t.Errorf("%s %s: a 400 that is not a problem document: %s", method, path, res.header.Get("Content-Type"))
					}
				}
				for _, p := range op.Parameters {
					for what, v := range hostile {
						switch p.In {
						case "path":
							check(fill(path, p.Name, v), p.Name, what)
						case "query":
							check(fill(path, "", "")+"?"+p.Name+"="+v, p.Name, what)
						}
					}
				}
				check(fill(path, "", "")+"?unknown_param=1", "unknown_param", "an unknown parameter")
			}
		}
	})
	if routes < 60 || probes < 400 {
		t.Fatalf("only %d routes and %d probes: is the document complete?", routes, probes)
	}
	t.Logf("%d routes, %d probes", routes, probes)
}

// TestUnknownAndMalformedQueryParametersAreRefused: a misspelt parameter
// is an error, not silently today's answer; booleans are true or false.
func TestUnknownAndMalformedQueryParametersAreRefused(t *testing.T) {
	t.Parallel()
	f := newFullEnv(t)
	for _, tc := range []struct {
		target, field string
	}{
		{"/v1/figures?scope=level&id=regional&asof=2021-08-01", "asof"},
		{"/v1/indicators?overdue=banana", "overdue"},
		{"/v1/indicators?overdue=1", "overdue"},
		{"/v1/indicators?limit=501", "limit"},
		{"/v1/recommendations/overdue?overdue=banana", "overdue"},
		{"/v1/recommendations/overdue?overdue=false", "overdue"}, // the route is overdue by definition
		{"/v1/recommendations?overdue=banana", "overdue"},
		{"/v1/councils?limit=501", "limit"},
		{"/v1/ratings/league?level=regional&limit=501", "limit"},
		{"/v1/audit/events?limit=1000", "limit"}, // one configured maximum, 500
		{"/v1/audit/events?limit=501", "limit"},
		{"/v1/roadmaps?level=regional&level=republican", "level"},
	} {
		res := f.raw("GET", tc.target, "", "")
		if res.status != http.StatusBadRequest || !slices.Contains(res.fields(), tc.field) {
			t.Errorf("GET %s: want 400 naming %s, got %s", tc.target, tc.field, res)
		}
	}
	for _, target := range []string{
		"/v1/figures?scope=level&id=regional&as_of=2021-08-01",
		"/v1/indicators?overdue=false&limit=500",
		"/v1/recommendations?overdue=true",
		"/v1/recommendations/overdue",
		"/v1/audit/events?limit=500",
	} {
		if res := f.raw("GET", target, "", ""); res.status != http.StatusOK {
			t.Errorf("GET %s: %s", target, res)
		}
	}
}

// TestCouncilRoutesUseTheAPIsIdempotencyKeys: behind the API, the same
// Idempotency-Key with the same body is a replay, with another body a 422,
// as on every other route, and nothing is recorded twice.
func TestCouncilRoutesUseTheAPIsIdempotencyKeys(t *testing.T) {
	t.Parallel()
	f := newFullEnv(t)
	draft := func(title string) string {
		return `{"title":{"kk":"` + title + `","ru":"` + title + `","en":"` + title + `"},"proposal":{"kk":"p","ru":"p","en":"p"},` +
			`"addressee":{"id":"akimat-110000000","name":{"kk":"a","ru":"a","en":"a"}}}`
	}
	send := func(body string) response {
		hr := httptest.NewRequestWithContext(f.ctx, "POST", "/v1/councils/"+f.council+"/recommendations", strings.NewReader(body))
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Authorization", "Bearer "+f.tokens["council"])
		hr.Header.Set("Idempotency-Key", "draft-1")
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, hr)
		return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	}
	if res := send(draft("Food prices")); res.status != http.StatusCreated {
		t.Fatalf("first: %s", res)
	}
	if res := send(draft("Food prices")); res.status != http.StatusCreated || res.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s", res)
	}
	f.appendsNothing("another body under the same key", func() {
		if res := send(draft("Another recommendation")); res.status != http.StatusUnprocessableEntity || res.problemType() != "idempotency-key-reused" {
			t.Errorf("another body, same key: %s", res)
		}
	})
}

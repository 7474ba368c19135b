// Package councils serves the HTTP routes of public councils, their
// recommendations to state bodies and assessments of indicators, deputies
// and their public rating. The main API mounts the handler NewHandler
// returns at /v1/ for the paths OpenAPIPaths describes; reads are public,
// writes need an authenticated person whose role or membership allows them.
package councils

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/api/params"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// Roles the handler knows. A council member or a deputy acts under any
// role: membership of the council, or being the deputy, is what counts.
const (
	RoleAdmin   = "admin"
	RoleOfficer = "officer"
)

// Config configures the handler.
type Config struct {
	// DB holds the read models (councils.v1, ratings.v1, catalog.v1).
	DB *sqlx.DB
	// Commands records every write.
	Commands *commands.Handlers
	// Authenticate identifies the person behind a request: ok is false when
	// the request carries no credentials, err when they are invalid.
	Authenticate func(*http.Request) (actorID, role string, ok bool, err error)
	// Now is the clock for derived facts (overdue today) and for capping
	// as_of. Default time.Now.
	Now func() time.Time
	// Logger gets every unexpected error, once. Default: discard.
	Logger *slog.Logger
	// Location is where "today" is judged for overdue answers. Default
	// Asia/Almaty (UTC+5 without a time zone database).
	Location *time.Location
	// Idempotency claims an Idempotency-Key in the API's key store
	// (api.IdempotencyKeys): it returns the event id to record under, or an
	// error wrapping eventstore.ErrDuplicateEvent (422) when the key was
	// first used for another request. The server always sets it. Without it
	// (a handler used on its own) the event id is derived from the actor,
	// route, key and body, and no record is kept: a retry is still a
	// replay, but another body under the same key is a new request.
	Idempotency func(r *http.Request, key string, body []byte) (uuid.UUID, error)
	// MaxBodyBytes caps a request body. Default 1 MiB.
	MaxBodyBytes int64
	// MaxPageSize caps ?limit= (default params.DefaultMaxPageSize, 500;
	// params.DefaultPageSize, 50, when none is asked for): the same
	// configured maximum as the main API's.
	MaxPageSize int
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Location == nil {
		loc, err := time.LoadLocation("Asia/Almaty")
		if err != nil {
			loc = time.FixedZone("UTC+5", 5*60*60)
		}
		c.Location = loc
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxPageSize == 0 {
		c.MaxPageSize = params.DefaultMaxPageSize
	}
}

// Validate reports configuration errors.
func (c Config) Validate() error {
	var errs []error
	if c.DB == nil {
		errs = append(errs, errors.New("councils: Config.DB is required"))
	}
	if c.Commands == nil {
		errs = append(errs, errors.New("councils: Config.Commands is required"))
	}
	if c.Authenticate == nil {
		errs = append(errs, errors.New("councils: Config.Authenticate is required"))
	}
	if c.MaxBodyBytes < 0 || c.MaxPageSize < 0 {
		errs = append(errs, errors.New("councils: MaxBodyBytes and MaxPageSize must not be negative"))
	}
	return errors.Join(errs...)
}

// server holds the configuration the route handlers share.
type server struct {
	cfg Config
}

// NewHandler returns the routes of this package on a Go 1.22 ServeMux.
func NewHandler(cfg Config) (http.Handler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &server{cfg: cfg}
	mux := http.NewServeMux()
	methods := map[string]bool{}
	for _, rt := range routeTable() {
		// What the route's OpenAPI operation declares is what it accepts.
		op := operationObject(rt)
		spec, err := params.FromOpenAPI(op["parameters"])
		if err == nil {
			err = spec.Covers(rt.pattern)
		}
		if err != nil {
			return nil, fmt.Errorf("councils: %s %s: %w", rt.method, rt.pattern, err)
		}
		mux.Handle(rt.method+" "+rt.pattern, params.Guard(spec, rt.handler(s), s.refuseParams))
		methods[rt.method] = true
	}
	// Unmatched requests get problem documents too: 405 with Allow when the
	// path exists under another method, 404 otherwise.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		var allow []string
		for m := range methods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := mux.Handler(probe); p != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			slices.Sort(allow)
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, newProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
				"this path takes "+strings.Join(allow, ", ")))
			return
		}
		s.writeError(w, r, notFound("no route matches this path"))
	}), nil
}

// principal is the authenticated person.
type principal struct {
	actorID, role string
}

// authenticate returns the person, or a 401 problem.
func (s *server) authenticate(r *http.Request) (principal, error) {
	id, role, ok, err := s.cfg.Authenticate(r)
	switch {
	case err != nil:
		return principal{}, unauthorized("the credentials are not valid")
	case !ok || strings.TrimSpace(id) == "":
		return principal{}, unauthorized("this needs credentials: send Authorization: Bearer <token>")
	}
	return principal{actorID: id, role: role}, nil
}

// policy decides whether the person may send a write to this target; it
// runs before the body is read.
type policy func(ctx context.Context, r *http.Request, p principal) error

func roles(action string, allowed ...string) policy {
	return func(_ context.Context, _ *http.Request, p principal) error {
		for _, a := range allowed {
			if p.role == a {
				return nil
			}
		}
		return forbidden(fmt.Sprintf("to %s you need the role %s", action, strings.Join(allowed, " or ")))
	}
}

// writeCommon holds the fields every write body may carry.
type writeCommon struct {
	Reason          string `json:"reason"`
	EffectiveAt     string `json:"effective_at"`
	ExpectedVersion *int64 `json:"expected_version"`
}

func (c *writeCommon) common() *writeCommon { return c }

type commandBody[T any] interface {
	*T
	common() *writeCommon
}

// writeResult is the answer to every successful write.
type writeResult struct {
	ID        string      `json:"id"`
	Stream    string      `json:"stream"`
	Version   int64       `json:"version"`
	EventIDs  []uuid.UUID `json:"event_ids"`
	Duplicate bool        `json:"duplicate"`
}

// idempotencyNamespace derives event ids from Idempotency-Keys. Fixed
// forever: changing it would make every key mean a new event.
var idempotencyNamespace = uuid.MustParse("9d3c1f7a-2b44-4f0e-8a61-3c5e7d9b1a22")

// write builds a write route: authenticate (401), authorize (403, 404),
// read the body (415, 413, 400), then run the command (201/200 or the
// problem its error maps to).
func write[T any, B commandBody[T]](s *server, allow policy, created bool,
	run func(ctx context.Context, r *http.Request, p principal, h commands.Header, b B) (commands.Result, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		w.Header().Set("Cache-Control", "no-store")
		p, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := allow(ctx, r, p); err != nil {
			s.writeError(w, r, err)
			return
		}
		var body T
		if err := s.decodeBody(w, r, &body); err != nil {
			s.writeError(w, r, err)
			return
		}
		h, err := s.header(r, p, B(&body).common())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := run(ctx, r, p, h, &body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		status := http.StatusOK
		if created && !res.Duplicate {
			status = http.StatusCreated
		}
		w.Header().Set("ETag", `"`+strconv.FormatInt(res.Version, 10)+`"`)
		if res.Duplicate {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		writeJSON(w, status, writeResult{ID: res.ID, Stream: res.Stream, Version: res.Version, EventIDs: res.EventIDs, Duplicate: res.Duplicate})
	})
}

type bodySumKey struct{}

// decodeBody reads one JSON object of exactly the body's shape.
func (s *server) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" || r.ContentLength > 0 {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return newProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Send JSON", "the body must be application/json")
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	// The body's digest goes into the idempotency key's event id: the same
	// key with another body is another request, never a replay of the first.
	sum := sha256.Sum256(raw)
	*r = *r.WithContext(context.WithValue(r.Context(), bodySumKey{}, sum))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return newProblem(http.StatusRequestEntityTooLarge, "body-too-large", "The body is too large",
			fmt.Sprintf("at most %d bytes", s.cfg.MaxBodyBytes))
	}
	if err != nil {
		return badRequest("the body could not be read")
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		raw = []byte(`{}`)
	}
	// Text the decoder would silently turn into U+FFFD (invalid UTF-8, a
	// lone surrogate escape) is refused first, with 422 naming the field.
	if err := domain.CheckJSONText(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return newProblem(http.StatusBadRequest, "malformed-body", "The body is not the expected JSON", err.Error())
	}
	if dec.More() {
		return newProblem(http.StatusBadRequest, "malformed-body", "The body is not the expected JSON", "trailing data after the object")
	}
	return nil
}

// header builds the commands' header: the actor from the credentials
// (never the body), the reason, the effective time, the idempotency key,
// the request id as correlation id and the pinned version.
func (s *server) header(r *http.Request, p principal, c *writeCommon) (commands.Header, error) {
	h := commands.Header{Actor: commands.Actor{ID: p.actorID, Role: p.role}, Reason: c.Reason}
	if c.EffectiveAt != "" {
		t, err := time.Parse(time.RFC3339Nano, c.EffectiveAt)
		if err != nil {
			return h, domain.ValidationErrors{{Field: "effective_at", Problem: "must be an RFC 3339 time"}}
		}
		h.EffectiveAt = t
	}
	if key := strings.Trim(strings.TrimSpace(r.Header.Get("Idempotency-Key")), `"`); r.Header.Get("Idempotency-Key") != "" {
		if !plainKey(key) {
			return h, badRequest("Idempotency-Key: 1–255 printable ASCII characters without spaces or quotes",
				fieldProblem{Field: "Idempotency-Key", Problem: "malformed"})
		}
		body, _ := r.Context().Value(bodySumKey{}).([32]byte)
		if s.cfg.Idempotency != nil {
			// The API's key store: the key's first request is recorded, and
			// the same key with another request is refused (422).
			id, err := s.cfg.Idempotency(r, key, body[:])
			if err != nil {
				return h, err
			}
			h.EventID = id
		} else {
			sum := sha256.Sum256(fmt.Appendf(nil, "%s\n%s %s\n%s\n%x", p.actorID, r.Method, r.URL.Path, key, body))
			h.EventID = uuid.NewSHA1(idempotencyNamespace, sum[:])
		}
	}
	if id, err := uuid.Parse(r.Header.Get("X-Request-Id")); err == nil {
		h.CorrelationID = id
	}
	h.ExpectedVersion = c.ExpectedVersion
	if im := strings.TrimSpace(r.Header.Get("If-Match")); im != "" && im != "*" {
		v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(im, "W/"), `"`), 10, 64)
		if err != nil || v < 0 {
			return h, badRequest(`If-Match: the version you read, quoted ("7")`)
		}
		h.ExpectedVersion = &v
	}
	return h, nil
}

// plainKey is the API's rule for an Idempotency-Key: 1 to 255 printable
// ASCII characters without spaces, quotes or backslashes.
func plainKey(key string) bool {
	if key == "" || len(key) > 255 {
		return false
	}
	for _, c := range []byte(key) {
		if c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// validUUID answers 404 for a malformed id in a path.
func validUUID(what, id string) error {
	if domain.ValidateID("id", id) != nil {
		return notFound(fmt.Sprintf("no %s %q: ids are UUIDs", what, id))
	}
	return nil
}

// Query parameters.

type query struct {
	s    *server
	vals map[string][]string
	errs []fieldProblem
}

func (s *server) query(r *http.Request) *query { return &query{s: s, vals: r.URL.Query()} }

func (q *query) str(name string) string { return strings.TrimSpace(firstOf(q.vals[name])) }

func firstOf(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// at reads an RFC 3339 time or a date (the end of that day, UTC); a time
// after now is now.
func (q *query) at(name string) *time.Time {
	v := q.str(name)
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		d, derr := domain.ParseDate(v)
		if derr != nil {
			q.errs = append(q.errs, fieldProblem{Field: name, Problem: "must be an RFC 3339 time or a date YYYY-MM-DD"})
			return nil
		}
		t = projections.EndOfDay(d)
	}
	if now := q.s.cfg.Now(); t.After(now) {
		t = now
	}
	t = t.UTC()
	return &t
}

func (q *query) axes() *projections.Axes {
	asOf, known := q.at("as_of"), q.at("known_at")
	if asOf == nil && known == nil {
		return nil
	}
	return &projections.Axes{AsOf: asOf, KnownAt: known}
}

func (q *query) integer(name string, lo, hi int) int {
	v := q.str(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		q.errs = append(q.errs, fieldProblem{Field: name, Problem: fmt.Sprintf("must be an integer from %d to %d", lo, hi)})
		return 0
	}
	return n
}

func (q *query) boolean(name string) bool {
	v := q.str(name)
	if v == "" {
		return false
	}
	b, err := params.Bool(v)
	if err != nil {
		q.errs = append(q.errs, fieldProblem{Field: name, Problem: err.Error()})
	}
	return b
}

func (q *query) date(name string) *domain.Date {
	v := q.str(name)
	if v == "" {
		return nil
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		q.errs = append(q.errs, fieldProblem{Field: name, Problem: "must be a date YYYY-MM-DD"})
		return nil
	}
	return &d
}

func (q *query) oneOf(name string, allowed ...string) string {
	v := q.str(name)
	if v == "" {
		return ""
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	q.errs = append(q.errs, fieldProblem{Field: name, Problem: "must be one of " + strings.Join(allowed, ", ")})
	return ""
}

func (q *query) limit() int {
	n, err := params.Limit(q.str("limit"), params.DefaultPageSize, q.s.cfg.MaxPageSize)
	if err != nil {
		q.errs = append(q.errs, fieldProblem{Field: "limit", Problem: err.Error()})
	}
	return n
}

// refuseParams answers a request whose path or query params.Spec.Check
// refused: 400, naming each parameter.
func (s *server) refuseParams(w http.ResponseWriter, r *http.Request, e *params.Error) {
	fps := make([]fieldProblem, len(e.Problems))
	for i, p := range e.Problems {
		fps[i] = fieldProblem{Field: p.Field, Problem: p.Problem}
	}
	s.writeError(w, r, badRequest("some path or query parameters are invalid", fps...))
}

func (q *query) err() error {
	if len(q.errs) == 0 {
		return nil
	}
	return badRequest("a query parameter is malformed", q.errs...)
}

// today is now in the configured location, for overdue answers.
func (s *server) today() time.Time { return s.cfg.Now().In(s.cfg.Location) }

// onAt is the time deadlines are judged on: the as-of time (its date in
// UTC), or today where the ledger's users are.
func (s *server) onAt(axes *projections.Axes) time.Time {
	if axes != nil && axes.AsOf != nil {
		return axes.AsOf.UTC() // as_of dates are days in UTC, as everywhere in the ledger
	}
	return s.today()
}

// page is a list answer.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func newPage[T any](items []T, next string) page[T] {
	p := page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

// read wraps a read handler: errors become problems.
func (s *server) read(f func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

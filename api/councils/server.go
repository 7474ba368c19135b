// Package councils serves the HTTP routes of public councils, their
// recommendations to state bodies and assessments of indicators, deputies
// and their public rating. The main API mounts the handler NewHandler
// returns at /v1/ for the paths OpenAPIPaths describes; reads are public,
// writes need an authenticated person whose role or membership allows them.
package councils

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/api/kernel"
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
	rs := kernel.Responder{Logger: cfg.Logger}
	for _, rt := range routeTable() {
		// What the route's OpenAPI operation declares is what it accepts.
		if err := rs.Handle(mux, rt.method, rt.pattern, operationOf(rt).ParameterObjects(), rt.handler(s)); err != nil {
			return nil, fmt.Errorf("councils: %w", err)
		}
	}
	// Unmatched requests get problem documents too.
	return kernel.Routes(mux), nil
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
		return principal{}, kernel.Unauthorized("the credentials are not valid", true)
	case !ok || strings.TrimSpace(id) == "":
		return principal{}, kernel.Unauthorized("this needs credentials: send Authorization: Bearer <token>", false)
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
		return kernel.Forbidden(fmt.Sprintf("to %s you need the role %s", action, strings.Join(allowed, " or ")))
	}
}

// The write bodies' common fields and the answer to a write are the
// kernel's, shared by every route group.
type (
	writeCommon = kernel.WriteCommon
	writeResult = kernel.WriteResult
)

type commandBody[T any] = kernel.CommandBody[T]

// idempotencyNamespace derives event ids from Idempotency-Keys when no key
// store is configured (a handler used on its own). Fixed forever.
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
		h, err := readCommand[T, B](s, w, r, p, &body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := run(ctx, r, p, h, &body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		kernel.Written{Created: created}.Answer(w, res)
	})
}

// readCommand reads a write's body and header by the kernel's rules
// (kernel.ReadCommand), with the actor from the credentials and the
// request id as correlation id.
func readCommand[T any, B commandBody[T]](s *server, w http.ResponseWriter, r *http.Request, p principal, body B) (commands.Header, error) {
	claim := s.cfg.Idempotency
	if claim == nil {
		// No key store: the event id is derived from the actor, route, key
		// and body, so a retry is still a replay, but nothing is recorded
		// and another body under the same key is a new request.
		claim = func(r *http.Request, key string, raw []byte) (uuid.UUID, error) {
			sum := sha256.Sum256(fmt.Appendf(nil, "%s\n%s %s\n%s\n%x", p.actorID, r.Method, r.URL.Path, key, sha256.Sum256(raw)))
			return uuid.NewSHA1(idempotencyNamespace, sum[:]), nil
		}
	}
	h, err := kernel.ReadCommand[T, B](w, r, s.cfg.MaxBodyBytes, body, claim)
	h.Actor = commands.Actor{ID: p.actorID, Role: p.role}
	if id, perr := uuid.Parse(r.Header.Get("X-Request-Id")); perr == nil {
		h.CorrelationID = id
	}
	return h, err
}

// validUUID answers 404 for a malformed id in a path.
func validUUID(what, id string) error {
	if domain.ValidateID("id", id) != nil {
		return kernel.NotFound(fmt.Sprintf("no %s %q: ids are UUIDs", what, id))
	}
	return nil
}

// Query parameters.

// query reads query parameters by the kernel's rules (kernel.Query), with
// the councils' own reading of times (capped at now).
type query struct {
	*kernel.Query
	s *server
}

func (s *server) query(r *http.Request) *query { return &query{Query: kernel.NewQuery(r), s: s} }

// at reads an RFC 3339 time or a date (the end of that day, UTC); a time
// after now is now.
func (q *query) at(name string) *time.Time {
	v := q.Str(name)
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		d, derr := domain.ParseDate(v)
		if derr != nil {
			q.Bad(name, "must be an RFC 3339 time or a date YYYY-MM-DD")
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

// flag reads true or false; absent is false.
func (q *query) flag(name string) bool { b := q.Bool(name); return b != nil && *b }

func (q *query) limit() int { return q.Limit(params.DefaultPageSize, q.s.cfg.MaxPageSize) }

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

// read wraps a read handler: errors become problems.
func (s *server) read(f func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return kernel.Responder{Logger: s.cfg.Logger}.Wrap(f)
}

// Package audit serves the transparency log (package translog) to the
// public, read-only, and verifies it from the outside: Verify is what a
// journalist's command-line tool runs, Witness what an independent witness
// runs. docs/audit.md is the specification.
//
// The handler's paths are relative: mount it under /v1/audit with
//
//	mux.Handle("/v1/audit/", http.StripPrefix("/v1/audit", h))
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/mod/sumdb/note"

	"promiseledger/api/params"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgerr"
	"promiseledger/projections/translog"
)

// Config configures the audit handler.
type Config struct {
	// DB holds the log and (for the postgres event store) the events.
	DB *sqlx.DB
	// Store is the event store; history pages use it to say how far a
	// stream has grown past the checkpoint. Optional.
	Store eventstore.Store
	// Origin is the log's name, the first line of its checkpoints
	// (default: the Verifier key's name).
	Origin string
	// Verifier is the log's public key in note format (see
	// translog.GenerateKey).
	Verifier string
	// Witnesses are the public keys of the witnesses whose cosignatures
	// POST /cosignatures accepts.
	Witnesses []string
	Logger    *slog.Logger
	// MaxPageSize caps the events of one page of GET /events and of GET
	// /streams/{stream}/history: the server passes its one configured
	// maximum, LEDGER_MAX_PAGE_SIZE (default params.DefaultMaxPageSize, 500);
	// DefaultPageSize is used when the request names none (default 100).
	MaxPageSize     int
	DefaultPageSize int
	// FeedPageSize is how many rows the exports read per query (default
	// translog.FeedPage); tests make it small to cross many pages.
	FeedPageSize int
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxPageSize == 0 {
		c.MaxPageSize = params.DefaultMaxPageSize
	}
	if c.DefaultPageSize == 0 {
		c.DefaultPageSize = min(100, c.MaxPageSize)
	}
}

// Validate reports configuration errors.
func (c Config) Validate() error {
	var errs []error
	if c.DB == nil {
		errs = append(errs, errors.New("audit: DB is required"))
	}
	if _, err := note.NewVerifier(c.Verifier); err != nil {
		errs = append(errs, fmt.Errorf("audit: Verifier: %w", err))
	}
	for i, w := range c.Witnesses {
		if _, err := witnessVerifiers(w); err != nil {
			errs = append(errs, fmt.Errorf("audit: Witnesses[%d]: %w", i, err))
		}
	}
	if c.FeedPageSize < 0 {
		errs = append(errs, errors.New("audit: FeedPageSize must not be negative"))
	}
	if c.MaxPageSize < 0 || c.DefaultPageSize < 0 || c.DefaultPageSize > c.MaxPageSize {
		errs = append(errs, errors.New("audit: want 0 < DefaultPageSize <= MaxPageSize"))
	}
	return errors.Join(errs...)
}

type handler struct {
	cfg       Config
	log       note.Verifier
	witnesses []note.Verifier
	mux       *http.ServeMux
}

// route is one entry of the route table; OpenAPIPaths documents exactly
// these (a test checks it).
type route struct {
	method, pattern string
	handle          func(http.ResponseWriter, *http.Request) error
}

func (h *handler) routes() []route {
	return []route{
		{"GET", "/checkpoint", h.checkpoint},
		{"GET", "/checkpoints/{size}", h.checkpointAt},
		{"GET", "/proof/inclusion", h.inclusionProof},
		{"GET", "/proof/consistency", h.consistencyProof},
		{"GET", "/events", h.events},
		{"GET", "/events.ndjson", h.eventsNDJSON},
		{"GET", "/events.csv", h.eventsCSV},
		{"GET", "/streams/{stream}/history", h.streamHistory},
		{"POST", "/cosignatures", h.addCosignature},
		{"GET", "/key", h.key},
		{"GET", TilesPrefix + "/checkpoint", h.tlogCheckpoint},
		{"GET", TilesPrefix + "/tile/{tile...}", h.tlogTile},
	}
}

// NewHandler returns the public audit API.
func NewHandler(cfg Config) (http.Handler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &handler{cfg: cfg, mux: http.NewServeMux()}
	h.log, _ = note.NewVerifier(cfg.Verifier)
	if h.cfg.Origin == "" {
		h.cfg.Origin = h.log.Name()
	}
	for _, w := range cfg.Witnesses {
		vs, _ := witnessVerifiers(w)
		h.witnesses = append(h.witnesses, vs...)
	}
	doc := OpenAPIPaths()
	for _, r := range h.routes() {
		// What the route's OpenAPI operation declares is what it accepts.
		op, _ := doc[openAPIPath(r.pattern)].(obj)[strings.ToLower(r.method)].(obj)
		if op == nil {
			return nil, fmt.Errorf("audit: route %s %s is not documented", r.method, r.pattern)
		}
		spec, err := params.FromOpenAPI(op["parameters"])
		if err == nil {
			err = spec.Covers(r.pattern)
		}
		if err != nil {
			return nil, fmt.Errorf("audit: %s %s: %w", r.method, r.pattern, err)
		}
		h.mux.Handle(r.method+" "+r.pattern, params.Guard(spec, h.wrap(r.handle), h.refuseParams))
	}
	h.mux.Handle("/", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		// The mux answers a known path with the wrong method here too.
		probe := r.Clone(r.Context())
		for _, m := range []string{"GET", "POST"} {
			probe.Method = m
			if _, pattern := h.mux.Handler(probe); pattern != "/" && pattern != "" {
				w.Header().Set("Allow", m)
				return newProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
					fmt.Sprintf("%s is not allowed here; use %s", r.Method, m))
			}
		}
		return newProblem(http.StatusNotFound, "not-found", "Not found", "no such audit resource")
	}))
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *handler) wrap(f func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			h.writeError(w, r, err)
		}
	})
}

// problemTypePrefix is shared with the main API: the problem types are the
// same stable identifiers.
const problemTypePrefix = "urn:promiseledger:problem:"

// problem is an RFC 9457 problem detail.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Errors names each parameter at fault.
	Errors []params.Problem `json:"errors,omitempty"`

	header http.Header // extra response headers (Retry-After)
}

// refuseParams answers a request whose path or query params.Spec.Check
// refused: 400, naming each parameter.
func (h *handler) refuseParams(w http.ResponseWriter, r *http.Request, e *params.Error) {
	p := badRequest("some path or query parameters are invalid")
	p.Errors = e.Problems
	h.writeError(w, r, p)
}

func (p *problem) Error() string { return p.Title + ": " + p.Detail }

func newProblem(status int, slug, title, detail string) *problem {
	return &problem{Type: problemTypePrefix + slug, Title: title, Status: status, Detail: detail}
}

func badRequest(format string, args ...any) *problem {
	return newProblem(http.StatusBadRequest, "bad-request", "Bad request", fmt.Sprintf(format, args...))
}

// classify maps errors to problems; this is the one place where error
// kinds become HTTP statuses.
func classify(err error) *problem {
	var p *problem
	switch {
	case errors.As(err, &p):
		return p
	case errors.Is(err, translog.ErrNotFound):
		return newProblem(http.StatusNotFound, "not-found", "Not found", err.Error())
	case errors.Is(err, translog.ErrInvalid):
		return badRequest("%s", err.Error())
	case pgerr.Unavailable(err):
		// A passing condition, not a bug: the same answer as the main API.
		p = newProblem(http.StatusServiceUnavailable, "unavailable", "Service temporarily unavailable",
			"the database cannot be reached just now; try again after Retry-After seconds")
		p.header = http.Header{"Retry-After": {strconv.Itoa(int(pgerr.RetryAfter / time.Second))}}
		return p
	}
	return nil
}

// writeError answers with err's problem. Unexpected errors are logged
// here, once, and their text is not shown.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := classify(err)
	if p == nil {
		if r.Context().Err() != nil {
			return // the client went away
		}
		h.cfg.Logger.ErrorContext(r.Context(), "audit request failed", "err", err, "method", r.Method, "path", r.URL.Path)
		p = newProblem(http.StatusInternalServerError, "internal", "Internal error", "something went wrong on our side")
	}
	out := *p
	out.Instance = r.URL.Path
	b, _ := json.Marshal(out)
	for k, vs := range p.header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(out.Status)
	w.Write(append(b, '\n')) //nolint:errcheck // the client went away
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n')) //nolint:errcheck // the client went away
	return nil
}

// intParam reads an optional non-negative integer query parameter.
func intParam(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, badRequest("%s must be a non-negative integer, not %q", name, s)
	}
	return v, nil
}

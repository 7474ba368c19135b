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
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/jmoiron/sqlx"
	"golang.org/x/mod/sumdb/note"

	"promiseledger/api/kernel"
	"promiseledger/api/params"
	"promiseledger/eventstore"
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
	routed    http.Handler // mux, with problem documents for unmatched requests
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
	routes := h.routes()
	ops, err := operations(routes)
	if err != nil {
		return nil, err
	}
	rs := h.responder()
	for i, r := range routes {
		// What the route's OpenAPI operation declares is what it accepts.
		if err := rs.Handle(h.mux, r.method, r.pattern, ops[i].ParameterObjects(), rs.Wrap(r.handle)); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
	}
	h.routed = kernel.Routes(h.mux)
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.routed.ServeHTTP(w, r) }

// The problems, their mapping from errors and the JSON writer are the
// kernel's, as on every route group: instance is the full path
// (/v1/audit/...) and request_id the edge's.
type problem = kernel.Problem

var newProblem = kernel.New

func badRequest(format string, args ...any) *problem {
	return kernel.BadRequest(fmt.Sprintf(format, args...))
}

func (h *handler) responder() kernel.Responder { return kernel.Responder{Logger: h.cfg.Logger} }

func writeJSON(w http.ResponseWriter, status int, v any) error {
	kernel.WriteJSON(w, status, v)
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

package api

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"promiseledger/api/apidoc"
	"promiseledger/api/kernel"
	"promiseledger/api/params"
	"promiseledger/commands"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgmigrate"
	"promiseledger/eventstore/repeatlog"
	"promiseledger/projections"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Component names the API's migrations in ledger_migrations.
const Component = "api"

// Migrate creates or upgrades the API's own tables (tokens, idempotency
// keys).
func Migrate(ctx context.Context, db *sqlx.DB) error {
	return pgmigrate.Run(ctx, db, Component, migrationFiles, "migrations")
}

// Defaults of Config.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxPageSize  = params.DefaultMaxPageSize
	DefaultPageSize     = params.DefaultPageSize
	DefaultReadyMaxLag  = 30 * time.Second
	// DefaultTokenCacheTTL is how long a verified token is believed
	// without asking the database again (Config.TokenCacheTTL).
	DefaultTokenCacheTTL = time.Second
)

// Config configures a Server.
type Config struct {
	// DB holds the read models and the API's tables.
	DB *sqlx.DB
	// Store is read for histories and readiness; writes go through Commands.
	Store    eventstore.Store
	Commands *commands.Handlers
	// Logger gets one line per request and every unexpected error, once.
	Logger *slog.Logger
	// Now is the clock for derived facts (overdue as of today) and projector
	// lag. Default time.Now.
	Now func() time.Time
	// Location is where "today" is judged for overdue measures. Default
	// Asia/Almaty (UTC+5 if the time zone database is missing).
	Location *time.Location
	// MaxBodyBytes caps a request body (default 1 MiB); larger ones get 413.
	MaxBodyBytes int64
	// MaxPageSize caps ?limit= (default 500); DefaultPageSize (50) is used
	// when no limit is asked for.
	MaxPageSize int
	// ReadyMaxLag: /readyz fails when a projector is stopped or its oldest
	// unapplied event is older than this (default 30s).
	ReadyMaxLag time.Duration
	// Registry receives the HTTP and projector metrics served on /metrics.
	// Nil means a new registry, with the Go and process collectors.
	Registry *prometheus.Registry
	// Version is the build's version, reported by /healthz.
	Version string
	// TokenCacheTTL is how long the server believes a token it verified
	// without reading api_tokens again (default DefaultTokenCacheTTL, 1s;
	// negative: ask on every request). A token revoked through this
	// process (api.RevokeToken) is refused at once; one revoked by another
	// process (`ledger token revoke`) is refused within TokenCacheTTL.
	TokenCacheTTL time.Duration
	// Mounts are handlers served under a path prefix (the audit API under
	// /v1/audit), behind the same request ids, logs, metrics and
	// authentication, and described in /openapi.json by their Paths.
	Mounts []Mount
}

// Mount is a handler served under Prefix (no trailing slash), which sees
// paths with the prefix removed unless KeepPrefix is set. The API's own
// routes, being more specific, win over a mount's. Paths are its OpenAPI
// path items, keyed by full path.
type Mount struct {
	Prefix     string
	Handler    http.Handler
	Paths      map[string]any
	KeepPrefix bool
	// Ops describe the mount's routes (full paths) for the generated
	// document, which reflects their types beside the API's own; a mount
	// gives Ops or hand-written Paths.
	Ops []apidoc.Op
	// Patterns are mux patterns served as they are, outside /openapi.json:
	// the HTML pages ("GET /{$}", "GET /roadmaps"...).
	Patterns []string
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Location == nil {
		loc, err := time.LoadLocation("Asia/Almaty")
		if err != nil {
			loc = time.FixedZone("UTC+5", 5*60*60)
		}
		c.Location = loc
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxPageSize == 0 {
		c.MaxPageSize = DefaultMaxPageSize
	}
	if c.ReadyMaxLag == 0 {
		c.ReadyMaxLag = DefaultReadyMaxLag
	}
	if c.TokenCacheTTL == 0 {
		c.TokenCacheTTL = DefaultTokenCacheTTL
	}
}

// Validate reports configuration errors.
func (c Config) Validate() error {
	var errs []error
	if c.DB == nil {
		errs = append(errs, errors.New("api: DB is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("api: Store is required"))
	}
	if c.Commands == nil {
		errs = append(errs, errors.New("api: Commands is required"))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("api: MaxBodyBytes %d is negative", c.MaxBodyBytes))
	}
	if c.MaxPageSize < 0 {
		errs = append(errs, fmt.Errorf("api: MaxPageSize %d is negative", c.MaxPageSize))
	}
	if c.ReadyMaxLag < 0 {
		errs = append(errs, fmt.Errorf("api: ReadyMaxLag %s is negative", c.ReadyMaxLag))
	}
	return errors.Join(errs...)
}

// Server serves the HTTP API. Build it with New; it is safe for concurrent
// use.
type Server struct {
	cfg      Config
	mux      *http.ServeMux
	routes   []route
	served   http.Handler // mux, with problem documents for unmatched requests
	metrics  *httpMetrics
	openAPI  []byte
	pageSize int
	// unavailable logs the database's outages once each, not once per
	// request answered 503.
	unavailable *repeatlog.Repeats
	// tokens remembers verified tokens for cfg.TokenCacheTTL.
	tokens *tokenCache
}

// New builds a Server and registers its metrics with cfg.Registry.
func New(cfg Config) (*Server, error) {
	ownRegistry := cfg.Registry == nil
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ownRegistry {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), pageSize: min(DefaultPageSize, cfg.MaxPageSize),
		unavailable: repeatlog.New(cfg.Logger, slog.LevelWarn), tokens: newTokenCache(cfg.TokenCacheTTL)}
	s.metrics = newHTTPMetrics()
	for _, c := range []prometheus.Collector{s.metrics.requests, s.metrics.duration, projections.NewCollector(cfg.DB, cfg.Store, cfg.Now)} {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("api: register metrics: %w", err)
		}
	}
	s.routes = s.routeTable()
	// The document is generated from the route table's descriptors and the
	// handlers' types; a route without a descriptor is an error.
	document, ops, err := openAPIDocument(s.cfg.Version, s.routes, cfg.Mounts)
	if err != nil {
		return nil, err
	}
	for i, rt := range s.routes {
		// The route's parameters are read from its OpenAPI operation, so
		// what the document says a route takes is what the server accepts.
		if err := s.responder().Handle(s.mux, rt.method, rt.pattern, ops[i].ParameterObjects(), rt.handler); err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
	}
	for _, m := range cfg.Mounts {
		for _, p := range m.Patterns {
			s.mux.Handle(p, m.Handler)
		}
		if len(m.Patterns) > 0 && m.Paths == nil && m.Ops == nil {
			continue
		}
		if !m.KeepPrefix {
			s.mux.Handle(m.Prefix+"/", http.StripPrefix(m.Prefix, m.Handler))
			continue
		}
		// Routes beside the API's own: register each documented operation,
		// so unknown paths and methods still get the API's 404 and 405.
		for path, item := range m.Paths {
			ops, _ := item.(map[string]any)
			for method := range ops {
				s.mux.Handle(strings.ToUpper(method)+" "+path, m.Handler)
			}
		}
		for _, op := range m.Ops {
			s.mux.Handle(op.Method+" "+op.Path, m.Handler)
		}
	}
	doc, err := json.Marshal(document)
	if err != nil {
		return nil, fmt.Errorf("api: openapi document: %w", err)
	}
	s.openAPI = doc
	s.served = kernel.Routes(s.mux)
	return s, nil
}

// Handler returns the API's HTTP handler, with request ids, access logs,
// metrics, panic recovery and authentication around the routes.
func (s *Server) Handler() http.Handler { return compressResponses(http.HandlerFunc(s.serve)) }

// NewHTTPServer returns an http.Server for h with timeouts set, so that
// slow or idle clients cannot hold connections forever.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute, // long daily series and histories
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

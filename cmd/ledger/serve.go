package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"promiseledger/api"
	"promiseledger/api/councils"
	"promiseledger/api/pages"
	"promiseledger/api/session"
	"promiseledger/commands"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// common are the settings every database command shares.
type common struct {
	DatabaseURL  string
	EventStore   string
	KurrentDBURL string
	LogLevel     string
	LogFormat    string
	// GroupCommit is set by the commands that serve writes (serve, dev),
	// which register its flag; the others append one event at a time.
	GroupCommit bool
}

func (c *common) register(f *flagSet) {
	f.String(&c.DatabaseURL, "database-url", "LEDGER_DATABASE_URL", "", "PostgreSQL URL of the read models (and of the events, with --event-store postgres)")
	f.String(&c.EventStore, "event-store", "LEDGER_EVENT_STORE", "postgres", "where events live: postgres or kurrentdb")
	f.String(&c.KurrentDBURL, "kurrentdb-url", "LEDGER_KURRENTDB_URL", "", "esdb:// connection string, with --event-store kurrentdb")
	f.String(&c.LogLevel, "log-level", "LEDGER_LOG_LEVEL", "info", "debug, info, warn or error")
	f.String(&c.LogFormat, "log-format", "LEDGER_LOG_FORMAT", "text", "text or json")
}

func (c common) validate(needDB bool) error {
	var errs []error
	if needDB && c.DatabaseURL == "" {
		errs = append(errs, usagef("no database: set --database-url or LEDGER_DATABASE_URL (or run `ledger dev`, which starts its own)"))
	}
	if err := oneOf("--event-store", c.EventStore, "postgres", "kurrentdb"); err != nil {
		errs = append(errs, err)
	}
	if c.EventStore == "kurrentdb" && c.KurrentDBURL == "" {
		errs = append(errs, usagef("--event-store kurrentdb needs --kurrentdb-url or LEDGER_KURRENTDB_URL"))
	}
	if err := oneOf("--log-format", c.LogFormat, "text", "json"); err != nil {
		errs = append(errs, err)
	}
	if err := oneOf("--log-level", c.LogLevel, "debug", "info", "warn", "error"); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return usageError{errors.Join(errs...).Error()}
	}
	return nil
}

func (c common) logger(e env) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.LogLevel)) //nolint:errcheck // validated
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// services are the parts every running command needs.
type services struct {
	store eventstore.Store
	db    *sqlx.DB
	cmds  *commands.Handlers
	close func()
}

// openServices connects to the stores and, if migrate is set, brings every
// schema up to date.
func openServices(ctx context.Context, c common, migrate bool, logger *slog.Logger) (*services, error) {
	if c.EventStore != "postgres" {
		return openKurrentDB(ctx, c, migrate, logger)
	}
	pg, err := postgres.Open(ctx, postgres.Config{URL: c.DatabaseURL, Logger: logger, NoGroupCommit: !c.GroupCommit})
	if err != nil {
		return nil, err
	}
	s := &services{store: pg, db: pg.DB(), close: func() { pg.Close() }}
	if migrate {
		if err := migrateAll(ctx, pg.DB(), true); err != nil {
			s.close()
			return nil, err
		}
	} else if err := postgres.CheckTransactionIDs(ctx, pg.DB()); err != nil {
		s.close()
		return nil, err
	}
	if s.cmds, err = commands.New(commands.Deps{Store: pg}); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// migrateAll applies every component's migrations: the event store's (when
// events live in PostgreSQL), the read models', the API's.
func migrateAll(ctx context.Context, db *sqlx.DB, events bool) error {
	if events {
		if err := postgres.Migrate(ctx, db); err != nil {
			return fmt.Errorf("migrate event store: %w", err)
		}
	}
	for _, m := range migrators {
		if err := m.migrate(ctx, db); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

var migrators = []struct {
	name    string
	migrate func(context.Context, *sqlx.DB) error
}{
	{"read models", projections.Migrate},
	{"transparency log", translog.Migrate}, // after the read models: it keeps its generation in their projectors table
	{"api", api.Migrate},
}

type serveConfig struct {
	common
	log            logConfig
	Addr           string
	APIOnly        bool
	ProjectorsOnly bool
	Migrate        bool
	MaxBodyBytes   int64
	MaxPageSize    int
	ReadyMaxLag    time.Duration
	ShutdownGrace  time.Duration
	// RatingsCacheMB bounds the ratings' live cache (projections.SetRatingsCacheBudget).
	RatingsCacheMB int64
	// TrustForwardedProto: behind a TLS-terminating proxy that sets
	// X-Forwarded-Proto, the pages' cookies are Secure and their links https.
	TrustForwardedProto bool
}

func (c *serveConfig) register(f *flagSet, defaultAddr string) {
	c.common.register(f)
	c.log.register(f)
	f.String(&c.Addr, "addr", "LEDGER_ADDR", defaultAddr, "address the API listens on")
	f.Bool(&c.APIOnly, "api-only", "LEDGER_API_ONLY", false, "serve the API without running projectors")
	f.Bool(&c.ProjectorsOnly, "projectors-only", "LEDGER_PROJECTORS_ONLY", false, "run the projectors without serving the API")
	f.Bool(&c.Migrate, "migrate", "LEDGER_MIGRATE", true, "apply database migrations at start")
	f.Int64(&c.MaxBodyBytes, "max-body-bytes", "LEDGER_MAX_BODY_BYTES", api.DefaultMaxBodyBytes, "largest request body accepted (larger: 413)")
	f.Int(&c.MaxPageSize, "max-page-size", "LEDGER_MAX_PAGE_SIZE", api.DefaultMaxPageSize, "largest ?limit= accepted")
	f.Duration(&c.ReadyMaxLag, "ready-max-lag", "LEDGER_READY_MAX_LAG", api.DefaultReadyMaxLag, "/readyz fails when a projector lags more than this")
	f.Bool(&c.GroupCommit, "group-commit", "LEDGER_GROUP_COMMIT", true, "batch concurrent appends into shared transactions (on by default; --group-commit=false writes each append in its own transaction; docs/performance.md)")
	f.Int64(&c.RatingsCacheMB, "ratings-cache-mb", "LEDGER_RATINGS_CACHE_MB", projections.DefaultRatingsCacheBytes>>20,
		"memory, in MiB by an estimate, the ratings' live recompute may keep between settles (0: recompute each level from the read model every time)")
	f.Duration(&c.ShutdownGrace, "shutdown-grace", "LEDGER_SHUTDOWN_GRACE", 15*time.Second, "how long in-flight requests may finish at shutdown")
	f.Bool(&c.TrustForwardedProto, "trust-forwarded-proto", "LEDGER_TRUST_FORWARDED_PROTO", false,
		"trust X-Forwarded-Proto from a TLS-terminating proxy: Secure session cookies and https links (set only behind a proxy that sets the header)")
}

func (c serveConfig) validate() error {
	if err := c.common.validate(true); err != nil {
		return err
	}
	if c.APIOnly && c.ProjectorsOnly {
		return usagef("--api-only and --projectors-only exclude each other")
	}
	if c.MaxBodyBytes <= 0 || c.MaxPageSize <= 0 || c.ReadyMaxLag <= 0 {
		return usagef("--max-body-bytes, --max-page-size and --ready-max-lag must be positive")
	}
	if c.RatingsCacheMB < 0 || c.RatingsCacheMB > 1<<30 {
		return usagef("--ratings-cache-mb must be between 0 and %d", 1<<30)
	}
	return nil
}

func runServe(ctx context.Context, e env, args []string) error {
	var cfg serveConfig
	f := newFlagSet("serve", "serve [--api-only | --projectors-only] [flags]", e)
	cfg.register(f, ":8080")
	if done, err := parseOrHelp(f, args); done || err != nil {
		return err
	}
	if len(f.Args()) > 0 {
		return usagef("serve takes no arguments, got %q", f.Args())
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	logger := cfg.logger(e)
	svc, err := openServices(ctx, cfg.common, cfg.Migrate, logger)
	if err != nil {
		return err
	}
	defer svc.close()
	return serve(ctx, e, cfg, svc, logger, nil)
}

// serve runs the API and the projectors until ctx ends, then shuts both
// down: the HTTP server finishes in-flight requests, the projectors finish
// their current batch. ready, if set, is called with the API's URL.
func serve(ctx context.Context, e env, cfg serveConfig, svc *services, logger *slog.Logger, ready func(url string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Build everything that can fail before anything runs, so a failure
	// leaves nothing half started.
	var router *projections.Router
	if !cfg.APIOnly {
		projections.SetRatingsCacheBudget(cfg.RatingsCacheMB << 20)
		var err error
		router, err = projections.NewRouterWithConfig(ctx, projections.RouterConfig{
			DB: svc.db, Store: svc.store, Projectors: ledgerProjectors(), Logger: logger,
		})
		if err != nil {
			return err
		}
	}
	var httpSrv *http.Server
	var ln net.Listener
	var err error
	if cfg.ProjectorsOnly {
		httpSrv, ln, err = metricsOnlyServer(cfg, registry, svc)
	} else {
		httpSrv, ln, err = startAPI(cfg, svc, logger, registry)
	}
	if err != nil {
		return err
	}

	var g group
	g.run(func() error {
		if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	url := "http://" + displayAddr(ln.Addr())
	logger.Info("listening", "url", url, "projectors_only", cfg.ProjectorsOnly)
	if router != nil {
		g.run(func() error {
			err := router.Run(ctx)
			switch {
			case ctx.Err() != nil:
				return nil
			case err != nil:
				return fmt.Errorf("projectors: %w", err)
			default:
				// Watermill closes the router when every handler stopped:
				// each met an event it cannot apply.
				return errors.New("projectors: every projector stopped; see `ledger projections status`")
			}
		})
		if cfg.log.SigningKeyFile != "" {
			g.run(func() error { return runCheckpointer(ctx, cfg.log, svc.db, svc.store, logger) })
		} else {
			logger.Warn("no signing key (LEDGER_SIGNING_KEY_FILE): the transparency log grows but no checkpoints are signed")
		}
	}
	if ready != nil && !cfg.ProjectorsOnly {
		ready(url)
	}
	firstErr := g.wait(ctx)
	logger.Info("shutting down")
	cancel()
	sctx, stop := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	httpSrv.Shutdown(sctx) //nolint:errcheck // best effort within the grace period
	stop()
	if err := g.rest(); err != nil && firstErr == nil {
		firstErr = err
	}
	return firstErr
}

// group runs the parts of a server and reports the first to end.
type group struct {
	errc    chan error
	running int
}

func (g *group) run(f func() error) {
	if g.errc == nil {
		g.errc = make(chan error, 8)
	}
	g.running++
	go func() { g.errc <- f() }()
}

// wait returns when ctx ends (nil) or a part ends (its error; nil from a
// part that ended on its own is still the end of the server).
func (g *group) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-g.errc:
		g.running--
		return err
	}
}

// rest waits for the other parts and returns the first error among them.
func (g *group) rest() error {
	var first error
	for ; g.running > 0; g.running-- {
		if err := <-g.errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func startAPI(cfg serveConfig, svc *services, logger *slog.Logger, registry *prometheus.Registry) (*http.Server, net.Listener, error) {
	mounts, err := auditMount(cfg.log, svc.db, svc.store, logger, cfg.MaxPageSize)
	if err != nil {
		return nil, nil, err
	}
	councilRoutes, err := councils.NewHandler(councils.Config{
		DB: svc.db, Commands: svc.cmds, Logger: logger, MaxBodyBytes: cfg.MaxBodyBytes, MaxPageSize: cfg.MaxPageSize,
		Idempotency: api.IdempotencyKeys(svc.db), // one key store for every route
		Authenticate: func(r *http.Request) (string, string, bool, error) {
			id, role, ok := api.Caller(r)
			return id, role, ok, nil
		},
	})
	if err != nil {
		return nil, nil, err
	}
	mounts = append(mounts, api.Mount{Prefix: "/v1", Handler: councilRoutes, Ops: councils.Operations(), KeepPrefix: true})
	// Sign-in sessions and the write forms on the pages (docs/signin.md).
	sessions, err := session.New(session.Config{DB: svc.db})
	if err != nil {
		return nil, nil, err
	}
	pageRoutes, err := pages.New(pages.Config{DB: svc.db, Logger: logger, LogPublicKey: logPublicKey(cfg.log),
		Sessions: sessions, Commands: svc.cmds, Store: svc.store, WriteDB: svc.db, TrustForwardedProto: cfg.TrustForwardedProto})
	if err != nil {
		return nil, nil, err
	}
	mounts = append(mounts, api.Mount{Handler: pageRoutes, Patterns: pages.Patterns()})
	server, err := api.New(api.Config{
		Mounts: mounts,
		DB:     svc.db, Store: svc.store, Commands: svc.cmds, Logger: logger,
		MaxBodyBytes: cfg.MaxBodyBytes, MaxPageSize: cfg.MaxPageSize, ReadyMaxLag: cfg.ReadyMaxLag,
		Registry: registry, Version: version,
	})
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return api.NewHTTPServer(cfg.Addr, server.Handler()), ln, nil
}

// metricsOnlyServer serves /metrics and /healthz for a projector-only
// process, on the API address, so it can be scraped and probed.
func metricsOnlyServer(cfg serveConfig, registry *prometheus.Registry, svc *services) (*http.Server, net.Listener, error) {
	registry.MustRegister(projections.NewCollector(svc.db, svc.store, time.Now))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttpHandler(registry))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","role":"projectors","version":%q}`+"\n", version)
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return api.NewHTTPServer(cfg.Addr, mux), ln, nil
}

func displayAddr(a net.Addr) string {
	s := a.String()
	if strings.HasPrefix(s, "[::]:") {
		return "localhost:" + strings.TrimPrefix(s, "[::]:")
	}
	if strings.HasPrefix(s, "0.0.0.0:") {
		return "localhost:" + strings.TrimPrefix(s, "0.0.0.0:")
	}
	return s
}

func runMigrate(ctx context.Context, e env, args []string) error {
	var c common
	f := newFlagSet("migrate", "migrate [flags]", e)
	c.register(f)
	if done, err := parseOrHelp(f, args); done || err != nil {
		return err
	}
	if len(f.Args()) > 0 {
		return usagef("migrate takes no arguments, got %q", f.Args())
	}
	if err := c.validate(true); err != nil {
		return err
	}
	svc, err := openServices(ctx, c, true, c.logger(e))
	if err != nil {
		return err
	}
	svc.close()
	fmt.Fprintln(e.stdout, "database is up to date")
	return nil
}

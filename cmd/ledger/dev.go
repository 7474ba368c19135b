package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/api"
	"promiseledger/commands"
	"promiseledger/commands/batch"
	"promiseledger/commands/councildemo"
	"promiseledger/commands/demo"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pglocal"
	"promiseledger/projections"
)

type devConfig struct {
	serveConfig
	DataDir   string
	Demo      bool
	DemoSeed  int64
	DemoScale string
	// StartGCHeadroomMB: see relaxGC.
	StartGCHeadroomMB int64
}

func runDev(ctx context.Context, e env, args []string) (err error) {
	var cfg devConfig
	f := newFlagSet("dev", "dev [flags]", e)
	cfg.serveConfig.register(f, "127.0.0.1:8080")
	f.String(&cfg.DataDir, "data-dir", "LEDGER_DATA_DIR", ".ledger", "where the private PostgreSQL keeps its data (used when no database URL is set)")
	f.Bool(&cfg.Demo, "demo", "LEDGER_DEMO", true, "load the demo data set (217 roadmaps) once, on first start")
	f.Int64(&cfg.DemoSeed, "demo-seed", "LEDGER_DEMO_SEED", 2021, "seed of the demo data set")
	f.Int64(&cfg.StartGCHeadroomMB, "start-gc-headroom-mb", "LEDGER_START_GC_HEADROOM_MB", 1024,
		"while dev starts (demo, read models' catch-up), let the heap grow this many MiB over the live data between garbage collections; 0 (or GOGC or GOMEMLIMIT set) keeps Go's pace")
	f.String(&cfg.DemoScale, "demo-scale", "LEDGER_DEMO_SCALE", "1", "size of the demo (1 = ~2,700 measures, ~111,000 events; below 1 the councils and deputies' activity shrink too)")
	if done, err := parseOrHelp(f, args); done || err != nil {
		return err
	}
	if len(f.Args()) > 0 {
		return usagef("dev takes no arguments, got %q", f.Args())
	}
	scale, err := strconv.ParseFloat(cfg.DemoScale, 64)
	if err != nil || scale <= 0 {
		return usagef("--demo-scale %q: want a positive number", cfg.DemoScale)
	}
	if err := cfg.common.validate(false); err != nil {
		return err
	}
	if cfg.StartGCHeadroomMB < 0 || cfg.StartGCHeadroomMB > 1<<20 {
		return usagef("--start-gc-headroom-mb %d: want 0 to 1048576 (MiB)", cfg.StartGCHeadroomMB)
	}
	logger := cfg.logger(e)
	prog := newProgress(e.stdout)
	// Restored once the start is over, or when dev returns before.
	restoreGC := relaxGC(cfg.StartGCHeadroomMB<<20, e.getenv)
	defer restoreGC()
	// On a folder without a cluster the ledger is new: the demo (pure CPU)
	// is planned while initdb and PostgreSQL's start run (mostly the
	// server's CPU and the disk). A ledger that may hold the demo already
	// plans it only once it knows it does not, so restarts stay fast.
	var early *plannedDemos
	if cfg.Demo && cfg.DatabaseURL == "" && !clusterExists(cfg.DataDir) {
		early = planDemosAhead(ctx, prog, cfg.DemoSeed, scale)
		defer early.stop()
	}
	if cfg.DatabaseURL == "" {
		srv, url, err := startPrivatePostgres(ctx, e, prog, cfg.DataDir, logger)
		if err != nil {
			return err
		}
		defer stopPrivatePostgres(e, srv)
		// The private server is ours to keep alive: restarted when it dies,
		// and when it keeps dying dev stops, saying why, rather than serve
		// an API whose every request fails.
		var giveUp context.CancelCauseFunc
		ctx, giveUp = context.WithCancelCause(ctx)
		defer giveUp(nil)
		go func() {
			if err := srv.Supervise(ctx, pglocal.RestartPolicy{}); err != nil {
				giveUp(err)
			}
		}()
		defer func() {
			if cause := context.Cause(ctx); errors.Is(cause, pglocal.ErrGaveUp) {
				err = cause
			}
		}()
		cfg.DatabaseURL = url
		// Other commands (projections status, token create) reach the
		// private server through this file while dev runs.
		if err := os.WriteFile(filepath.Join(cfg.DataDir, "database-url"), []byte(url+"\n"), 0o600); err != nil {
			return err
		}
	}
	if err := cfg.serveConfig.validate(); err != nil {
		return err
	}
	if cfg.log.SigningKeyFile == "" {
		cfg.log.SigningKeyFile = filepath.Join(cfg.DataDir, "log-signing.key")
		if _, err := os.Stat(cfg.log.SigningKeyFile); errors.Is(err, os.ErrNotExist) {
			if _, err := writeKeyFile(cfg.log.SigningKeyFile, "promiseledger.local/log"); err != nil {
				return err
			}
		}
	}
	svc, err := openServices(ctx, cfg.common, true, logger)
	if err != nil {
		return err
	}
	defer svc.close()
	if cfg.Demo {
		if err := loadDemos(ctx, prog, svc, cfg.DemoSeed, scale, early); err != nil {
			return err
		}
	}
	// Bring the read models up to date before serving, so the first reads
	// already see the whole demo.
	if err := catchUpReadModels(ctx, prog, svc); err != nil {
		return err
	}
	if cfg.Demo {
		// A ledger whose roadmap demo was loaded before the councils demo
		// existed gets the councils now.
		loaded, err := loadCouncilDemo(ctx, prog, svc, cfg.DemoSeed, scale)
		if err != nil {
			return err
		}
		if loaded {
			if err := catchUpReadModels(ctx, prog, svc); err != nil {
				return err
			}
		}
	}
	token, err := devAdminToken(ctx, svc, cfg.DataDir)
	if err != nil {
		return err
	}
	// Sign the checkpoint of what was just loaded before the banner, so
	// the banner is the last thing a start prints (the checkpointer that
	// serve runs then finds nothing new to sign).
	if err := signFirstCheckpoint(ctx, prog, cfg.log, svc.db); err != nil {
		return err
	}
	// The start is over: what serve builds is small, and with
	// --projectors-only it calls back no banner.
	restoreGC()
	return serve(ctx, e, cfg.serveConfig, svc, logger, func(url string) {
		if url == "" {
			return
		}
		fmt.Fprintf(e.stdout, "\nPromiseLedger is running at %s\n", url)
		fmt.Fprintf(e.stdout, "  admin token (demo only): %s\n", token)
		fmt.Fprintf(e.stdout, "  try: curl -s '%s/v1/figures?scope=level&id=republican'\n", url)
		fmt.Fprintf(e.stdout, "  audit: %s/v1/audit/checkpoint · log public key: %s\n", url, publicKey(cfg.log.SigningKeyFile))
		fmt.Fprintf(e.stdout, "  API description: %s/openapi.json · press Ctrl-C to stop\n\n", url)
	})
}

// devFallbackParent receives the cluster when dev runs as root in a folder
// the unprivileged server user cannot enter (a project under /root): /var/tmp
// rather than /tmp, because it survives reboots like the rest of the data.
const devFallbackParent = "/var/tmp/promiseledger"

// startPrivatePostgres starts (or restarts) the development cluster under
// dataDir and makes sure the ledger database exists.
func startPrivatePostgres(ctx context.Context, e env, prog *progress, dataDir string, logger *slog.Logger) (*pglocal.Server, string, error) {
	abs, err := filepath.Abs(filepath.Join(dataDir, "postgres"))
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, "", fmt.Errorf("data directory: %w", err)
	}
	began, fresh := time.Now(), !clusterExists(dataDir)
	prog.line("starting a private PostgreSQL in %s ...", abs)
	// What pglocal says while it starts is in the progress lines; its
	// details (port, pid, log file) stay available at --log-level debug.
	// Its warnings and errors (a restart after a crash) still show.
	srv, err := pglocal.Start(ctx, pglocal.Config{DataDir: abs, Logger: slog.New(infoAsDebug{logger.Handler()}), FallbackParent: devFallbackParent})
	if err != nil {
		if errors.Is(err, pglocal.ErrNoBinaries) {
			return nil, "", fmt.Errorf("%w\n(or point `ledger dev` at a server you run: LEDGER_DATABASE_URL=postgres://...)", err)
		}
		return nil, "", err
	}
	if srv.LinkedFrom() != "" {
		prog.line("PostgreSQL runs as an unprivileged user who cannot reach %s, so the cluster lives in %s (%s links to it; tokens and keys stay in %s)",
			abs, srv.DataDir(), abs, dataDir)
	}
	if err := srv.CreateDatabase(ctx, "ledger"); err != nil && !isDuplicateDatabase(err) {
		stopPrivatePostgres(e, srv)
		return nil, "", err
	}
	if fresh {
		prog.took(began, "PostgreSQL is ready: a new cluster, log in %s", srv.LogPath())
	} else {
		prog.took(began, "PostgreSQL is ready, log in %s", srv.LogPath())
	}
	return srv, srv.URL("ledger"), nil
}

func stopPrivatePostgres(e env, srv *pglocal.Server) {
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(sctx); err != nil {
		fmt.Fprintln(e.stderr, "ledger: stop PostgreSQL:", err)
	}
}

func isDuplicateDatabase(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "42P04"
}

// loadDemos writes the roadmap demo and the councils demo on first start.
// Both run through the command handlers against an in-memory overlay (the
// ledger is known to hold neither), and their events are then written in
// one transaction, in the order the commands recorded them: all or
// nothing, so a first start cut short starts over cleanly. early, if set,
// is the plan made while PostgreSQL started.
func loadDemos(ctx context.Context, prog *progress, svc *services, seed int64, scale float64, early *plannedDemos) error {
	loaded, err := demo.Loaded(ctx, svc.store, demo.Config{Seed: seed, Now: time.Now().UTC(), Scale: scale, Workers: 1})
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	if loaded {
		return nil
	}
	if pg, ok := svc.store.(*postgres.Store); ok && early != nil {
		return writePlanned(ctx, prog, pg, early)
	}
	var log []batch.Append
	if early != nil {
		log, err = early.wait()
	} else {
		log, err = planDemos(ctx, prog, seed, scale, time.Now().UTC())
	}
	if err != nil {
		return err
	}
	began := time.Now()
	if err := writeLog(ctx, svc.store, log); err != nil {
		return fmt.Errorf("demo data: nothing was written: %w", err)
	}
	prog.phase(began, batch.Events(log), "events", "loaded the demo data set and the councils demo into the ledger")
	return nil
}

// writePlanned writes the demos planned ahead into PostgreSQL while they
// are planned: what is planned already is copied while the rest is
// planned (PostgreSQL's work on one core, the planning on the other), in
// one transaction committed once the plan is complete, so the first start
// waits for the last part only, not the whole load, after the planning.
func writePlanned(ctx context.Context, prog *progress, pg *postgres.Store, early *plannedDemos) error {
	began, n := time.Now(), 0
	err := pg.AppendAllFrom(ctx, func() ([]postgres.StreamAppend, error) {
		part, err := early.next(ctx)
		if part == nil || err != nil {
			return nil, err
		}
		n += batch.Events(part)
		return streamAppends(part), nil
	})
	if err != nil {
		early.stop()
		if _, perr := early.wait(); perr != nil && !errors.Is(perr, context.Canceled) {
			return perr // the planning failed
		}
		return fmt.Errorf("demo data: nothing was written: %w", err)
	}
	early.wait() //nolint:errcheck // the plan is complete: forget it
	prog.phase(began, n, "events", "loaded the demo data set and the councils demo into the ledger, each part as it was planned")
	return nil
}

func streamAppends(log []batch.Append) []postgres.StreamAppend {
	out := make([]postgres.StreamAppend, len(log))
	for i, a := range log {
		out[i] = postgres.StreamAppend{Stream: a.Stream, Expected: eventstore.Exactly(a.Expected), Events: a.Events}
	}
	return out
}

// planDemos plans the roadmap demo and then the councils demo over it (the
// councils' handlers read the roadmaps' streams, so the two cannot run side
// by side), a progress line each, and returns their appends in order.
func planDemos(ctx context.Context, prog *progress, seed int64, scale float64, now time.Time) ([]batch.Append, error) {
	return planDemosEmitting(ctx, prog, seed, scale, now, nil)
}

// planEmitEvery is how often planDemosEmitting hands on what the councils
// demo planned since it last looked.
const planEmitEvery = 100 * time.Millisecond

// planDemosEmitting is planDemos handing each part of the log to emit (when
// not nil) as soon as no later command can change it: the roadmap demo
// once planned, then the councils demo's appends every planEmitEvery, then
// the rest. The parts, in order, are the log it returns.
func planDemosEmitting(ctx context.Context, prog *progress, seed int64, scale float64, now time.Time, emit func([]batch.Append)) ([]batch.Append, error) {
	if emit == nil {
		emit = func([]batch.Append) {}
	}
	demoCfg := demo.Config{Seed: seed, Now: now, Scale: scale, Workers: 1}
	began := time.Now()
	roadmaps := batch.New(batch.NoHistory{}, time.Now)
	stats, err := demo.Load(ctx, roadmaps, demoCfg)
	if err != nil {
		return nil, fmt.Errorf("demo data: %w", err)
	}
	prog.phase(began, stats.Events, "events", "planned the demo data set: %d roadmaps, %d measures, %d reports, %d corrections",
		stats.Roadmaps, stats.Indicators, stats.Reports, stats.Corrections)
	emit(roadmaps.Log())

	began = time.Now()
	desc, err := demo.Describe(demoCfg)
	if err != nil {
		return nil, fmt.Errorf("council demo: %w", err)
	}
	councils := batch.New(roadmaps, time.Now)
	h, err := commands.New(commands.Deps{Store: councils, Decoded: commands.NewDecodeCache()})
	if err != nil {
		return nil, err
	}
	// The councils' log is handed on while it is made, from a goroutine
	// that looks every planEmitEvery (a command would wait on a channel;
	// a look takes the overlay's lock once).
	sent := 0
	stopEmitting, emitted := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(emitted)
		tick := time.NewTicker(planEmitEvery)
		defer tick.Stop()
		for {
			select {
			case <-stopEmitting:
				return
			case <-tick.C:
				part := councils.LogFrom(sent)
				sent += len(part)
				emit(part)
			}
		}
	}()
	cstats, err := councildemo.Load(ctx, h, councildemo.Config{Seed: seed, Now: now, Scale: scale, RoadmapIDs: demoRoadmapIDs(desc), Demo: &desc, Workers: 1})
	close(stopEmitting)
	<-emitted
	if err != nil {
		return nil, fmt.Errorf("council demo: %w", err)
	}
	emit(councils.Log()[sent:])
	prog.phase(began, cstats.Events, "events", "planned the councils demo: %d councils, %d members, %d recommendations, %d deputies' activity, %d assessments, %d replies",
		cstats.Councils, cstats.Members, cstats.Recommendations, cstats.Deputies, cstats.Assessments, cstats.Replies)
	return append(roadmaps.Log(), councils.Log()...), nil
}

// plannedDemos is planDemos running in the background, its log handed on
// in parts as it is made (next) or whole once made (wait).
type plannedDemos struct {
	cancel context.CancelFunc
	done   chan struct{}
	log    []batch.Append
	err    error

	mu    sync.Mutex
	parts [][]batch.Append // emitted, not yet taken by next
	more  chan struct{}    // a part was emitted
}

func planDemosAhead(ctx context.Context, prog *progress, seed int64, scale float64) *plannedDemos {
	ctx, cancel := context.WithCancel(ctx)
	p := &plannedDemos{cancel: cancel, done: make(chan struct{}), more: make(chan struct{}, 1)}
	go func() {
		defer close(p.done)
		p.log, p.err = planDemosEmitting(ctx, prog, seed, scale, time.Now().UTC(), p.emit)
	}()
	return p
}

func (p *plannedDemos) emit(part []batch.Append) {
	if len(part) == 0 {
		return
	}
	p.mu.Lock()
	p.parts = append(p.parts, part)
	p.mu.Unlock()
	select {
	case p.more <- struct{}{}:
	default: // a signal is pending already
	}
}

// next returns the next part of the log as soon as it is planned, nil once
// the whole plan was taken, or the planning's error.
func (p *plannedDemos) next(ctx context.Context) ([]batch.Append, error) {
	for {
		p.mu.Lock()
		if len(p.parts) > 0 {
			part := p.parts[0]
			p.parts = p.parts[1:]
			p.mu.Unlock()
			return part, nil
		}
		p.mu.Unlock()
		select {
		case <-p.more:
		case <-p.done:
			p.mu.Lock()
			left := len(p.parts)
			p.mu.Unlock()
			if left > 0 {
				continue
			}
			return nil, p.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// wait returns the plan once it is made, and forgets it: dev keeps running
// long after the plan is written, and it weighs tens of megabytes.
func (p *plannedDemos) wait() ([]batch.Append, error) {
	<-p.done
	log := p.log
	p.log = nil
	return log, p.err
}

// stop abandons the plan if it is still being made (dev failed before it
// needed it) and waits for the planner to end, so nothing prints after dev
// returned.
func (p *plannedDemos) stop() {
	p.cancel()
	<-p.done
}

// clusterExists reports whether dataDir holds a PostgreSQL cluster already
// (its postgres folder, or the folder that links to, has a PG_VERSION).
func clusterExists(dataDir string) bool {
	_, err := os.Stat(filepath.Join(dataDir, "postgres", "PG_VERSION"))
	return err == nil
}

// demoRoadmapIDs lists the demo's roadmaps as the councils demo wants them:
// by territory code, then id (the order of rm_roadmaps' listing).
func demoRoadmapIDs(desc demo.Description) []string {
	rms := slices.Clone(desc.Roadmaps)
	slices.SortStableFunc(rms, func(a, b demo.RoadmapInfo) int {
		return cmp.Or(cmp.Compare(a.Territory.KATO, b.Territory.KATO), cmp.Compare(a.ID, b.ID))
	})
	ids := make([]string, len(rms))
	for i, rm := range rms {
		ids[i] = rm.ID
	}
	return ids
}

// writeLog writes appends in order: in one transaction on PostgreSQL, one
// append at a time elsewhere.
func writeLog(ctx context.Context, store eventstore.Store, log []batch.Append) error {
	if pg, ok := store.(*postgres.Store); ok {
		return pg.AppendAll(ctx, streamAppends(log))
	}
	for _, a := range log {
		if _, err := store.Append(ctx, a.Stream, eventstore.Exactly(a.Expected), a.Events); err != nil {
			return err
		}
	}
	return nil
}

// catchUpReadModels brings every read model up to date, a line each.
func catchUpReadModels(ctx context.Context, prog *progress, svc *services) error {
	_, err := projections.CatchUpEach(ctx, svc.db, svc.store, firstReadModels(), func(c projections.CaughtUp) {
		if c.Stopped != nil {
			prog.line("read model %s stopped on an event it cannot apply (see `ledger projections status`): %v", c.Name, c.Stopped)
			return
		}
		if c.Events > 0 {
			prog.phase(time.Now().Add(-c.Elapsed), c.Events, "events", "brought read model %s up to date", c.Name)
		}
	})
	return err
}

// devAdminToken returns the demo admin token, creating it on first start.
// Only its hash is in the database; the secret is kept in the data
// directory (mode 0600) so that every start can print it — a convenience
// for development that `ledger serve` does not have.
func devAdminToken(ctx context.Context, svc *services, dataDir string) (string, error) {
	path := filepath.Join(dataDir, "admin-token")
	if b, err := os.ReadFile(path); err == nil {
		secret := strings.TrimSpace(string(b))
		sum := sha256.Sum256([]byte(secret))
		var live bool
		err := svc.db.GetContext(ctx, &live, `SELECT EXISTS (SELECT 1 FROM api_tokens WHERE secret_sha256 = $1 AND revoked_at IS NULL)`, sum[:])
		if err == nil && live {
			return secret, nil
		}
	}
	secret, _, err := api.CreateToken(ctx, svc.db, api.TokenSpec{Name: "dev admin", Role: api.RoleAdmin, PersonID: "dev-admin"})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save the dev admin token: %w", err)
	}
	return secret, nil
}

func publicKey(keyFile string) string {
	k, err := readKeyFile(keyFile)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return k.verifier
}

// loadCouncilDemo adds the public councils, their recommendations and
// assessments, the deputies' activity and two rating methods, linked to the
// demo's roadmaps and deputies, when the
// read models hold no council yet. A load interrupted midway is not
// resumed (the next start sees councils); delete the data directory to
// start over.
func loadCouncilDemo(ctx context.Context, prog *progress, svc *services, seed int64, scale float64) (bool, error) {
	var councilsSeen int
	if err := svc.db.GetContext(ctx, &councilsSeen, `SELECT count(*) FROM rm_councils`); err != nil {
		return false, err
	}
	if councilsSeen > 0 {
		return false, nil
	}
	var roadmaps []string
	if err := svc.db.SelectContext(ctx, &roadmaps, `SELECT roadmap_id FROM rm_roadmaps ORDER BY kato, roadmap_id`); err != nil {
		return false, err
	}
	began, now := time.Now(), time.Now().UTC()
	// The roadmap demo's deputies and measures, for their activity and the
	// councils' assessments (the same plan the demo loaded, from the seed).
	desc, err := demo.Describe(demo.Config{Seed: seed, Now: now, Scale: scale})
	if err != nil {
		return false, fmt.Errorf("council demo: %w", err)
	}
	overlay := batch.New(svc.store, time.Now)
	h, err := commands.New(commands.Deps{Store: overlay, Decoded: commands.NewDecodeCache()})
	if err != nil {
		return false, err
	}
	stats, err := councildemo.Load(ctx, h, councildemo.Config{Seed: seed, Now: now, Scale: scale, RoadmapIDs: roadmaps, Demo: &desc})
	if err != nil {
		return false, fmt.Errorf("council demo: %w", err)
	}
	log := overlay.Log()
	if err := writeLog(ctx, svc.store, log); err != nil {
		return false, fmt.Errorf("council demo: nothing was written: %w", err)
	}
	prog.phase(began, stats.Events, "events", "loaded the councils demo: %d councils, %d members, %d recommendations, %d deputies' activity, %d assessments, %d replies",
		stats.Councils, stats.Members, stats.Recommendations, stats.Deputies, stats.Assessments, stats.Replies)
	return true, nil
}

// firstReadModels are caught up before dev serves: all of them, so the
// first reads, ratings included, see the whole demo.
func firstReadModels() []projections.Projector { return ledgerProjectors() }

// signFirstCheckpoint signs a checkpoint of the transparency log now if it
// grew (the demo was just loaded), saying so in a progress line.
func signFirstCheckpoint(ctx context.Context, prog *progress, c logConfig, db *sqlx.DB) error {
	if c.SigningKeyFile == "" {
		return nil
	}
	began := time.Now()
	cp, err := newCheckpointer(c, db, nil, nil)
	if err != nil {
		return err
	}
	signed, ok, err := cp.CheckpointOnce(ctx)
	if err != nil {
		return fmt.Errorf("sign a checkpoint of the log: %w", err)
	}
	if ok {
		prog.took(began, "signed a checkpoint of the transparency log: %s events, root %s", thousands(int(signed.TreeSize)), signed.RootHash)
	}
	return nil
}

// infoAsDebug passes records on at Debug that were logged at Info: the
// private PostgreSQL's start-up chatter, which dev's progress lines already
// tell. Warnings and errors pass as they are.
type infoAsDebug struct{ slog.Handler }

func (h infoAsDebug) Enabled(ctx context.Context, l slog.Level) bool {
	return h.Handler.Enabled(ctx, demoted(l))
}

func (h infoAsDebug) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demoted(r.Level)
	return h.Handler.Handle(ctx, r)
}

func (h infoAsDebug) WithAttrs(attrs []slog.Attr) slog.Handler {
	return infoAsDebug{h.Handler.WithAttrs(attrs)}
}

func (h infoAsDebug) WithGroup(name string) slog.Handler {
	return infoAsDebug{h.Handler.WithGroup(name)}
}

func demoted(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelDebug
	}
	return l
}

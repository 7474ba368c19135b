package pages_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/api"
	"promiseledger/api/audit"
	"promiseledger/api/councils"
	"promiseledger/api/pages"
	"promiseledger/commands"
	"promiseledger/commands/councildemo"
	"promiseledger/commands/demo"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// TestMain runs the package's tests over one demo, loaded once (newEnv):
// loading it is most of the tests' time, and no test changes it.
func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	shared.close()
	os.Exit(code)
}

// demoNow is "today" of the demo data set and of the pages' clock.
var demoNow = time.Date(2026, time.November, 15, 9, 0, 0, 0, time.UTC)

// env is one server over the demo.
type env struct {
	srv     *httptest.Server
	db      *sqlx.DB
	counter *queryCounter
	pages   *pages.Handler
	key     string
}

// demoScale keeps the tests fast: every roadmap and territory, a tenth
// of the measures.
const demoScale = 0.1

// shared is the package's one demo server; every test and benchmark reads
// it and none writes to it.
var shared sharedDemo

type sharedDemo struct {
	once sync.Once
	env  *env
	err  error
}

func (s *sharedDemo) close() {
	if s.env != nil {
		s.env.srv.Close()
		s.env.db.Close()
	}
}

// newEnv returns the demo, loaded into a database of its own and served
// with the API and the pages as `ledger serve` mounts them; the first
// call loads it, later calls share it.
func newEnv(tb testing.TB) *env {
	tb.Helper()
	shared.once.Do(func() {
		// The database outlives the test that happens to create it: a
		// private server is removed with the test binary; an external one
		// keeps the database (t_shared_demo_...) until dropped by hand.
		shared.env, shared.err = buildEnv(pgtest.NewURL(keepDatabase{tb}))
	})
	if shared.err != nil {
		tb.Fatalf("load the demo: %v", shared.err)
	}
	return shared.env
}

// keepDatabase passes a test to pgtest.NewURL without tying the
// database's life to that test: the shared demo serves the tests after it.
type keepDatabase struct{ testing.TB }

func (keepDatabase) Cleanup(func()) {}

func (k keepDatabase) Name() string { return "shared_demo" }

func buildEnv(url string) (*env, error) {
	ctx := context.Background()
	store, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		return nil, err
	}
	db := store.DB()
	if err := postgres.Migrate(ctx, db); err != nil {
		return nil, err
	}
	for _, m := range []func(context.Context, *sqlx.DB) error{projections.Migrate, translog.Migrate, api.Migrate} {
		if err := m(ctx, db); err != nil {
			return nil, err
		}
	}
	cmds, err := commands.New(commands.Deps{Store: store, Clock: func() time.Time { return demoNow.Add(time.Hour) }})
	if err != nil {
		return nil, err
	}
	dcfg := demo.Config{Seed: 2021, Now: demoNow, Scale: demoScale}
	if _, err := demo.Load(ctx, store, dcfg); err != nil {
		return nil, err
	}
	all := append(projections.All(), translog.Projector{})
	if _, err := projections.CatchUp(ctx, db, store, all); err != nil {
		return nil, err
	}
	var roadmaps []string
	if err := db.SelectContext(ctx, &roadmaps, `SELECT roadmap_id FROM rm_roadmaps ORDER BY kato, roadmap_id`); err != nil {
		return nil, err
	}
	// Without the roadmap demo's description: no activity reports or
	// assessments, which keeps the ratings catch-up to seconds.
	if _, err := councildemo.Load(ctx, cmds, councildemo.Config{Seed: 2021, Now: demoNow, Scale: demoScale, RoadmapIDs: roadmaps}); err != nil {
		return nil, err
	}
	if _, err := projections.CatchUp(ctx, db, store, all); err != nil {
		return nil, err
	}
	skey, vkey, err := translog.GenerateKey("pages.test/log")
	if err != nil {
		return nil, err
	}
	signer, err := translog.LoadSigner(skey)
	if err != nil {
		return nil, err
	}
	cp, err := translog.NewCheckpointerWithConfig(translog.CheckpointerConfig{DB: db, Signer: signer})
	if err != nil {
		return nil, err
	}
	if _, _, err := cp.CheckpointOnce(ctx); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		return nil, err
	}

	counter := &queryCounter{}
	cdb, err := countingDB(url, counter)
	if err != nil {
		return nil, err
	}
	now := func() time.Time { return demoNow }
	ph, err := pages.New(pages.Config{DB: cdb, Now: now, LogPublicKey: vkey})
	if err != nil {
		return nil, err
	}
	councilRoutes, err := councils.NewHandler(councils.Config{DB: db, Commands: cmds, Now: now,
		Authenticate: func(r *http.Request) (string, string, bool, error) { return "", "", false, nil }})
	if err != nil {
		return nil, err
	}
	auditRoutes, err := audit.NewHandler(audit.Config{DB: db, Store: store, Verifier: vkey})
	if err != nil {
		return nil, err
	}
	srv, err := api.New(api.Config{DB: db, Store: store, Commands: cmds, Now: now, Mounts: []api.Mount{
		{Prefix: audit.PathPrefix, Handler: auditRoutes, Ops: audit.Operations()},
		{Prefix: "/v1", Handler: councilRoutes, Ops: councils.Operations(), KeepPrefix: true},
		{Handler: ph, Patterns: pages.Patterns()},
	}})
	if err != nil {
		return nil, err
	}
	return &env{srv: httptest.NewServer(srv.Handler()), db: db, counter: counter, pages: ph, key: vkey}, nil
}

// queryCounter counts the statements sent to PostgreSQL through a
// countingDB: the queries a page costs.
type queryCounter struct{ n atomic.Int64 }

func countingDB(url string, c *queryCounter) (*sqlx.DB, error) {
	inner, err := pq.NewConnector(url)
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(sql.OpenDB(countingConnector{inner: inner, c: c}), "postgres"), nil
}

type countingConnector struct {
	inner driver.Connector
	c     *queryCounter
}

func (k countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := k.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: conn, c: k.c}, nil
}

func (k countingConnector) Driver() driver.Driver { return k.inner.Driver() }

type countingConn struct {
	driver.Conn
	c *queryCounter
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.c.n.Add(1)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.c.n.Add(1)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.c.n.Add(1)
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

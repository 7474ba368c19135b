// Package pgtest gives tests and benchmarks fresh, empty PostgreSQL
// databases.
//
// Every test package that needs PostgreSQL calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and each test takes its own database with NewDatabase or NewURL, so tests
// can run in parallel.
//
// The server is the one named by LEDGER_TEST_DATABASE_URL if that is set
// (CI, or a developer's own server); otherwise each test binary starts a
// private server of its own with pglocal, in a temporary directory that is
// removed at exit. When neither is possible the tests fail, saying how to
// install PostgreSQL: they are never skipped silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pglocal"
)

// EnvURL names the environment variable holding the URL of an existing
// database on a server where the tests may create and drop databases.
const EnvURL = "LEDGER_TEST_DATABASE_URL"

const (
	startTimeout = 2 * time.Minute
	// opTimeout bounds creating or dropping one database.
	opTimeout = time.Minute
)

// active is the server of this test binary, set by Run.
var active atomic.Pointer[server]

// server is where test databases are created.
type server struct {
	base  *url.URL // URL of the admin database; test databases differ in path only
	admin *sql.DB
	// external servers outlive the test binary, so their databases are
	// dropped after each test; a private server is deleted wholesale.
	external bool

	shutdownOnce sync.Once
	release      func() // stops a private server and removes its files
}

// Main runs the tests of a package against PostgreSQL and exits. Call it
// from TestMain.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main without the exit, for a TestMain that needs to do more
// around it. It returns the exit code.
func Run(m *testing.M) int {
	// A fuzz worker process (go test -fuzz) runs only the fuzz target, and
	// the fuzz targets use no database: starting a server in every worker
	// would eat the whole of a short -fuzztime.
	if slices.Contains(os.Args[1:], "-test.fuzzworker") {
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	srv, err := connect(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	active.Store(srv)
	defer active.Store(nil)
	defer srv.shutdown()
	defer cleanupOnSignal(srv)()
	return m.Run()
}

// connect picks the server: the external one if configured, a private one
// otherwise.
func connect(ctx context.Context) (*server, error) {
	if raw := os.Getenv(EnvURL); raw != "" {
		return connectExternal(ctx, raw)
	}
	srv, err := startPrivate(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s is not set and no private PostgreSQL server could be started: %w", EnvURL, err)
	}
	return srv, nil
}

func connectExternal(ctx context.Context, raw string) (*server, error) {
	base, err := url.Parse(raw)
	if err != nil || base.Scheme != "postgres" && base.Scheme != "postgresql" {
		// Not echoing raw: it may carry a password.
		return nil, fmt.Errorf("%s must be a postgres:// URL", EnvURL)
	}
	admin, err := openAdmin(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", EnvURL, base.Redacted(), err)
	}
	return &server{base: base, admin: admin, external: true, release: func() {}}, nil
}

// startPrivate starts a server of our own in a fresh temporary directory.
// The directory itself is the data dir: it is empty, and under the system
// temp dir, which an unprivileged server user can reach when we are root.
func startPrivate(ctx context.Context) (*server, error) {
	dir, err := os.MkdirTemp("", "ledger-pgtest-")
	if err != nil {
		return nil, err
	}
	pg, err := pglocal.Start(ctx, pglocal.Config{DataDir: dir})
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := pg.Stop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
	base, err := url.Parse(pg.URL("postgres"))
	if err != nil {
		stop()
		return nil, err
	}
	admin, err := openAdmin(ctx, base.String())
	if err != nil {
		stop()
		return nil, err
	}
	return &server{base: base, admin: admin, release: stop}, nil
}

func openAdmin(ctx context.Context, dsn string) (*sql.DB, error) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (s *server) shutdown() {
	s.shutdownOnce.Do(func() {
		_ = s.admin.Close() // nothing pending: every CREATE/DROP has returned
		s.release()
	})
}

// cleanupOnSignal shuts srv down when the test binary is interrupted (Ctrl-C,
// or SIGTERM from CI), which would otherwise kill us without running the
// deferred cleanup and leave the data dir behind. It returns a function that
// stops watching.
func cleanupOnSignal(srv *server) (stop func()) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-signals:
			fmt.Fprintf(os.Stderr, "pgtest: %v: stopping PostgreSQL\n", sig)
			srv.shutdown()
			os.Exit(1)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(signals)
		close(done)
	}
}

// NewURL creates a fresh, empty database for t and returns its URL. The
// database is dropped when t ends if the server outlives the test binary.
func NewURL(t testing.TB) string {
	t.Helper()
	return newURL(t, active.Load())
}

func newURL(t testing.TB, srv *server) string {
	t.Helper()
	if srv == nil {
		t.Fatal("pgtest: no PostgreSQL server in this test binary: call pgtest.Main from TestMain in this package " +
			"(func TestMain(m *testing.M) { pgtest.Main(m) })")
	}
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	defer cancel()
	// template0, not template1: nobody can connect to it, so concurrent
	// creations never fail with "source database is being accessed by other
	// users", and on a shared server it is pristine whatever was installed
	// into template1.
	if _, err := srv.admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)+" TEMPLATE template0"); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	if srv.external {
		t.Cleanup(func() { srv.drop(t, name) })
	}
	u := *srv.base
	u.Path = "/" + name
	return u.String()
}

// drop removes a test's database, disconnecting whatever the test left
// open. A failure is only logged: the test's verdict stands either way.
func (s *server) drop(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if _, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
		t.Logf("pgtest: drop database %s: %v", name, err)
	}
}

// NewDatabase creates a fresh, empty database for t and connects to it. The
// connection is closed when t ends.
func NewDatabase(t testing.TB) *sqlx.DB {
	t.Helper()
	dsn := NewURL(t)
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", dsn, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Logf("pgtest: close %s: %v", dsn, err)
		}
	})
	return db
}

// databaseName derives a unique database name from a test name, readable
// enough to find a test's database on a shared server. PostgreSQL allows 63
// bytes.
func databaseName(testName string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	suffix := make([]byte, 6)
	rand.Read(suffix) // never fails
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(suffix))
	return b.String()
}

// Head returns s's readable head once it is the newest event s stores.
// One look at the head is not enough after the events are readable: the
// readable horizon is recomputed on every read, and a transaction of a
// parallel test on the shared server that ends between a reader's snapshot
// and its look at pg_locks holds it back for that one read (rightly: had
// that transaction appended, its events would be missing from the snapshot),
// so any one read can stop short of the events this test appended.
func Head(tb testing.TB, s *postgres.Store) eventstore.Position {
	tb.Helper()
	var head eventstore.Position
	awaitNewest(tb, s, func(ctx context.Context, newest eventstore.Position) bool {
		var err error
		if head, err = s.Head(ctx); err != nil {
			tb.Fatal(err)
		}
		return head == newest
	})
	return head
}

// ReadAll reads the page of s's global log after the position, waiting
// until it is full or ends at the newest event s stores (see Head).
func ReadAll(tb testing.TB, s *postgres.Store, after eventstore.Position, limit int) []eventstore.Recorded {
	tb.Helper()
	var page []eventstore.Recorded
	awaitNewest(tb, s, func(ctx context.Context, newest eventstore.Position) bool {
		var err error
		if page, err = s.ReadAll(ctx, after, limit); err != nil {
			tb.Fatal(err)
		}
		if len(page) == limit {
			return true
		}
		if len(page) == 0 {
			return !after.Less(newest)
		}
		return page[len(page)-1].Position == newest
	})
	return page
}

// awaitNewest calls done with the position of the newest event s stores
// until it returns true, for up to a minute.
func awaitNewest(tb testing.TB, s *postgres.Store, done func(ctx context.Context, newest eventstore.Position) bool) {
	tb.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		var row struct {
			Tx  string `db:"tx"`
			Seq int64  `db:"seq"`
		}
		var newest eventstore.Position
		err := s.DB().GetContext(ctx, &row, `SELECT tx_id::text AS tx, seq FROM events ORDER BY tx_id DESC, seq DESC LIMIT 1`)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			tb.Fatal(err)
		default:
			tx, err := strconv.ParseUint(row.Tx, 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			newest = eventstore.Position{Commit: tx, Prepare: uint64(row.Seq)}
		}
		if done(ctx, newest) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("pgtest: the log stayed readable only below its newest event %s for a minute", newest)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// AwaitReadable waits until every event s stores is readable. The log's
// readable horizon can stay for a moment below the newest events (an
// append still running, or a transaction of a parallel test on the shared
// server that ended between a reader's snapshot and its look at pg_locks),
// and a catch-up ends at the readable head.
func AwaitReadable(tb testing.TB, s *postgres.Store) {
	tb.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		var total int64
		if err := s.DB().GetContext(ctx, &total, `SELECT count(*) FROM events`); err != nil {
			tb.Fatal(err)
		}
		readable, err := s.CountAfter(ctx, eventstore.Start)
		if err != nil {
			tb.Fatal(err)
		}
		if readable == total {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d events became readable", readable, total)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

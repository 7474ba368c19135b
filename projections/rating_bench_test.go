package projections_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/commands/councildemo"
	"promiseledger/commands/demo"
	"promiseledger/projections"
)

// BenchmarkRatingsRebuild rebuilds ratings.v1 over the data set `ledger
// dev` loads (the roadmap demo and the councils demo, seed 2021, about
// 111,000 events) and reports events/s and SQL statements (round trips, the
// rebuild's own included) per page of RebuildPageSize events. Set
// RATING_BENCH_DUMP to a file name to write the rebuilt read model there
// (to compare two versions of the projector: the data set is
// deterministic), and RATING_BENCH_VIEWS to write the answers read from it
// (dumpRatingViews: every deputy's ratings and every league table), which
// stay comparable when the stored form changes. RATING_BENCH_COMPARE=1
// then rebuilds the read model again page by page (no replay) and fails
// unless every row of it equals the rebuilt one.
func BenchmarkRatingsRebuild(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b)
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	e.mu.Lock()
	e.now = now.Add(12 * time.Hour) // a fixed recorded time: the data set is the same on every run
	e.mu.Unlock()
	start := time.Now()
	if _, err := demo.Load(ctx, e.store, demo.Config{Seed: 2021, Now: now}); err != nil {
		b.Fatal(err)
	}
	e.catchUp(projections.RebuildPageSize, projections.Catalog{})
	var roadmaps []string
	if err := e.db.SelectContext(ctx, &roadmaps, `SELECT roadmap_id FROM rm_roadmaps ORDER BY kato, roadmap_id`); err != nil {
		b.Fatal(err)
	}
	desc, err := demo.Describe(demo.Config{Seed: 2021, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := councildemo.Load(ctx, e.cmd, councildemo.Config{Seed: 2021, Now: now, RoadmapIDs: roadmaps, Demo: &desc}); err != nil {
		b.Fatal(err)
	}
	var events int
	if err := e.db.GetContext(ctx, &events, `SELECT count(*) FROM events`); err != nil {
		b.Fatal(err)
	}
	if _, err := e.db.ExecContext(ctx, `VACUUM ANALYZE events`); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d events in %s", events, time.Since(start).Round(time.Millisecond))

	counter := &statementCounter{}
	db := countingDB(b, e.url, counter)
	ensure(b, db, projections.Ratings{})
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := projections.Rebuild(ctx, db, e.store, projections.Ratings{}); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
	}
	b.StopTimer()
	batches := (events + projections.RebuildPageSize - 1) / projections.RebuildPageSize
	b.ReportMetric(float64(b.N*events)/elapsed.Seconds(), "events/s")
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/rebuild")
	b.ReportMetric(float64(counter.n.Load())/float64(b.N*batches), "statements/batch")
	b.ReportMetric(0, "ns/op")

	dump := dumpTables(b, e.db, projections.RatingsName)
	sum := sha256.Sum256([]byte(dump))
	b.Logf("read model: %s", strings.Join(tableCounts(dump), ", "))
	b.Logf("read model digest %s", hex.EncodeToString(sum[:]))
	if path := os.Getenv("RATING_BENCH_DUMP"); path != "" {
		if err := os.WriteFile(path, []byte(dump), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if path := os.Getenv("RATING_BENCH_VIEWS"); path != "" {
		start := time.Now()
		views := dumpRatingViews(b, e.db)
		sum := sha256.Sum256([]byte(views))
		b.Logf("rating views (%d lines, read in %s) digest %s", strings.Count(views, "\n"), time.Since(start).Round(time.Millisecond),
			hex.EncodeToString(sum[:]))
		if err := os.WriteFile(path, []byte(views), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if os.Getenv("RATING_BENCH_COMPARE") != "" {
		start := time.Now()
		if _, err := projections.Rebuild(ctx, e.db, e.store, pageOnly{projections.Ratings{}}); err != nil {
			b.Fatal(err)
		}
		paged := dumpTables(b, e.db, projections.RatingsName)
		if paged != dump {
			b.Fatalf("the page path builds another read model than the rebuild (%d and %d bytes)", len(paged), len(dump))
		}
		b.Logf("the page path (%s) builds the same read model, %d bytes", time.Since(start).Round(time.Millisecond), len(dump))
	}
}

// tableCounts picks the "table (n rows)" headers out of a dump.
func tableCounts(dump string) []string {
	var out []string
	for _, line := range strings.Split(dump, "\n") {
		if strings.HasPrefix(line, "rm_") && strings.HasSuffix(line, " rows)") {
			out = append(out, line)
		}
	}
	return out
}

// statementCounter counts the statements sent through a countingDB.
type statementCounter struct{ n atomic.Int64 }

// countingDB opens url through a driver that counts every statement (a
// round trip), transaction control included.
func countingDB(b *testing.B, url string, c *statementCounter) *sqlx.DB {
	b.Helper()
	inner, err := pq.NewConnector(url)
	if err != nil {
		b.Fatal(err)
	}
	db := sqlx.NewDb(sql.OpenDB(countingConnector{inner: inner, c: c}), "postgres")
	b.Cleanup(func() { db.Close() })
	return db
}

type countingConnector struct {
	inner driver.Connector
	c     *statementCounter
}

func (k countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := k.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: conn, c: k.c}, nil
}

func (k countingConnector) Driver() driver.Driver { return k.inner.Driver() }

// countingConn passes everything to pq's connection, counting statements.
type countingConn struct {
	driver.Conn
	c *statementCounter
}

func (k countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	k.c.n.Add(1)
	return k.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (k countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	k.c.n.Add(1)
	return k.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (k countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	k.c.n.Add(1)
	tx, err := k.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingTx{Tx: tx, c: k.c}, nil
}

func (k countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	return k.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

func (k countingConn) ResetSession(ctx context.Context) error {
	return k.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (k countingConn) IsValid() bool { return k.Conn.(driver.Validator).IsValid() }

type countingTx struct {
	driver.Tx
	c *statementCounter
}

func (t countingTx) Commit() error   { t.c.n.Add(1); return t.Tx.Commit() }
func (t countingTx) Rollback() error { t.c.n.Add(1); return t.Tx.Rollback() }

// Package logtest gives the tests of the transparency log (package
// translog, package audit) a migrated database with events in it, and the
// means to tamper with it the way a dishonest database owner could.
// Callers' test binaries must run pgtest.Main.
package logtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// Env is one fresh database with the event store, the projections' tables
// and the log's tables.
type Env struct {
	URL   string
	Store *postgres.Store
	DB    *sqlx.DB
	next  int // events appended so far, to vary streams and metadata
}

// New creates and migrates a database for tb.
func New(tb testing.TB) *Env {
	tb.Helper()
	ctx := context.Background()
	e := &Env{URL: pgtest.NewURL(tb)}
	s, err := postgres.Open(ctx, postgres.Config{URL: e.URL, PollInterval: 50 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	e.Store, e.DB = s, s.DB()
	if err := postgres.Migrate(ctx, e.DB); err != nil {
		tb.Fatal(err)
	}
	if err := projections.Migrate(ctx, e.DB); err != nil {
		tb.Fatal(err)
	}
	if err := translog.Migrate(ctx, e.DB); err != nil {
		tb.Fatal(err)
	}
	if err := projections.Register(ctx, e.DB, translog.Name); err != nil {
		tb.Fatal(err)
	}
	return e
}

// Base is the effective time of the first event Append writes.
var Base = time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC)

// Stream names the stream of the i-th event Append writes.
func Stream(i int) string { return fmt.Sprintf("indicator-%02d", i%20) }

// Metadata is the metadata of the i-th event: the shape the domain writes.
func Metadata(i int, id uuid.UUID) []byte {
	eff := Base.Add(time.Duration(i) * time.Hour)
	return fmt.Appendf(nil, `{"event_id":%q,"actor_id":"officer-%d","actor_role":"officer","effective_at":%q,"recorded_at":%q}`,
		id, i%7, eff.Format(time.RFC3339Nano), eff.Add(90*time.Minute).Format(time.RFC3339Nano))
}

// Append appends n events, one to four per append, over twenty streams,
// and returns their ids in the order appended.
func (e *Env) Append(tb testing.TB, n int) []uuid.UUID {
	tb.Helper()
	ctx := context.Background()
	var ids []uuid.UUID
	for len(ids) < n {
		batch := min(1+e.next%4, n-len(ids))
		stream := Stream(e.next)
		evs := make([]eventstore.Event, batch)
		for k := range evs {
			id := uuid.Must(uuid.NewV7())
			i := e.next + k
			evs[k] = eventstore.Event{ID: id, Type: "indicator.progress_reported.v1",
				Data:     fmt.Appendf(nil, `{"indicator_id":%q,"value":%d,"note":"report <%d> & more"}`, stream, i, i),
				Metadata: Metadata(i, id)}
			ids = append(ids, id)
		}
		if _, err := e.Store.Append(ctx, stream, eventstore.Any(), evs); err != nil {
			tb.Fatal(err)
		}
		e.next += batch
	}
	return ids
}

// AppendMany appends n events like Append, but up to 500 per append to
// one stream: thousands of events in a few statements, for tests that need
// several pages of the feed at its real page size.
func (e *Env) AppendMany(tb testing.TB, n int) []uuid.UUID {
	tb.Helper()
	ctx := context.Background()
	var ids []uuid.UUID
	for len(ids) < n {
		batch := min(500, n-len(ids))
		stream := Stream(e.next)
		evs := make([]eventstore.Event, batch)
		for k := range evs {
			id := uuid.Must(uuid.NewV7())
			i := e.next + k
			evs[k] = eventstore.Event{ID: id, Type: "indicator.progress_reported.v1",
				Data:     fmt.Appendf(nil, `{"indicator_id":%q,"value":%d}`, stream, i),
				Metadata: Metadata(i, id)}
			ids = append(ids, id)
		}
		if _, err := e.Store.Append(ctx, stream, eventstore.Any(), evs); err != nil {
			tb.Fatal(err)
		}
		e.next += batch
	}
	return ids
}

// CatchUp logs every event with the translog projector, page events per
// transaction, as the projections router would. Events become readable
// only when every older transaction on the server has ended (see
// docs/eventstore.md), so it waits for them.
func (e *Env) CatchUp(tb testing.TB, page int) {
	tb.Helper()
	ctx := context.Background()
	for {
		pos, err := projections.Checkpoint(ctx, e.DB, translog.Name)
		if err != nil {
			tb.Fatal(err)
		}
		evs := pgtest.ReadAll(tb, e.Store, pos, page)
		if len(evs) == 0 {
			return
		}
		if err := projections.Process(ctx, e.DB, translog.Projector{}, evs); err != nil {
			tb.Fatal(err)
		}
	}
}

// AwaitReadable waits until every stored event is readable.
func (e *Env) AwaitReadable(tb testing.TB) {
	tb.Helper()
	pgtest.AwaitReadable(tb, e.Store)
}

// Events returns every event, in global order.
func (e *Env) Events(tb testing.TB) []eventstore.Recorded {
	tb.Helper()
	var out []eventstore.Recorded
	pos := eventstore.Start
	for {
		page := pgtest.ReadAll(tb, e.Store, pos, 1000)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		pos = page[len(page)-1].Position
	}
}

// Tamper runs statements on the events table with its append-only
// trigger disabled, as the table's owner can.
func (e *Env) Tamper(tb testing.TB, statements ...string) {
	tb.Helper()
	ctx := context.Background()
	tx, err := e.DB.BeginTxx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	all := append([]string{`ALTER TABLE events DISABLE TRIGGER events_no_update_delete`}, statements...)
	all = append(all, `ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_delete`)
	for _, s := range all {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			tb.Fatalf("tamper: %s: %v", s, err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// LogTables are the transparency log's tables, append-only like events.
var LogTables = []string{"translog_leaves", "translog_hashes", "translog_entries", "translog_checkpoints", "translog_cosignatures"}

// TamperLog runs statements on the log's tables with their append-only
// triggers disabled, as the tables' owner can: how a dishonest owner would
// rewrite the log itself.
func (e *Env) TamperLog(tb testing.TB, statements ...string) {
	tb.Helper()
	ctx := context.Background()
	tx, err := e.DB.BeginTxx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	var all []string
	for _, t := range LogTables {
		all = append(all, `ALTER TABLE `+t+` DISABLE TRIGGER `+t+`_no_update_delete`, `ALTER TABLE `+t+` DISABLE TRIGGER `+t+`_no_truncate`)
	}
	all = append(all, statements...)
	for _, t := range LogTables {
		all = append(all, `ALTER TABLE `+t+` ENABLE ALWAYS TRIGGER `+t+`_no_update_delete`, `ALTER TABLE `+t+` ENABLE ALWAYS TRIGGER `+t+`_no_truncate`)
	}
	for _, s := range all {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			tb.Fatalf("tamper with the log: %s: %v", s, err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// Republish does what an owner who tampered with the events table must
// also do for the public to see the change: the audit surface serves the
// log's own copy of each leaf's bytes (translog_entries) and the position
// logged beside the leaf, so Republish rewrites both from the events as
// they are now (by event id; a leaf whose event is gone loses its copy).
// After it, the public feed shows what the events table holds.
func (e *Env) Republish(tb testing.TB) {
	tb.Helper()
	e.TamperLog(tb,
		`DELETE FROM translog_entries`,
		`INSERT INTO translog_entries (generation, leaf_index, entry)
SELECT l.generation, l.leaf_index, translog_leaf_bytes(e.stream_id, e.version, e.type, e.data, e.metadata, e.event_id, e.stored_at)
FROM translog_leaves l JOIN events e ON e.event_id = l.event_id`,
		`UPDATE translog_leaves l SET position = e.tx_id::text || '/' || e.seq FROM events e WHERE e.event_id = l.event_id`)
}

// Tampering is one way to change history, as SQL on the events table.
type Tampering struct {
	Name string
	// SQL returns the statements, given the events' ids in log order.
	SQL func(ids []uuid.UUID) []string
	// Kind is what VerifyDatabase reports; Leaves which leaves.
	Kind   translog.MismatchKind
	Leaves func(n int) []int64
}

// Tamperings lists the changes every verifier must detect. n is the
// number of events; they need n >= 50.
func Tamperings() []Tampering {
	return []Tampering{
		{Name: "changed", Kind: translog.KindChanged, Leaves: fixed(10),
			SQL: func(ids []uuid.UUID) []string {
				return []string{fmt.Sprintf(`UPDATE events SET data = convert_to('{"value":999}', 'UTF8') WHERE event_id = '%s'`, ids[10])}
			}},
		{Name: "metadata_changed", Kind: translog.KindChanged, Leaves: fixed(11),
			SQL: func(ids []uuid.UUID) []string {
				return []string{fmt.Sprintf(`UPDATE events SET metadata = convert_to(replace(convert_from(metadata, 'UTF8'), '2021', '2020'), 'UTF8') WHERE event_id = '%s'`, ids[11])}
			}},
		{Name: "deleted", Kind: translog.KindMissing, Leaves: fixed(20),
			SQL: func(ids []uuid.UUID) []string {
				return []string{fmt.Sprintf(`DELETE FROM events WHERE event_id = '%s'`, ids[20])}
			}},
		{Name: "swapped_data", Kind: translog.KindChanged, Leaves: fixed(5, 30),
			SQL: func(ids []uuid.UUID) []string {
				return []string{fmt.Sprintf(`UPDATE events e SET data = o.data FROM events o
WHERE (e.event_id, o.event_id) IN (('%[1]s', '%[2]s'), ('%[2]s', '%[1]s'))`, ids[5], ids[30])}
			}},
		{Name: "reordered", Kind: translog.KindMoved, Leaves: fixed(7, 40),
			// Swap the two rows' places in the global order: every column
			// but the position moves.
			SQL: func(ids []uuid.UUID) []string {
				tmp := uuid.New()
				cols := `stream_id, version, type, data, metadata, stored_at`
				return []string{
					fmt.Sprintf(`CREATE TEMP TABLE swap ON COMMIT DROP AS SELECT event_id, %s FROM events WHERE event_id IN ('%s', '%s')`, cols, ids[7], ids[40]),
					fmt.Sprintf(`UPDATE events SET event_id = '%s', stream_id = stream_id || '-tmp' WHERE event_id = '%s'`, tmp, ids[7]),
					fmt.Sprintf(`UPDATE events e SET (event_id, %[1]s) = (SELECT s.event_id, %[1]s FROM swap s WHERE s.event_id = '%[2]s') WHERE e.event_id = '%[3]s'`, cols, ids[7], ids[40]),
					fmt.Sprintf(`UPDATE events e SET (event_id, %[1]s) = (SELECT s.event_id, %[1]s FROM swap s WHERE s.event_id = '%[2]s') WHERE e.event_id = '%[3]s'`, cols, ids[40], tmp),
				}
			}},
		{Name: "truncated", Kind: translog.KindTruncated, Leaves: func(n int) []int64 { return []int64{int64(n - 5)} },
			SQL: func(ids []uuid.UUID) []string {
				return []string{fmt.Sprintf(`DELETE FROM events WHERE event_id IN (SELECT event_id FROM events ORDER BY tx_id DESC, seq DESC LIMIT %d)`, 5)}
			}},
	}
}

func fixed(leaves ...int64) func(int) []int64 { return func(int) []int64 { return leaves } }

// Rewrite does what an owner covering their tracks would do after
// tampering: recompute the log from the events as they are now and drop
// the old checkpoints, so that the database is consistent with itself
// again. Only someone holding an earlier checkpoint can tell.
func (e *Env) Rewrite(tb testing.TB) {
	tb.Helper()
	e.TamperLog(tb,
		`DELETE FROM translog_cosignatures`, `DELETE FROM translog_checkpoints`,
		`DELETE FROM translog_leaves`, `DELETE FROM translog_hashes`, `DELETE FROM translog_entries`,
		`UPDATE projector_checkpoints SET position_commit = 0, position_prepare = 0, events_total = 0 WHERE name = '`+translog.Name+`'`)
	e.CatchUp(tb, 100)
}

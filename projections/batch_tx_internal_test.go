package projections

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
	"promiseledger/eventstore/postgres/pgtest"
)

// probe is a projector that records what its Apply saw.
type probe struct {
	apply func(ctx context.Context, tx *sqlx.Tx, events []eventstore.Recorded) error
	page  int // CatchUpPageSize, when not 0
}

func (p probe) CatchUpPageSize() int { return p.page }

func (probe) Name() string                               { return "probe.v1" }
func (probe) Reset(context.Context, *sqlx.Tx, int) error { return nil }
func (p probe) Apply(ctx context.Context, tx *sqlx.Tx, _ int, events []eventstore.Recorded) error {
	return p.apply(ctx, tx, events)
}

// TestLiveBatchReadsWhatItNeedsWithTheLock: a live batch learns its
// generation, checkpoint, skip decisions and database key in the one
// statement that locks the projector (lockActive), and its commit is
// durable before it is acknowledged (synchronous_commit on: the next batch
// goes on from where this one ended, so a commit lost in a crash would
// leave its events out for good). Each batch sees the skip decisions
// stored before it; the database key handed on is the one databaseOf
// reads.
func TestLiveBatchReadsWhatItNeedsWithTheLock(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDatabase(t)
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	var want string
	if err := db.GetContext(ctx, &want, databaseKeyQuery); err != nil {
		t.Fatal(err)
	}
	var seen []uuid.UUID
	var sync, key string
	p := probe{apply: func(ctx context.Context, tx *sqlx.Tx, events []eventstore.Recorded) error {
		for _, e := range events {
			seen = append(seen, e.ID)
		}
		if err := tx.GetContext(ctx, &sync, `SELECT current_setting('synchronous_commit')`); err != nil {
			return err
		}
		var err error
		key, err = databaseOf(ctx, tx)
		return err
	}}
	if err := Register(ctx, db, p.Name()); err != nil {
		t.Fatal(err)
	}
	ids := make([]uuid.UUID, 6)
	events := make([]eventstore.Recorded, len(ids))
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
		events[i] = eventstore.Recorded{ID: ids[i], Stream: "probe-1", Version: int64(i + 1), Type: "probe.v1",
			Position: eventstore.Position{Commit: uint64(10 + i), Prepare: uint64(10 + i)}, StoredAt: time.Now()}
	}
	skip := func(id uuid.UUID) {
		if _, err := db.ExecContext(ctx, `INSERT INTO projector_skips (name, event_id, event_type, position, reason, decided_by)
VALUES ($1, $2, 'probe.v1', 'x', 'test', 'test')`, p.Name(), id); err != nil {
			t.Fatal(err)
		}
	}
	if err := Process(ctx, db, p, events[:2]); err != nil {
		t.Fatal(err)
	}
	skip(ids[3])
	if err := Process(ctx, db, p, events[2:4]); err != nil {
		t.Fatal(err)
	}
	skip(ids[4])
	skip(ids[5])
	if err := Process(ctx, db, p, events[4:]); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || seen[0] != ids[0] || seen[1] != ids[1] || seen[2] != ids[2] {
		t.Fatalf("applied %v, want the first three of %v", seen, ids)
	}
	if sync == "off" {
		t.Fatalf("synchronous_commit in a live batch: %q, want durable", sync)
	}
	if key != want {
		t.Fatalf("database key in a live batch: %q, want %q", key, want)
	}
	// A database whose synchronous_commit is off: the batch still waits
	// for its commit's WAL flush, locally.
	if _, err := db.ExecContext(ctx, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = off', current_database()); END $$`); err != nil {
		t.Fatal(err)
	}
	db.SetMaxIdleConns(0) // the next connection takes the database's setting
	db.SetMaxIdleConns(2)
	more := eventstore.Recorded{ID: uuid.Must(uuid.NewV7()), Stream: "probe-1", Version: 7, Type: "probe.v1",
		Position: eventstore.Position{Commit: 20, Prepare: 20}, StoredAt: time.Now()}
	events = append(events, more)
	if err := Process(ctx, db, p, events[6:]); err != nil {
		t.Fatal(err)
	}
	if sync != "local" || len(seen) != 4 || seen[3] != more.ID {
		t.Fatalf("a live batch on a database set to off: synchronous_commit %q (want local), applied %v", sync, seen)
	}
	pos, err := Checkpoint(ctx, db, p.Name())
	if err != nil {
		t.Fatal(err)
	}
	if pos != more.Position {
		t.Fatalf("checkpoint %s, want %s", pos, more.Position)
	}
	// Outside a batch, databaseOf asks the database.
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	if got, err := databaseOf(ctx, tx); err != nil || got != want {
		t.Fatalf("databaseOf outside a batch: %q, %v; want %q", got, err, want)
	}
}

// TestRebuildPageGoesOnFromTheStoredCheckpoint: a rebuild's pages commit
// without waiting for the WAL flush, so a crash can lose a page after it
// was acknowledged. The next page then starts from the checkpoint stored,
// not from where the lost page ended: its events are applied again, none
// is left out.
func TestRebuildPageGoesOnFromTheStoredCheckpoint(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDatabase(t)
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	for i := range 6 {
		if _, err := store.Append(ctx, "probe-1", eventstore.Exactly(int64(i)), []eventstore.Event{{ID: uuid.Must(uuid.NewV7()), Type: "probe.v1",
			Data: []byte(`{}`), Metadata: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int64
	p := probe{page: 3, apply: func(_ context.Context, _ *sqlx.Tx, events []eventstore.Recorded) error {
		for _, e := range events {
			seen = append(seen, e.Version)
		}
		return nil
	}}
	if err := Register(ctx, db, p.Name()); err != nil {
		t.Fatal(err)
	}
	n, next, err := rebuildPage(ctx, db, store, p, 1, eventstore.Start, nil, false)
	if err != nil || n != 3 {
		t.Fatalf("first page: %d events, %v", n, err)
	}
	// The first page's commit lost in a crash: the stored checkpoint is
	// back at the start.
	if _, err := db.ExecContext(ctx, `UPDATE projector_checkpoints SET position_commit = 0, position_prepare = 0, events_total = 0 WHERE name = $1`, p.Name()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rebuildPage(ctx, db, store, p, 1, next, nil, false); err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 2, 3, 1, 2, 3}; !slices.Equal(seen, want) {
		t.Fatalf("applied versions %v, want %v", seen, want)
	}
	for {
		n, next, err = rebuildPage(ctx, db, store, p, 1, next, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if want := []int64{1, 2, 3, 1, 2, 3, 4, 5, 6}; !slices.Equal(seen, want) {
		t.Fatalf("applied versions %v, want %v", seen, want)
	}
}

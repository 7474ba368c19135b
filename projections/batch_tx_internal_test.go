package projections

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgtest"
)

// probe is a projector that records what its Apply saw.
type probe struct {
	apply func(ctx context.Context, tx *sqlx.Tx, events []eventstore.Recorded) error
}

func (probe) Name() string                               { return "probe.v1" }
func (probe) Reset(context.Context, *sqlx.Tx, int) error { return nil }
func (p probe) Apply(ctx context.Context, tx *sqlx.Tx, _ int, events []eventstore.Recorded) error {
	return p.apply(ctx, tx, events)
}

// TestLiveBatchReadsWhatItNeedsWithTheLock: a live batch learns its
// generation, checkpoint, skip decisions and database key in the one
// statement that locks the projector (lockActive), and its transaction
// does not wait for the WAL flush, as beginProjection's did. Each batch
// sees the skip decisions stored before it; the database key handed on
// is the one databaseOf reads.
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
	if sync != "off" {
		t.Fatalf("synchronous_commit in a live batch: %q, want off", sync)
	}
	if key != want {
		t.Fatalf("database key in a live batch: %q, want %q", key, want)
	}
	pos, err := Checkpoint(ctx, db, p.Name())
	if err != nil {
		t.Fatal(err)
	}
	if pos != events[5].Position {
		t.Fatalf("checkpoint %s, want %s (past the skipped events)", pos, events[5].Position)
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

package projections_test

import (
	"context"
	"testing"

	"promiseledger/eventstore"
	"promiseledger/projections"
)

// TestRatingCatchUpEqualsLiveAndLeavesNothingPending: a catch-up stores
// its pages' facts and computes each level once at the head of the log;
// the result equals the live read model built event by event, and no level
// is left waiting for its computation.
func TestRatingCatchUpEqualsLiveAndLeavesNothingPending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.loadRatingFixture()
	e.publishV2()
	e.settle(1, projections.Ratings{})
	live := dumpTables(t, e.db, projections.RatingsName)

	// Start the active generation over, then catch it up in one go.
	tx, err := e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := (projections.Ratings{}).Reset(ctx, tx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE projector_checkpoints SET position_commit = 0, position_prepare = 0 WHERE name = $1`, projections.RatingsName); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := projections.CatchUp(ctx, e.db, e.store, []projections.Projector{projections.Ratings{}}); err != nil {
		t.Fatal(err)
	}
	if got := dumpTables(t, e.db, projections.RatingsName); got != live {
		t.Errorf("caught up read model differs from the live one\nlive:\n%s\ncaught up:\n%s", live, got)
	}
	var pending int
	if err := e.db.GetContext(ctx, &pending, `SELECT count(*) FROM rm_rating_pending_levels`); err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("%d levels left pending after a catch-up", pending)
	}
}

// TestFactsCopiedAndRedeliveredAsInserted: a catch-up whose pages store
// their facts with COPY builds the read model the live path built with
// inserts, the facts' log positions included; a page delivered again,
// whose facts are all stored, changes nothing (the COPY fails on the
// first, is undone, and the insert skips them all).
func TestFactsCopiedAndRedeliveredAsInserted(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.loadRatingFixture()
	e.publishV2()
	e.settle(1, projections.Ratings{}, projections.Councils{})
	live := dumpTables(t, e.db, projections.RatingsName) + dumpTables(t, e.db, projections.CouncilsName)

	defer projections.SetCopyFactsAt(1)()
	for _, p := range []projections.Projector{projections.Ratings{}, projections.Councils{}} {
		if _, err := projections.Rebuild(ctx, e.db, e.store, p); err != nil {
			t.Fatal(err)
		}
	}
	if got := dumpTables(t, e.db, projections.RatingsName) + dumpTables(t, e.db, projections.CouncilsName); got != live {
		t.Fatalf("copied facts differ from inserted ones\ninserted:\n%s\ncopied:\n%s", live, got)
	}
	var copied int
	if err := e.db.GetContext(ctx, &copied, `SELECT count(*) FROM rm_rating_events WHERE generation = 2 AND position_commit IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if copied == 0 {
		t.Fatal("no fact of the rebuilt generation has its log position")
	}

	events, err := e.store.ReadAll(ctx, eventstore.Start, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if err := (projections.Ratings{}).Apply(ctx, tx, 2, events); err != nil {
		t.Fatalf("a page delivered again: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := dumpTables(t, e.db, projections.RatingsName) + dumpTables(t, e.db, projections.CouncilsName); got != live {
		t.Errorf("a page delivered again changed the read model\nbefore:\n%s\nafter:\n%s", live, got)
	}
}

package projections_test

import (
	"context"
	"testing"

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

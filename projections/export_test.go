package projections

import (
	"context"

	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
)

// SetSettleLiveComputed sets the hook SettleLive runs between computing
// the pending levels and writing them; the returned func removes it. Tests
// that set it must not run in parallel.
func SetSettleLiveComputed(f func(ctx context.Context, gen int)) (restore func()) {
	old := settleLiveComputed
	settleLiveComputed = f
	return func() { settleLiveComputed = old }
}

// SetSettleLiveSaved sets the hook SettleLive runs after writing the
// levels, before it locks the projector's row; the returned func removes it.
// Tests that set it must not run in parallel.
func SetSettleLiveSaved(f func(ctx context.Context, gen int)) (restore func()) {
	old := settleLiveSaved
	settleLiveSaved = f
	return func() { settleLiveSaved = old }
}

// ProcessDeferred applies a batch as the router's handler of a settling
// projector does: its facts are stored and its levels marked, nothing is
// settled.
func ProcessDeferred(ctx context.Context, db *sqlx.DB, p Projector, events []eventstore.Recorded) error {
	return process(ctx, db, p, events, true)
}

// SettleActive settles p's active generation as a catch-up does at the head
// of the log.
func SettleActive(ctx context.Context, db *sqlx.DB, p Projector) error {
	return settle(ctx, db, p, 0)
}

// ForgetIndicatorCache empties the indicators' live fold cache.
func ForgetIndicatorCache() { liveIndicators.forget() }

// IndicatorCacheHits is how many indicators batches folded on from a kept
// state so far.
func IndicatorCacheHits() int64 { return foldCacheHits.Load() }

// CopyRowsOnConn copies rows into table as a replay's run does: in a
// transaction on a connection of its own, which CopyRows then writes the
// COPY text to itself. It commits.
func CopyRowsOnConn(ctx context.Context, db *sqlx.DB, table, columns string, next func() ([]any, error)) error {
	conn, err := db.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := beginProjectionOn(ctx, conn)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if err := CopyRows(withRawConn(ctx, tx, conn), tx, table, columns, next); err != nil {
		return err
	}
	return tx.Commit()
}

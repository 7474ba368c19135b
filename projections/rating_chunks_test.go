package projections_test

import (
	"context"
	"strings"
	"testing"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// TestRatingChunkedSaveEqualsWhole: a level written one rating per
// statement (upserts first, then the deletes of what is gone) leaves the
// same read model as whole-level statements, live event by event and
// rebuilt, with a deputy whose name holds JSON and SQL quoting (the
// commands refuse NUL, control and bidi characters and long names). Not
// parallel: it changes the chunk sizes of the package.
func TestRatingChunkedSaveEqualsWhole(t *testing.T) {
	build := func() *env {
		e := newEnv(t)
		e.loadRatingFixture()
		e.at("2021-07-05")
		asm := domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: districtKATO, Level: domain.CouncilDistrict}
		name := "Deputy \"quoted\" \\n E'\\n' {\"a\": b}"
		mustDo(t)(e.cmd.RegisterDeputy.Handle(context.Background(), commands.RegisterDeputy{Header: admin("2021-07-05"),
			DeputyID: "deputy-E", DisplayName: name, Assembly: asm}))
		mustDo(t)(e.cmd.JoinFaction.Handle(context.Background(), commands.JoinFaction{Header: admin("2021-07-05"),
			DeputyID: "deputy-E", Faction: "nur-otan"}))
		e.publishV2()
		e.settle(1, projections.Ratings{})
		return e
	}
	ctx := context.Background()
	e := build()
	want := dumpTables(t, e.db, projections.RatingsName)
	if !strings.Contains(want, "deputy-E") {
		t.Fatal("the deputy with quotes is not rated")
	}

	defer projections.SetRatingSaveChunks(1, 1)()
	// Live again, event by event: each level rewritten after every event.
	tx, err := e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := (projections.Ratings{}).Reset(ctx, tx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE projector_checkpoints SET position_commit = 0, position_prepare = 0, events_total = 0 WHERE name = $1`, projections.RatingsName); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	e.settle(1, projections.Ratings{})
	if got := dumpTables(t, e.db, projections.RatingsName); got != want {
		t.Errorf("live, written in chunks of one rating, differs from whole levels\nwhole:\n%s\nchunked:\n%s", want, got)
	}
	if _, err := projections.Rebuild(ctx, e.db, e.store, projections.Ratings{}); err != nil {
		t.Fatal(err)
	}
	e.settle(1000, projections.Ratings{})
	if got := dumpTables(t, e.db, projections.RatingsName); got != want {
		t.Errorf("rebuilt in chunks of one rating differs from whole levels\nwhole:\n%s\nrebuilt:\n%s", want, got)
	}
}

// TestRatingCopyFallsBackOnARowUnderAnotherLevel: a level with no rows
// stored is copied in; when one of its ratings is stored under another
// level, the copy is undone and the ratings are upserted instead, moving
// that row back, as before the copy existed.
func TestRatingCopyFallsBackOnARowUnderAnotherLevel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.loadRatingFixture()
	e.publishV2()
	e.settle(1000, projections.Ratings{})
	want := dumpTables(t, e.db, projections.RatingsName)
	tx, err := e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	for _, q := range []string{
		`UPDATE rm_deputy_ratings SET level = 'elsewhere' WHERE (method, version, period_start, deputy_id) IN
	(SELECT method, version, period_start, deputy_id FROM rm_deputy_ratings WHERE level = 'district' ORDER BY 1, 2, 3, 4 LIMIT 1)`,
		`DELETE FROM rm_deputy_ratings WHERE level = 'district'`,
		`INSERT INTO rm_rating_pending_levels (generation, level) VALUES (1, 'district')`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := (projections.Ratings{}).Settle(ctx, tx, 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := dumpTables(t, e.db, projections.RatingsName); got != want {
		t.Errorf("settled level differs\nwant:\n%s\ngot:\n%s", want, got)
	}
}

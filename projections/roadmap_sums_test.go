package projections_test

import (
	"context"
	"fmt"
	"testing"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// roadmapFigures is every roadmap's row of rm_roadmap_figures in the
// indicators' active generation, as text (float8 text is exact: equal text
// is equal bits).
func roadmapFigures(t *testing.T, e *env) []string {
	t.Helper()
	var rows []string
	err := e.db.Select(&rows, `SELECT concat_ws(' ', roadmap_id, measures, done, cancelled, weight_total, weighted_done, weight_exact, weighted_exact)
FROM rm_roadmap_figures WHERE generation = (SELECT active_generation FROM projectors WHERE name = $1) ORDER BY roadmap_id`, projections.IndicatorsName)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// addedUp is what roadmapFigures must read: every roadmap's indicators
// added up afresh, in numeric, as a rebuild does.
func addedUp(t *testing.T, e *env) []string {
	t.Helper()
	var rows []string
	err := e.db.Select(&rows, `SELECT concat_ws(' ', roadmap_id, measures, done, cancelled, w::float8, wd::float8, trim_scale(w), trim_scale(wd)) FROM (
	SELECT roadmap_id,
		count(*) FILTER (WHERE status <> 'cancelled') AS measures,
		count(*) FILTER (WHERE status = 'done') AS done,
		count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
		COALESCE(sum(weight::numeric) FILTER (WHERE status <> 'cancelled'), 0) AS w,
		COALESCE(sum((weight * completion)::numeric) FILTER (WHERE status <> 'cancelled'), 0) AS wd
	FROM rm_indicators WHERE generation = (SELECT active_generation FROM projectors WHERE name = $1) GROUP BY roadmap_id) s
ORDER BY roadmap_id`, projections.IndicatorsName)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func sameFigures(t *testing.T, when string, e *env) {
	t.Helper()
	got, want := roadmapFigures(t, e), addedUp(t, e)
	if len(want) == 0 {
		t.Fatalf("%s: no roadmap has figures", when)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: roadmap figures\n got %q\nwant %q", when, got, want)
	}
}

// TestRoadmapSumsFollowEveryBatch: the page path adds each batch's change
// to its roadmaps' sums (saveFolds) instead of adding them up again; after
// batches of one event and of three — measures added with weights no
// binary fraction holds, reported, corrected, re-weighted, cancelled,
// done — every roadmap's sums are the ones a fresh sum gives, to the bit
// and in the stored numeric text. Migration 0011 fills the exact sums of
// figures written before it: dropped and applied again, it leaves the
// same rows, refuses float8 sums written without their exact ones (an
// older binary's), and batches after it go on adding to them.
func TestRoadmapSumsFollowEveryBatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := e.load()
	e.at("2021-06-10")
	weights := []float64{0.1, 0.2, 1.0 / 3, 2.675, 1e-7, 12345.678901234}
	var extra []string
	for i, w := range weights {
		roadmap := fx.republican
		if i%2 == 1 {
			roadmap = fx.regional
		}
		r, err := e.cmd.AddIndicator.Handle(ctx, commands.AddIndicator{Header: admin("2021-02-01"), RoadmapID: roadmap,
			Title: text(fmt.Sprintf("W%d", i)), Kind: domain.KindNumeric, Baseline: f(0), Target: f(3), Weight: w,
			Unit: unitFor(domain.KindNumeric), Deadline: domain.NewDate(2021, 12, 31)})
		must(t, r, err)
		extra = append(extra, r.ID)
	}
	ev := domain.Evidence{URL: "https://roadmaps.example.kz/report/w"}
	report := func(id string, v float64) string {
		r, err := e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: admin("2021-06-01"), IndicatorID: id, Value: f(v), Evidence: ev})
		must(t, r, err)
		return r.EventIDs[0].String()
	}
	first := report(extra[0], 1)
	report(extra[1], 0.7)
	report(extra[2], 2.9)
	e.catchUp(1, projections.Indicators{})
	sameFigures(t, "batches of one event", e)

	// Figures as they stood before migration 0011: without the exact sums.
	if _, err := e.db.Exec(`ALTER TABLE rm_roadmap_figures DROP COLUMN weight_exact, DROP COLUMN weighted_exact`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`DELETE FROM ledger_migrations WHERE component = $1 AND version = 11`, projections.Component); err != nil {
		t.Fatal(err)
	}
	if err := projections.Migrate(ctx, e.db); err != nil {
		t.Fatal(err)
	}
	sameFigures(t, "migration 0011", e)
	// An older binary writes the float8 sums alone: refused, so that no
	// exact sum falls behind its float8 one for later batches to add to.
	if _, err := e.db.Exec(`UPDATE rm_roadmap_figures SET weighted_done = weighted_done + 0.5`); err == nil {
		t.Fatal("a float8 sum changed without its exact sum")
	}
	if _, err := e.db.Exec(`INSERT INTO rm_roadmap_figures (generation, roadmap_id, measures, done, cancelled, weight_total, weighted_done)
VALUES (1, 'older-binary', 1, 0, 0, 1, 0)`); err == nil {
		t.Fatal("a roadmap's figures stored without exact sums")
	}

	r, err := e.cmd.CorrectReport.Handle(ctx, commands.CorrectReport{Header: withReason(admin("2021-06-01"), "typo"), IndicatorID: extra[0],
		Corrects: first, Value: f(1.3), Evidence: ev})
	must(t, r, err)
	r, err = e.cmd.RetargetIndicator.Handle(ctx, commands.RetargetIndicator{Header: withReason(admin("2021-06-02"), "re-weighted"), IndicatorID: extra[3],
		Weight: f(0.3)})
	must(t, r, err)
	r, err = e.cmd.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: withReason(admin("2021-06-03"), "dropped"), IndicatorID: extra[1]})
	must(t, r, err)
	report(extra[4], 3)
	report(extra[5], 1.1)
	r, err = e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: admin("2021-06-04"), IndicatorID: fx.e, Done: true, Evidence: ev})
	must(t, r, err)
	e.catchUp(3, projections.Indicators{})
	sameFigures(t, "batches of three after the migration", e)
}

package projections_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// TestIndicatorLiveFoldEqualsRebuild: the live path folds a batch's events
// into the indicator states it kept from earlier batches. After random
// progress reports, corrections (of reports and of corrections) and status
// changes applied live in batches of 1–3 events, with a batch applied once
// in a transaction that rolled back (its states kept, its rows gone), the
// read model equals a rebuild from scratch, and the kept states were used.
// Not parallel: it empties the package's cache.
func TestIndicatorLiveFoldEqualsRebuild(t *testing.T) {
	ctx := context.Background()
	projections.ForgetIndicatorCache()
	e := newEnv(t)
	fx := e.loadRatingFixture()
	e.at("2021-07-05")
	e.catchUp(3, projections.Indicators{})
	hits := projections.IndicatorCacheHits()
	rng := rand.New(rand.NewPCG(7, 11))
	indicators := []string{fx.i1, fx.i3, fx.i4, fx.i5}
	var reports []struct{ indicator, id string }
	hdr := func() commands.Header {
		return commands.Header{Actor: commands.Actor{ID: "admin-1", Role: "admin"}, EffectiveAt: day("2021-07-02").Add(time.Duration(rng.IntN(48)) * time.Hour)}
	}
	accepted := 0
	for round := range 14 {
		for range 2 + rng.IntN(5) {
			ind := indicators[rng.IntN(len(indicators))]
			var res commands.Result
			var err error
			switch op := rng.IntN(6); {
			case op < 3 || len(reports) == 0:
				// The fixture's measures are milestones: done or not, no value.
				res, err = e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: hdr(), IndicatorID: ind, Done: rng.IntN(3) == 0,
					Evidence: domain.Evidence{URL: fmt.Sprintf("https://arshaly.example.kz/r/%d", round)}})
				if err == nil {
					reports = append(reports, struct{ indicator, id string }{ind, res.EventIDs[0].String()})
				}
			case op < 5:
				r := reports[rng.IntN(len(reports))]
				h := hdr()
				h.EffectiveAt, h.Reason = time.Time{}, "typo"
				res, err = e.cmd.CorrectReport.Handle(ctx, commands.CorrectReport{Header: h, IndicatorID: r.indicator, Corrects: r.id, Done: rng.IntN(2) == 0,
					Evidence: domain.Evidence{URL: fmt.Sprintf("https://arshaly.example.kz/c/%d", round)}})
				if err == nil {
					reports = append(reports, struct{ indicator, id string }{r.indicator, res.EventIDs[0].String()})
				}
			default:
				to := []domain.IndicatorStatus{domain.StatusInProgress, domain.StatusNotStarted}[rng.IntN(2)]
				h := hdr()
				h.Reason = "re-planned"
				_, err = e.cmd.ChangeIndicatorStatus.Handle(ctx, commands.ChangeIndicatorStatus{Header: h, IndicatorID: ind, To: to})
			}
			if err == nil {
				accepted++
			} else if testing.Verbose() {
				t.Logf("refused: %v", err)
			}
		}
		if round == 5 {
			// Applied in a transaction that rolls back: the states it
			// folded are kept, its rows are not; the batch comes again.
			var gen int
			if err := e.db.Get(&gen, `SELECT active_generation FROM projectors WHERE name = $1`, projections.IndicatorsName); err != nil {
				t.Fatal(err)
			}
			pos, err := projections.Checkpoint(ctx, e.db, projections.IndicatorsName)
			if err != nil {
				t.Fatal(err)
			}
			page, err := e.store.ReadAll(ctx, pos, 4)
			if err != nil {
				t.Fatal(err)
			}
			tx, err := e.db.Beginx()
			if err != nil {
				t.Fatal(err)
			}
			if err := (projections.Indicators{}).Apply(ctx, tx, gen, page); err != nil {
				t.Fatal(err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
		}
		e.catchUp(1+rng.IntN(3), projections.Indicators{})
	}
	if accepted < 30 {
		t.Fatalf("only %d commands were accepted: the test proves little", accepted)
	}
	if projections.IndicatorCacheHits() == hits {
		t.Fatal("no batch folded on from a kept state")
	}
	live := dump(t, e.db, projections.IndicatorsName)
	if _, err := projections.Rebuild(ctx, e.db, e.store, projections.Indicators{}); err != nil {
		t.Fatal(err)
	}
	if rebuilt := dump(t, e.db, projections.IndicatorsName); rebuilt != live {
		t.Errorf("the live read model differs from a rebuild\nlive:\n%s\nrebuilt:\n%s", live, rebuilt)
	}
	t.Logf("%d commands accepted, %d indicators folded on from kept states", accepted, projections.IndicatorCacheHits()-hits)
}

// TestReplayHandsItsFoldsToTheLivePath: a catch-up that replays the
// indicators to the head leaves their folded states to the live path, so
// the first report on each measure after it folds on a kept state instead
// of refolding the measure's history; the read model is then what a
// rebuild gives. Not parallel: it empties the package's cache.
func TestReplayHandsItsFoldsToTheLivePath(t *testing.T) {
	ctx := context.Background()
	projections.ForgetIndicatorCache()
	e := newEnv(t)
	fx := e.loadRatingFixture()
	if _, err := projections.CatchUp(ctx, e.db, e.store, []projections.Projector{projections.Indicators{}}); err != nil {
		t.Fatal(err)
	}
	e.at("2021-07-05")
	hits := projections.IndicatorCacheHits()
	indicators := []string{fx.i1, fx.i3, fx.i4, fx.i5}
	for i, ind := range indicators {
		res, err := e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: admin("2021-07-02"), IndicatorID: ind, Done: i%2 == 0,
			Evidence: domain.Evidence{URL: fmt.Sprintf("https://arshaly.example.kz/after-replay/%d", i)}})
		must(t, res, err)
	}
	e.catchUp(1, projections.Indicators{})
	if got := projections.IndicatorCacheHits() - hits; got != int64(len(indicators)) {
		t.Fatalf("%d of %d first reports after the replay folded on a kept state", got, len(indicators))
	}
	live := snapshot(t, e, projections.IndicatorsName, activeGen(t, e, projections.IndicatorsName))
	if _, err := projections.Rebuild(ctx, e.db, e.store, projections.Indicators{}); err != nil {
		t.Fatal(err)
	}
	sameRows(t, "after the replay, then live", live, snapshot(t, e, projections.IndicatorsName, activeGen(t, e, projections.IndicatorsName)))
}

package projections_test

import (
	"context"
	"math"
	"testing"
	"time"

	"promiseledger/domain"
	"promiseledger/projections"
)

type want struct {
	shareNum, shareDen, weightNum, weightDen float64
}

func check(t *testing.T, name string, got []projections.Figure, w want) {
	t.Helper()
	if len(got) != 2 {
		t.Fatalf("%s: %d figures, want 2", name, len(got))
	}
	for _, fig := range got {
		num, den := w.shareNum, w.shareDen
		if fig.Method == projections.WeightedProgress.Name {
			num, den = w.weightNum, w.weightDen
		}
		if math.Abs(fig.Numerator-num) > 1e-9 || math.Abs(fig.Denominator-den) > 1e-9 {
			t.Errorf("%s %s/%d: %v/%v, want %v/%v", name, fig.Method, fig.MethodVersion, fig.Numerator, fig.Denominator, num, den)
		}
		if den > 0 && (fig.Percent == nil || math.Abs(*fig.Percent-round2(100*num/den)) > 1e-9) {
			t.Errorf("%s %s: percent %v, want %v", name, fig.Method, fig.Percent, 100*num/den)
		}
	}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func endOf(s string) *time.Time {
	t := projections.EndOfDay(domain.DateOf(day(s)))
	return &t
}

// TestFiguresByHand checks both methods on both time axes against values
// computed by hand in docs/methodology.md.
func TestFiguresByHand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.load()
	e.catchUp(3)
	ctx := context.Background()
	republican := projections.Scope{Kind: projections.ScopeLevel, ID: "republican"}

	now, err := projections.CurrentFigures(ctx, e.db, republican)
	if err != nil {
		t.Fatal(err)
	}
	// A done (w1, 1), B 80/100 (w2, 0.8), C cancelled, D 15 of 10→30 (w1, 0.25).
	check(t, "now", now, want{1, 3, 1 + 1.6 + 0.25, 4})

	for _, tc := range []struct {
		name string
		axes projections.Axes
		want want
	}{
		{"as of 04-30", projections.Axes{AsOf: endOf("2021-04-30")}, want{1, 3, 2.85, 4}},
		// Known at 04-30: the correction (recorded 05-01) is not known yet: B is 50.
		{"known at 04-30", projections.Axes{KnownAt: endOf("2021-04-30")}, want{1, 3, 1 + 1.0 + 0.25, 4}},
		// As of 03-31: C not yet cancelled, D's target still 20 (0.5), B 80 after the correction.
		{"as of 03-31", projections.Axes{AsOf: endOf("2021-03-31")}, want{1, 4, 1 + 1.6 + 0 + 0.5, 5}},
		// Known at 03-31 and as of 03-31: B still 50.
		{"both at 03-31", projections.Axes{AsOf: endOf("2021-03-31"), KnownAt: endOf("2021-03-31")}, want{1, 4, 1 + 1.0 + 0.5, 5}},
		// Before anything was added.
		{"as of 01-31", projections.Axes{AsOf: endOf("2021-01-31")}, want{0, 0, 0, 0}},
		{"far future", projections.Axes{AsOf: endOf("2030-01-01")}, want{1, 3, 2.85, 4}},
	} {
		got, err := projections.FiguresAt(ctx, e.db, republican, tc.axes)
		if err != nil {
			t.Fatal(err)
		}
		check(t, tc.name, got, tc.want)
	}

	// The live figures equal the fold of everything.
	all, err := projections.FiguresAt(ctx, e.db, republican, projections.Axes{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "fold of everything", all, want{1, 3, 2.85, 4})

	// Scopes: the regional level and the district's region cover E only;
	// the whole program covers both roadmaps.
	for _, tc := range []struct {
		scope projections.Scope
		want  want
	}{
		{projections.Scope{Kind: projections.ScopeLevel, ID: "regional"}, want{0, 1, 0, 1}},
		{projections.Scope{Kind: projections.ScopeTerritory, ID: regionKATO}, want{0, 1, 0, 1}},
		{projections.Scope{Kind: projections.ScopeTerritory, ID: republicKATO}, want{1, 4, 2.85, 5}},
		{projections.Scope{Kind: projections.ScopeProgram, ID: fx.program}, want{1, 4, 2.85, 5}},
		{projections.Scope{Kind: projections.ScopeRoadmap, ID: fx.republican}, want{1, 3, 2.85, 4}},
		{projections.Scope{Kind: projections.ScopeAll}, want{1, 4, 2.85, 5}},
	} {
		got, err := projections.CurrentFigures(ctx, e.db, tc.scope)
		if err != nil {
			t.Fatal(err)
		}
		check(t, string(tc.scope.Kind)+" "+tc.scope.ID, got, tc.want)
	}
	if _, err := projections.CurrentFigures(ctx, e.db, projections.Scope{Kind: projections.ScopeTerritory, ID: "999999999"}); err == nil {
		t.Error("an unknown territory gave figures")
	}

	// The daily series agrees with FiguresAt day by day.
	series, err := projections.DailySeries(ctx, e.db, republican, domain.NewDate(2021, 1, 30), domain.NewDate(2021, 5, 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range series {
		d, _ := domain.ParseDate(p.Date)
		at := projections.EndOfDay(d)
		fold, err := projections.FiguresAt(ctx, e.db, republican, projections.Axes{AsOf: &at})
		if err != nil {
			t.Fatal(err)
		}
		for i := range fold {
			if math.Abs(fold[i].Numerator-p.Figures[i].Numerator) > 1e-9 || math.Abs(fold[i].Denominator-p.Figures[i].Denominator) > 1e-9 {
				t.Fatalf("series %s %s: %v/%v, fold says %v/%v", p.Date, fold[i].Method,
					p.Figures[i].Numerator, p.Figures[i].Denominator, fold[i].Numerator, fold[i].Denominator)
			}
		}
	}
}

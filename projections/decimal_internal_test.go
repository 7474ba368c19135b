package projections

import (
	"fmt"
	"testing"

	"promiseledger/domain"
)

func numeric(id string, weight, baseline, target, value float64) domain.IndicatorState {
	return domain.IndicatorState{ID: id, Kind: domain.KindNumeric, Status: domain.StatusInProgress,
		Weight: weight, Baseline: &baseline, Target: &target, LatestValue: &value}
}

func milestone(id string, weight float64, done bool) domain.IndicatorState {
	st := domain.IndicatorState{ID: id, Kind: domain.KindMilestone, Status: domain.StatusNotStarted, Weight: weight}
	if done {
		st.Status = domain.StatusDone
	}
	return st
}

func percentOf(t *testing.T, figs []Figure, method string) string {
	t.Helper()
	for _, f := range figs {
		if f.Method == method {
			if f.Percent == nil {
				return "null"
			}
			return fmt.Sprint(*f.Percent)
		}
	}
	t.Fatalf("no %s figure in %+v", method, figs)
	return ""
}

// Ties at the second decimal of a percent round half to even, whatever
// order the measures are summed in: 13.875 → 13.88, 25.625 → 25.62, and
// the 2.22 / 16 (which a float sum in one order makes
// 2.2199999999999998 → 13.87) is 13.88 in every order.
func TestPercentTiesRoundHalfEvenInAnyOrder(t *testing.T) {
	t.Parallel()
	// Three measures at 0.74 of weight 1 and one idle measure of weight 13:
	// weighted-progress = 2.22 / 16 = 13.875 %.
	weighted := []domain.IndicatorState{
		numeric("a", 1, 0, 100, 74), numeric("b", 1, 0, 100, 74), numeric("c", 1, 0, 100, 74),
		milestone("d", 13, false),
	}
	orders := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}}
	for _, o := range orders {
		var s sums
		for _, i := range o {
			s.add(contribution(weighted[i]))
		}
		figs := s.figures(Scope{Kind: ScopeAll}, 1, nil, nil)
		if got := percentOf(t, figs, WeightedProgress.Name); got != "13.88" {
			t.Errorf("order %v: weighted-progress 2.22/16 = %s %%, want 13.88", o, got)
		}
		for _, f := range figs {
			if f.Method == WeightedProgress.Name && (fmt.Sprint(f.Numerator) != "2.22" || fmt.Sprint(f.Denominator) != "16") {
				t.Errorf("order %v: numerator %v / denominator %v, want 2.22 / 16", o, f.Numerator, f.Denominator)
			}
		}
	}
	for _, tc := range []struct {
		name      string
		done, all int
		want      string
	}{
		{"13.875 rounds up to the even 13.88", 111, 800, "13.88"},
		{"25.625 rounds down to the even 25.62", 205, 800, "25.62"},
		{"no tie: 1/3", 1, 3, "33.33"},
		{"no tie: 2/3 rounds up", 2, 3, "66.67"},
		{"0.005 % rounds to the even 0", 1, 20000, "0"},
		{"0.015 % rounds to the even 0.02", 3, 20000, "0.02"},
	} {
		var s sums
		for i := range tc.all {
			s.add(contribution(milestone(fmt.Sprint(i), 1, i < tc.done)))
		}
		if got := percentOf(t, s.figures(Scope{Kind: ScopeAll}, 1, nil, nil), ShareDone.Name); got != tc.want {
			t.Errorf("%s: share-done %d/%d = %s %%, want %s", tc.name, tc.done, tc.all, got, tc.want)
		}
	}
}

// A measure's weight × completion is exact before its single rounding to 6
// places: 1/3 of weight 1 is 0.333333, 2/3 is 0.666667, and three thirds of
// weight 0.5 sum to 0.5 only because each is rounded once, the same way.
func TestContributionIsExactThenRoundedToSixPlaces(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		st       domain.IndicatorState
		weighted int64
	}{
		{"one third", numeric("a", 1, 0, 3, 1), 333_333},
		{"two thirds", numeric("a", 1, 0, 3, 2), 666_667},
		{"0.1 + 0.2 is 0.3 exactly", numeric("a", 1, 0, 1, 0.3), 300_000},
		{"decrease target", numeric("a", 2, 10, 4, 7), 1_000_000},
		{"past the target clamps to 1", numeric("a", 0.37, 0, 10, 12), 370_000},
		{"below the baseline clamps to 0", numeric("a", 1, 5, 10, 1), 0},
		{"half a millionth rounds to even 0", numeric("a", 0.000001, 0, 2, 1), 0},
		{"one and a half millionths rounds to even 2", numeric("a", 0.000003, 0, 2, 1), 2},
		{"done milestone", milestone("a", 2.5, true), 2_500_000},
	} {
		c := contribution(tc.st)
		if c.weightedDone != tc.weighted {
			t.Errorf("%s: weight × completion = %d millionths, want %d", tc.name, c.weightedDone, tc.weighted)
		}
	}
}

package domain_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
)

// DeputyMetrics reads a deputy's assessments in the order of their ids
// whatever the order given (a level's data gives them sorted, and then
// nothing is copied), and leaves the caller's list as it was.
func TestDeputyMetricsReadsAssessmentsByIDInAnyOrder(t *testing.T) {
	t.Parallel()
	at := time.Date(2021, 3, 10, 9, 0, 0, 0, time.UTC)
	var sorted []domain.AssessmentState
	for i, id := range []string{"a-1", "a-2", "a-3", "a-4"} {
		a := domain.AssessmentState{ID: id, Respondents: []string{"d-1"}, AssessedAt: at, EventID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-00000000000" + string(rune('1'+i)))}
		if i%2 == 0 {
			a.Replies = []domain.AssessmentReply{{RespondentID: "d-1", EventID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-00000000010" + string(rune('1'+i)))}}
		}
		sorted = append(sorted, a)
	}
	in := domain.RatingInputs{Period: domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2021, 12, 31)},
		Cut: time.Date(2021, 12, 31, 0, 0, 0, 0, time.UTC), Deputy: domain.DeputyState{ID: "d-1"}}
	in.Assessments = sorted
	want := domain.DeputyMetrics(in)
	if len(want) == 0 {
		t.Fatal("no metric from four assessments")
	}
	shuffled := []domain.AssessmentState{sorted[2], sorted[0], sorted[3], sorted[1]}
	given := slices.Clone(shuffled)
	in.Assessments = shuffled
	if got := domain.DeputyMetrics(in); !reflect.DeepEqual(got, want) {
		t.Errorf("assessments out of order:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(shuffled, given) {
		t.Error("DeputyMetrics reordered the caller's assessments")
	}
}

// DeputyMetrics gives the same metrics, bit for bit, with a level's
// roadmap sums as without them, for deputies answering for one roadmap (once
// or twice), for several, for a roadmap and an indicator in it or outside,
// for indicators alone, and for responsibilities released before the cut;
// over indicators missing, cancelled, done, numeric and part done; and
// roadmaps whose lists are sorted, unsorted or hold an id twice. Neither
// way changes the roadmaps' lists.
func TestDeputyMetricsTakeRoadmapSumsBitForBit(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(14, 6))
	cut := time.Date(2022, 12, 31, 0, 0, 0, 0, time.UTC)
	period := domain.Period{Start: domain.NewDate(2022, 1, 1), End: domain.NewDate(2022, 12, 31)}
	id := func(n int) uuid.UUID { return uuid.UUID{0x01, 0x90, byte(n >> 8), byte(n), 6: 0x70, 8: 0x80} }
	for round := range 200 {
		indicators := map[string]*domain.IndicatorSnapshot{}
		roadmaps := map[string][]string{}
		for rm := range 4 {
			var list []string
			for i := range 1 + r.IntN(40) {
				iid := fmt.Sprintf("ind-%d-%03d", rm, i)
				list = append(list, iid)
				st := domain.IndicatorState{ID: iid, Weight: float64(r.IntN(5)) * 0.7, Kind: domain.KindNumeric,
					Status: []domain.IndicatorStatus{domain.StatusNotStarted, domain.StatusInProgress, domain.StatusDone, domain.StatusCancelled}[r.IntN(4)]}
				base, target, value := 0.0, 10+r.Float64()*90, r.Float64()*120
				st.Baseline, st.Target, st.LatestValue = &base, &target, &value
				switch r.IntN(6) {
				case 0:
					continue // not added by the cut
				case 1:
					st.Kind = domain.KindMilestone
				}
				indicators[iid] = &domain.IndicatorSnapshot{State: st, LastEventID: id(round*1000 + rm*100 + i)}
			}
			switch r.IntN(3) {
			case 1:
				r.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
			case 2:
				list = append(list, list[r.IntN(len(list))])
				slices.Sort(list)
			}
			roadmaps[fmt.Sprintf("rm-%d", rm)] = list
		}
		given := map[string][]string{}
		for k, v := range roadmaps {
			given[k] = slices.Clone(v)
		}
		sums := map[string]domain.IndicatorSums{}
		for k, v := range roadmaps {
			sums[k] = domain.SumIndicators(indicators, v)
		}
		for dep := range 12 {
			d := domain.DeputyState{ID: fmt.Sprintf("d-%d", dep)}
			for k := range r.IntN(4) {
				resp := domain.Responsibility{Subject: domain.ResponsibleForRoadmap, SubjectID: fmt.Sprintf("rm-%d", r.IntN(2)),
					AssignedAt: cut.AddDate(0, -6, 0), AssignEventID: id(90000 + dep*10 + k)}
				switch r.IntN(4) {
				case 0:
					resp.Subject, resp.SubjectID = domain.ResponsibleForIndicator, fmt.Sprintf("ind-%d-%03d", r.IntN(4), r.IntN(40))
				case 1:
					resp.ReleasedAt = cut.AddDate(0, -1, 0)
				}
				d.Responsibilities = append(d.Responsibilities, resp)
			}
			in := domain.RatingInputs{Period: period, Cut: cut, Deputy: d, Indicators: indicators, RoadmapIndicators: roadmaps}
			want := domain.DeputyMetrics(in)
			in.RoadmapSums = sums
			if got := domain.DeputyMetrics(in); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, deputy %+v:\n with sums %+v\n     none %+v", round, d.Responsibilities, got, want)
			}
		}
		if !reflect.DeepEqual(roadmaps, given) {
			t.Fatalf("round %d: the roadmaps' lists changed", round)
		}
	}
}

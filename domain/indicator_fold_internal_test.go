package domain

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestIndicatorFoldWalksOnlyNewSteps: folding an indicator event by event,
// with settle going on from its last walk and reports found through the
// index, gives after every event exactly the state (and the refusals) of
// walking every step and searching every report again, as the fold did
// before. Random histories: reports filed late for earlier dates,
// corrections (of corrections, of unknown reports, repeated), re-targets,
// status changes, responsibles, a cancellation, duplicate report ids; and
// a clone taken midway folds the rest beside the original.
func TestIndicatorFoldWalksOnlyNewSteps(t *testing.T) {
	t.Parallel()
	for seed := range 300 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		history := randomIndicatorHistory(rng, 1+rng.IntN(120))
		var fast, slow IndicatorState
		var copied *IndicatorState
		for i, env := range history {
			errFast := fast.Apply(env.Event, env.Meta)
			errSlow := slowApply(&slow, env.Event, env.Meta)
			if fmt.Sprint(errFast) != fmt.Sprint(errSlow) {
				t.Fatalf("seed %d, event %d (%s): error %v, the full walk says %v", seed, i, env.Event.EventType(), errFast, errSlow)
			}
			if errFast != nil {
				break
			}
			if a, b := stateJSON(t, fast), stateJSON(t, slow); a != b {
				t.Fatalf("seed %d, event %d (%s):\n got  %s\n want %s", seed, i, env.Event.EventType(), a, b)
			}
			if copied != nil {
				// A clone made midway (State() hands out clones) folds the
				// rest beside the original, with an index of its own.
				if err := copied.Apply(env.Event, env.Meta); err != nil {
					t.Fatalf("seed %d, event %d: the clone refused: %v", seed, i, err)
				}
				if a, b := stateJSON(t, *copied), stateJSON(t, slow); a != b {
					t.Fatalf("seed %d, event %d (%s), clone:\n got  %s\n want %s", seed, i, env.Event.EventType(), a, b)
				}
			}
			if i == len(history)/2 {
				c := fast.clone()
				copied = &c
			}
		}
	}
}

// slowApply is Apply with the walk started over and the index rebuilt for
// every event: the fold as it was.
func slowApply(s *IndicatorState, ev Event, m Meta) error {
	s.walk, s.idx = settleWalk{}, reportIdx{}
	err := s.Apply(ev, m)
	s.walk, s.idx = settleWalk{}, reportIdx{}
	if err == nil {
		s.settle()
	}
	return err
}

func stateJSON(t *testing.T, s IndicatorState) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func randomIndicatorHistory(rng *rand.Rand, n int) []Envelope {
	const id = "ind-1"
	at := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	num := func(lo, hi int) *float64 { v := float64(lo + rng.IntN(hi-lo+1)); return &v }
	meta := func() Meta {
		at = at.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
		return Meta{EventID: uuid.New(), ActorID: "officer", RecordedAt: at, EffectiveAt: at}
	}
	kind := KindNumeric
	if rng.IntN(4) == 0 {
		kind = KindMilestone
	}
	dir := DirectionIncrease
	if rng.IntN(3) == 0 {
		dir = DirectionDecrease
	}
	out := []Envelope{{Event: IndicatorAdded{IndicatorID: id, RoadmapID: "r-1", Kind: kind, Baseline: num(0, 10), Target: num(20, 80),
		Direction: dir, Deadline: NewDate(2025, 12, 31), Weight: 1}, Meta: meta()}}
	var ids []string
	for len(out) < n {
		m := meta()
		var ev Event
		switch r := rng.IntN(100); {
		case r < 55 || len(ids) == 0:
			rid := fmt.Sprintf("rep-%d", len(ids))
			if len(ids) > 0 && rng.IntN(40) == 0 {
				rid = ids[rng.IntN(len(ids))] // a repeated id: refused
			}
			ids = append(ids, rid)
			asOf := m.EffectiveAt.Add(-time.Duration(rng.IntN(24*60)) * time.Hour) // often filed late
			ev = ProgressReported{IndicatorID: id, ReportID: rid, Reading: Reading{Value: num(0, 100), Done: rng.IntN(5) == 0}, AsOf: asOf}
		case r < 75:
			rid := fmt.Sprintf("cor-%d", len(ids))
			corrects := ids[rng.IntN(len(ids))]
			if rng.IntN(10) == 0 {
				corrects = "unknown-report"
			}
			ids = append(ids, rid)
			ev = ReportCorrected{IndicatorID: id, ReportID: rid, Corrects: corrects, Reading: Reading{Value: num(0, 100), Done: rng.IntN(5) == 0}}
		case r < 85:
			ev = IndicatorRetargeted{IndicatorID: id, TargetChange: TargetChange{Target: num(10, 90)}}
		case r < 93:
			to := []IndicatorStatus{StatusNotStarted, StatusInProgress, StatusDone}[rng.IntN(3)]
			ev = IndicatorStatusChanged{IndicatorID: id, To: to}
		case r < 98:
			ev = IndicatorResponsibleAssigned{IndicatorID: id, PersonID: fmt.Sprintf("p-%d", rng.IntN(3))}
		default:
			ev = IndicatorCancelled{IndicatorID: id}
		}
		out = append(out, Envelope{Event: ev, Meta: m})
	}
	return out
}

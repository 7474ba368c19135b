package domain_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/domain"
)

func reported(id string, v float64) domain.ProgressReported {
	return domain.ProgressReported{IndicatorID: indicatorID, ReportID: id, Reading: domain.Reading{Value: num(v)}, Evidence: evidence}
}

func correction(id, corrects string, v float64) domain.ReportCorrected {
	return domain.ReportCorrected{IndicatorID: indicatorID, ReportID: id, Corrects: corrects, Reading: domain.Reading{Value: num(v)}, Evidence: evidence}
}

func TestIndicatorStatusFold(t *testing.T) {
	t.Parallel()
	decreasing := numericAdded
	decreasing.Baseline, decreasing.Target, decreasing.Direction = num(40), num(5), domain.DirectionDecrease
	milestone := func(id string, done bool) domain.ProgressReported {
		return domain.ProgressReported{IndicatorID: indicatorID, ReportID: id, Reading: domain.Reading{Done: done}, Evidence: evidence}
	}
	statusTo := func(from, to domain.IndicatorStatus) domain.IndicatorStatusChanged {
		return domain.IndicatorStatusChanged{IndicatorID: indicatorID, From: from, To: to}
	}
	retarget := func(v float64) domain.IndicatorRetargeted {
		return domain.IndicatorRetargeted{IndicatorID: indicatorID, TargetChange: domain.TargetChange{Target: num(v)}}
	}
	const ns, ip, done, cancelled = domain.StatusNotStarted, domain.StatusInProgress, domain.StatusDone, domain.StatusCancelled

	cases := []struct {
		name       string
		given      []domain.Event
		status     domain.IndicatorStatus
		latest     float64 // NaN: no value
		completion float64
	}{
		{"added", []domain.Event{numericAdded}, ns, math.NaN(), 0},
		{"first report starts it", []domain.Event{numericAdded, reported("r1", 60)}, ip, 60, 0.5},
		{"reaching the target completes it", []domain.Event{numericAdded, reported("r1", 60), reported("r2", 120)}, done, 120, 1},
		{"below the baseline counts nothing", []domain.Event{numericAdded, reported("r1", 0)}, ip, 0, 0},
		{"decreasing, partway", []domain.Event{decreasing, reported("r1", 33)}, ip, 33, 0.2},
		{"decreasing, reached", []domain.Event{decreasing, reported("r1", 5)}, done, 5, 1},
		{"milestone not yet", []domain.Event{milestoneAdded, milestone("m1", false)}, ip, math.NaN(), 0},
		{"milestone done", []domain.Event{milestoneAdded, milestone("m1", true)}, done, math.NaN(), 1},
		{"done stays done on a lower report", []domain.Event{numericAdded, reported("r1", 110), reported("r2", 90)}, done, 90, 1},
		{"correction undoes completion", []domain.Event{numericAdded, reported("r1", 110), correction("c1", "r1", 60)}, ip, 60, 0.5},
		{"corrections chain", []domain.Event{numericAdded, reported("r1", 110), correction("c1", "r1", 60), correction("c2", "c1", 111)}, done, 111, 1},
		{"correcting an older report keeps a later completion", []domain.Event{numericAdded, reported("r1", 50), reported("r2", 110), correction("c1", "r1", 40)}, done, 110, 1},
		{"explicit status sets it", []domain.Event{numericAdded, statusTo(ns, ip)}, ip, math.NaN(), 0},
		{"explicitly back, then a report at target", []domain.Event{numericAdded, reported("r1", 110), statusTo(done, ip), reported("r2", 110)}, done, 110, 1},
		{"explicitly back stays back", []domain.Event{numericAdded, reported("r1", 110), statusTo(done, ip)}, ip, 110, 1},
		{"lowered target completes it", []domain.Event{numericAdded, reported("r1", 60), retarget(50)}, done, 60, 1},
		{"raised target leaves done alone", []domain.Event{numericAdded, reported("r1", 110), retarget(200)}, done, 110, 1},
		{"raised target, partway", []domain.Event{numericAdded, reported("r1", 60), retarget(210)}, ip, 60, 0.25},
		{"cancelled", []domain.Event{numericAdded, reported("r1", 60), domain.IndicatorCancelled{IndicatorID: indicatorID}}, cancelled, 60, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := domain.FoldIndicator(history(c.given...), nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Status != c.status {
				t.Errorf("status %s, want %s", s.Status, c.status)
			}
			switch {
			case math.IsNaN(c.latest) && s.LatestValue != nil:
				t.Errorf("latest %v, want none", *s.LatestValue)
			case !math.IsNaN(c.latest) && (s.LatestValue == nil || *s.LatestValue != c.latest):
				t.Errorf("latest %v, want %v", s.LatestValue, c.latest)
			}
			if got := s.Completion(); math.Abs(got-c.completion) > 1e-9 {
				t.Errorf("completion %v, want %v", got, c.completion)
			}
		})
	}
}

func day(m time.Month, d int) time.Time { return time.Date(2021, m, d, 0, 0, 0, 0, time.UTC) }

// at gives an event explicit times.
func at(e domain.Event, effective, recorded time.Time) domain.Envelope {
	return domain.Envelope{Event: e, Meta: domain.Meta{EventID: uuid.New(), ActorID: "x", EffectiveAt: effective, RecordedAt: recorded}}
}

func withAsOf(r domain.ProgressReported, t time.Time) domain.ProgressReported {
	r.AsOf = t
	return r
}

func TestLateReportDoesNotDisplaceNewerReading(t *testing.T) {
	t.Parallel()
	h := []domain.Envelope{
		at(numericAdded, day(1, 1), day(1, 1)),
		at(withAsOf(reported("r1", 70), day(4, 1)), day(4, 1), day(4, 2)),
		at(withAsOf(reported("r2", 30), day(3, 15)), day(3, 15), day(4, 3)), // filed late
	}
	s, err := domain.FoldIndicator(h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *s.LatestValue != 70 || !s.LatestAsOf.Equal(day(4, 1)) {
		t.Fatalf("latest %v as of %s; want 70 as of April 1", *s.LatestValue, s.LatestAsOf)
	}
}

// TestTimeAxes folds one history four ways: as things stood on a date (by
// effective time, corrections included) and as the ledger reported them on
// a date (by recorded time, before later corrections).
func TestTimeAxes(t *testing.T) {
	t.Parallel()
	r1 := withAsOf(reported("r1", 40), day(2, 1))
	r2 := withAsOf(reported("r2", 110), day(3, 1))
	h := []domain.Envelope{
		at(numericAdded, day(1, 1), day(1, 1)),
		at(r1, day(2, 1), day(2, 2)),
		at(r2, day(3, 1), day(3, 2)),
		at(correction("c2", "r2", 85), day(3, 1), day(4, 10)), // found out in April
	}
	cases := []struct {
		name   string
		keep   func(domain.Envelope) bool
		status domain.IndicatorStatus
		latest float64
	}{
		{"stood on Feb 15", domain.EffectiveBy(day(2, 15)), domain.StatusInProgress, 40},
		{"stood on Mar 15, as known now", domain.EffectiveBy(day(3, 15)), domain.StatusInProgress, 85},
		{"reported on Mar 15", domain.RecordedBy(day(3, 15)), domain.StatusDone, 110},
		{"reported on Apr 30", domain.RecordedBy(day(4, 30)), domain.StatusInProgress, 85},
		// A filter that keeps a correction but not the report it corrects:
		// the correction has nothing effective to correct and is skipped.
		{"orphan correction", func(e domain.Envelope) bool {
			return e.Event.EventType() != domain.TypeProgressReported || e.Meta.EffectiveAt.Before(day(3, 1))
		}, domain.StatusInProgress, 40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := domain.FoldIndicator(h, c.keep)
			if err != nil {
				t.Fatal(err)
			}
			if s.Status != c.status || s.LatestValue == nil || *s.LatestValue != c.latest {
				t.Fatalf("status %s latest %v; want %s %v", s.Status, s.LatestValue, c.status, c.latest)
			}
		})
	}
}

func TestIndicatorStateReports(t *testing.T) {
	t.Parallel()
	s, err := domain.FoldIndicator(history(numericAdded, reported("r1", 110), correction("c1", "r1", 60)), nil)
	if err != nil {
		t.Fatal(err)
	}
	r1, _ := s.Report("r1")
	c1, _ := s.Report("c1")
	if !r1.Superseded() || r1.CorrectedBy != "c1" || c1.Corrects != "r1" || c1.Superseded() || !c1.AsOf.Equal(r1.AsOf) {
		t.Fatalf("links: r1 %+v c1 %+v", r1, c1)
	}
	if c1.ActorID != "seed" || c1.EventID == uuid.Nil {
		t.Fatalf("c1 lacks its metadata: %+v", c1)
	}
}

func TestIndicatorStateRefusesBrokenHistory(t *testing.T) {
	t.Parallel()
	cancelled := domain.IndicatorCancelled{IndicatorID: indicatorID}
	foreign := reported("r1", 1)
	foreign.IndicatorID = otherID
	for name, events := range map[string][]domain.Event{
		"report before added":        {reported("r1", 1)},
		"added twice":                {numericAdded, numericAdded},
		"another indicator's report": {numericAdded, foreign},
		"report after cancellation":  {numericAdded, cancelled, reported("r1", 1)},
		"same report id twice":       {numericAdded, reported("r1", 1), reported("r1", 2)},
		"report corrected twice":     {numericAdded, reported("r1", 1), correction("c1", "r1", 2), correction("c2", "r1", 3)},
		"a roadmap event":            {numericAdded, domain.RoadmapActivated{RoadmapID: roadmapID}},
	} {
		if _, err := domain.FoldIndicator(history(events...), nil); !errors.Is(err, domain.ErrInvalidHistory) {
			t.Errorf("%s: err = %v, want ErrInvalidHistory", name, err)
		}
	}
}

func TestOverdue(t *testing.T) {
	t.Parallel()
	almaty := time.FixedZone("Asia/Almaty", 6*3600)
	open, _ := domain.FoldIndicator(history(numericAdded), nil)
	done, _ := domain.FoldIndicator(history(numericAdded, reported("r1", 110)), nil)
	cancelled, _ := domain.FoldIndicator(history(numericAdded, domain.IndicatorCancelled{IndicatorID: indicatorID}), nil)
	cases := []struct {
		name string
		s    domain.IndicatorState
		on   time.Time
		want bool
	}{
		{"on the deadline", open, time.Date(2021, 12, 31, 23, 0, 0, 0, time.UTC), false},
		{"the day after", open, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"the day after in Almaty, still the deadline in UTC", open, time.Date(2021, 12, 31, 20, 0, 0, 0, time.UTC).In(almaty), true},
		{"done", done, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"cancelled", cancelled, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"nothing", domain.IndicatorState{}, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, c := range cases {
		if got := c.s.Overdue(c.on); got != c.want {
			t.Errorf("%s: Overdue = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestStateIsACopy(t *testing.T) {
	t.Parallel()
	a := mustRebuild(t, domain.RebuildIndicator, numericAdded, reported("r1", 60))
	s := a.State()
	*s.LatestValue = 1000
	*s.Reports[0].Value = 1000
	s.Reports[0].ID = "changed"
	if got := a.State(); *got.LatestValue != 60 || *got.Reports[0].Value != 60 || got.Reports[0].ID != "r1" {
		t.Fatalf("mutating a State() copy changed the aggregate: %+v", got)
	}
}

// TestCompletionOfExtremeValues: every finite baseline, target and value
// the rules accept gives a completion in [0, 1], never NaN (a NaN stored in
// a read model's sums would stay there: projections add changes to them);
// where the differences do not overflow it is the plain ratio, clamped,
// bit for bit.
func TestCompletionOfExtremeValues(t *testing.T) {
	at := func(b, tg, v float64) float64 {
		s := domain.IndicatorState{Kind: domain.KindNumeric, Status: domain.StatusInProgress, Baseline: &b, Target: &tg, LatestValue: &v}
		return s.Completion()
	}
	for _, c := range []struct{ b, t, v, want float64 }{
		{-1e308, 1e308, 9e307, 0.95},
		{-math.MaxFloat64, math.MaxFloat64, 0, 0.5},
		{-math.MaxFloat64, math.MaxFloat64, math.MaxFloat64, 1},
		{math.MaxFloat64, -math.MaxFloat64, -math.MaxFloat64, 1},
		{math.MaxFloat64, -math.MaxFloat64, math.MaxFloat64 / 2, 0.25},
		{0, math.MaxFloat64, -math.MaxFloat64, 0},
		{-math.MaxFloat64, 0, math.MaxFloat64, 1},
	} {
		if got := at(c.b, c.t, c.v); !(math.Abs(got-c.want) <= 1e-12) {
			t.Errorf("baseline %g, target %g, value %g: completion %v, want %v", c.b, c.t, c.v, got, c.want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 5))
	finite := func() float64 {
		f := math.Ldexp(rng.Float64(), rng.IntN(2100)-1074)
		if rng.IntN(2) == 0 {
			f = -f
		}
		if math.IsInf(f, 0) {
			f = math.Copysign(math.MaxFloat64, f)
		}
		return f
	}
	for range 200_000 {
		b, tg, v := finite(), finite(), finite()
		if b == tg {
			continue
		}
		got := at(b, tg, v)
		if math.IsNaN(got) || got < 0 || got > 1 {
			t.Fatalf("baseline %g, target %g, value %g: completion %v", b, tg, v, got)
		}
		if n, d := v-b, tg-b; !math.IsInf(n, 0) && !math.IsInf(d, 0) && got != min(max(n/d, 0), 1) {
			t.Fatalf("baseline %g, target %g, value %g: completion %v, want the plain ratio %v", b, tg, v, got, min(max(n/d, 0), 1))
		}
	}
}

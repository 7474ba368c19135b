package domain_test

import (
	"testing"
	"time"

	"promiseledger/domain"
)

func TestIndicatorAdd(t *testing.T) {
	t.Parallel()
	open := mustRebuild(t, domain.RebuildRoadmap, roadmapRegistered)
	closed := mustRebuild(t, domain.RebuildRoadmap, roadmapRegistered, domain.RoadmapClosed{RoadmapID: roadmapID})
	add := func(e domain.IndicatorAdded, r *domain.Roadmap) func(*domain.Indicator, domain.Meta) error {
		return func(a *domain.Indicator, m domain.Meta) error { return a.Add(e, r, m) }
	}
	with := func(e domain.IndicatorAdded, edit func(*domain.IndicatorAdded)) domain.IndicatorAdded {
		edit(&e)
		return e
	}
	// The caller leaves direction and weight to their defaults.
	bare := with(numericAdded, func(e *domain.IndicatorAdded) { e.Direction, e.Weight = "", 0 })
	decreasing := with(numericAdded, func(e *domain.IndicatorAdded) { e.Baseline, e.Target, e.Direction = num(40), num(5), "" })

	runScenarios(t, domain.RebuildIndicator, []scenario[*domain.Indicator]{
		{name: "numeric, defaults derived", when: add(bare, open), then: []domain.Event{numericAdded}},
		{name: "numeric, decreasing", when: add(decreasing, open), then: []domain.Event{
			with(decreasing, func(e *domain.IndicatorAdded) { e.Direction, e.Weight = domain.DirectionDecrease, 1 }),
		}},
		{name: "milestone", when: add(milestoneAdded, open), then: []domain.Event{milestoneAdded}},
		{name: "target equals baseline", when: add(with(bare, func(e *domain.IndicatorAdded) { e.Target = num(10) }), open), err: domain.ErrTargetEqualsBaseline, field: "target"},
		{name: "direction contradicts", when: add(with(numericAdded, func(e *domain.IndicatorAdded) { e.Direction = domain.DirectionDecrease }), open), field: "direction"},
		{name: "numeric without target", when: add(with(bare, func(e *domain.IndicatorAdded) { e.Target = nil }), open), field: "target"},
		{name: "numeric without unit", when: add(with(bare, func(e *domain.IndicatorAdded) { e.Unit = domain.Text{} }), open), field: "unit.kk"},
		{name: "milestone with a target", when: add(with(milestoneAdded, func(e *domain.IndicatorAdded) { e.Target = num(1) }), open), field: "kind"},
		{name: "unknown kind", when: add(with(milestoneAdded, func(e *domain.IndicatorAdded) { e.Kind = "vibe" }), open), field: "kind"},
		{name: "negative weight", when: add(with(numericAdded, func(e *domain.IndicatorAdded) { e.Weight = -1 }), open), field: "weight"},
		{name: "no deadline", when: add(with(numericAdded, func(e *domain.IndicatorAdded) { e.Deadline = domain.Date{} }), open), field: "deadline"},
		{name: "roadmap not registered", when: add(numericAdded, &domain.Roadmap{}), err: domain.ErrUnknownReference, field: "roadmap_id"},
		{name: "roadmap closed", when: add(numericAdded, closed), err: domain.ErrRoadmapClosed},
		{name: "exists already", given: history(numericAdded), when: add(numericAdded, open), err: domain.ErrAlreadyExists},
	})
}

func TestIndicatorReportProgress(t *testing.T) {
	t.Parallel()
	report := func(r domain.Reading, ev domain.Evidence) func(*domain.Indicator, domain.Meta) error {
		return func(a *domain.Indicator, m domain.Meta) error { return a.ReportProgress(r, ev, m) }
	}
	reported := func(r domain.Reading, asOf time.Time, ev domain.Evidence) domain.ProgressReported {
		return domain.ProgressReported{IndicatorID: indicatorID, ReportID: whenID.String(), Reading: r, AsOf: asOf, Evidence: ev}
	}
	value := domain.Reading{Value: num(40)}
	sha := "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
	asOf := time.Date(2021, 5, 31, 0, 0, 0, 0, time.UTC)

	runScenarios(t, domain.RebuildIndicator, []scenario[*domain.Indicator]{
		{name: "numeric value", given: history(numericAdded), when: report(value, evidence), then: []domain.Event{reported(value, now, evidence)}},
		{name: "as of an earlier date", given: history(numericAdded), effective: asOf, when: report(value, evidence), then: []domain.Event{reported(value, asOf, evidence)}},
		{name: "milestone done", given: history(milestoneAdded), when: report(domain.Reading{Done: true}, evidence), then: []domain.Event{reported(domain.Reading{Done: true}, now, evidence)}},
		{name: "hash only, normalised", given: history(numericAdded), when: report(value, domain.Evidence{SHA256: " " + sha, Description: " protocol "}), then: []domain.Event{
			reported(value, now, domain.Evidence{SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Description: "protocol"}),
		}},
		{name: "numeric without value", given: history(numericAdded), when: report(domain.Reading{}, evidence), field: "value"},
		{name: "numeric says done", given: history(numericAdded), when: report(domain.Reading{Value: num(1), Done: true}, evidence), field: "done"},
		{name: "milestone with a value", given: history(milestoneAdded), when: report(value, evidence), field: "value"},
		{name: "no evidence", given: history(numericAdded), when: report(value, domain.Evidence{Description: "trust me"}), field: "evidence"},
		{name: "evidence not http", given: history(numericAdded), when: report(value, domain.Evidence{URL: "ftp://example.kz/x"}), field: "evidence.url"},
		{name: "evidence relative", given: history(numericAdded), when: report(value, domain.Evidence{URL: "/x.pdf"}), field: "evidence.url"},
		{name: "evidence short hash", given: history(numericAdded), when: report(value, domain.Evidence{SHA256: "abc"}), field: "evidence.sha256"},
		{name: "as of the future", given: history(numericAdded), effective: now.Add(time.Hour), when: report(value, evidence), field: "effective_at"},
		{name: "as of before the indicator", given: history(numericAdded), effective: t0.Add(-time.Hour), when: report(value, evidence), field: "effective_at"},
		{name: "cancelled", given: history(numericAdded, domain.IndicatorCancelled{IndicatorID: indicatorID}), when: report(value, evidence), err: domain.ErrCancelled},
		{name: "missing", when: report(value, evidence), err: domain.ErrNotFound},
	})
}

func TestIndicatorCorrectReport(t *testing.T) {
	t.Parallel()
	asOf := t0.Add(30 * time.Minute)
	r1 := domain.ProgressReported{IndicatorID: indicatorID, ReportID: "r1", Reading: domain.Reading{Value: num(50)}, AsOf: asOf, Evidence: evidence}
	c1 := domain.ReportCorrected{IndicatorID: indicatorID, ReportID: "c1", Corrects: "r1", Reading: domain.Reading{Value: num(45)}, Evidence: evidence}
	correct := func(id string, v float64) func(*domain.Indicator, domain.Meta) error {
		return func(a *domain.Indicator, m domain.Meta) error {
			return a.CorrectReport(id, domain.Reading{Value: num(v)}, evidence, m)
		}
	}
	corrected := func(id string, v float64) domain.ReportCorrected {
		return domain.ReportCorrected{IndicatorID: indicatorID, ReportID: whenID.String(), Corrects: id, Reading: domain.Reading{Value: num(v)}, Evidence: evidence}
	}

	runScenarios(t, domain.RebuildIndicator, []scenario[*domain.Indicator]{
		{name: "corrects a report", given: history(numericAdded, r1), reason: "typo", when: correct("r1", 5), then: []domain.Event{corrected("r1", 5)}},
		{name: "corrects a correction", given: history(numericAdded, r1, c1), reason: "typo again", when: correct("c1", 4), then: []domain.Event{corrected("c1", 4)}},
		{name: "at the report's effective time", given: history(numericAdded, r1), reason: "typo", effective: asOf, when: correct("r1", 5), then: []domain.Event{corrected("r1", 5)}},
		{name: "at another effective time", given: history(numericAdded, r1), reason: "typo", effective: now, when: correct("r1", 5), field: "effective_at"},
		{name: "needs a reason", given: history(numericAdded, r1), when: correct("r1", 5), err: domain.ErrReasonRequired, field: "reason"},
		{name: "unknown report", given: history(numericAdded, r1), reason: "typo", when: correct("r9", 5), err: domain.ErrReportNotFound, field: "corrects"},
		{name: "superseded report", given: history(numericAdded, r1, c1), reason: "typo", when: correct("r1", 5), err: domain.ErrAlreadyCorrected, field: "corrects"},
		{name: "needs evidence", given: history(numericAdded, r1), reason: "typo", when: func(a *domain.Indicator, m domain.Meta) error {
			return a.CorrectReport("r1", domain.Reading{Value: num(5)}, domain.Evidence{}, m)
		}, field: "evidence"},
		{name: "cancelled", given: history(numericAdded, r1, domain.IndicatorCancelled{IndicatorID: indicatorID}), reason: "typo", when: correct("r1", 5), err: domain.ErrCancelled},
	})

	t.Run("takes effect when the corrected report did", func(t *testing.T) {
		t.Parallel()
		a := mustRebuild(t, domain.RebuildIndicator, numericAdded, r1, c1)
		if err := a.CorrectReport("c1", domain.Reading{Value: num(4)}, evidence, whenMeta("typo", time.Time{})); err != nil {
			t.Fatal(err)
		}
		m := a.Changes()[0].Meta
		if !m.EffectiveAt.Equal(asOf) || !m.RecordedAt.Equal(now) || m.Reason != "typo" {
			t.Fatalf("meta = %+v, want effective %s", m, asOf)
		}
	})
}

func TestIndicatorRetarget(t *testing.T) {
	t.Parallel()
	retarget := func(c domain.TargetChange) func(*domain.Indicator, domain.Meta) error {
		return func(a *domain.Indicator, m domain.Meta) error { return a.Retarget(c, m) }
	}
	retargeted := func(c domain.TargetChange) domain.IndicatorRetargeted {
		return domain.IndicatorRetargeted{IndicatorID: indicatorID, TargetChange: c}
	}
	later := domain.NewDate(2022, 6, 30)

	runScenarios(t, domain.RebuildIndicator, []scenario[*domain.Indicator]{
		{name: "new target", given: history(numericAdded), reason: "budget cut", when: retarget(domain.TargetChange{Target: num(80)}), then: []domain.Event{retargeted(domain.TargetChange{Target: num(80)})}},
		{name: "new deadline and weight", given: history(milestoneAdded), reason: "delayed", when: retarget(domain.TargetChange{Deadline: &later, Weight: num(2)}), then: []domain.Event{
			retargeted(domain.TargetChange{Deadline: &later, Weight: num(2)}),
		}},
		{name: "unchanged fields dropped", given: history(numericAdded), reason: "delayed", when: retarget(domain.TargetChange{Target: num(110), Deadline: &later, Weight: num(1)}), then: []domain.Event{
			retargeted(domain.TargetChange{Deadline: &later}),
		}},
		{name: "nothing changes", given: history(numericAdded), reason: "r", when: retarget(domain.TargetChange{Target: num(110)}), err: domain.ErrValidation},
		{name: "needs a reason", given: history(numericAdded), when: retarget(domain.TargetChange{Target: num(80)}), err: domain.ErrReasonRequired, field: "reason"},
		{name: "target equals baseline", given: history(numericAdded), reason: "r", when: retarget(domain.TargetChange{Target: num(10)}), err: domain.ErrTargetEqualsBaseline, field: "target"},
		{name: "target reverses direction", given: history(numericAdded), reason: "r", when: retarget(domain.TargetChange{Target: num(5)}), field: "target"},
		{name: "milestone target", given: history(milestoneAdded), reason: "r", when: retarget(domain.TargetChange{Target: num(5)}), field: "target"},
		{name: "zero weight", given: history(numericAdded), reason: "r", when: retarget(domain.TargetChange{Weight: num(0)}), field: "weight"},
		{name: "invalid deadline", given: history(numericAdded), reason: "r", when: retarget(domain.TargetChange{Deadline: &domain.Date{Year: 2021, Month: 13, Day: 1}}), field: "deadline"},
		{name: "cancelled", given: history(numericAdded, domain.IndicatorCancelled{IndicatorID: indicatorID}), reason: "r", when: retarget(domain.TargetChange{Target: num(80)}), err: domain.ErrCancelled},
	})
}

func TestIndicatorChangeStatus(t *testing.T) {
	t.Parallel()
	change := func(to domain.IndicatorStatus) func(*domain.Indicator, domain.Meta) error {
		return func(a *domain.Indicator, m domain.Meta) error { return a.ChangeStatus(to, m) }
	}
	changed := func(from, to domain.IndicatorStatus) domain.IndicatorStatusChanged {
		return domain.IndicatorStatusChanged{IndicatorID: indicatorID, From: from, To: to}
	}
	report := func(v float64) domain.ProgressReported {
		return domain.ProgressReported{IndicatorID: indicatorID, ReportID: "r" + dump(v), Reading: domain.Reading{Value: num(v)}, Evidence: evidence}
	}
	doneMilestone := domain.ProgressReported{IndicatorID: indicatorID, ReportID: "m", Reading: domain.Reading{Done: true}, Evidence: evidence}
	const ns, ip, done = domain.StatusNotStarted, domain.StatusInProgress, domain.StatusDone

	runScenarios(t, domain.RebuildIndicator, []scenario[*domain.Indicator]{
		{name: "starts", given: history(numericAdded), when: change(ip), then: []domain.Event{changed(ns, ip)}},
		{name: "milestone done without a report", given: history(milestoneAdded), when: change(done), then: []domain.Event{changed(ns, done)}},
		{name: "same status", given: history(numericAdded, report(50)), when: change(ip), err: domain.ErrInvalidTransition},
		{name: "backwards needs a reason", given: history(milestoneAdded, doneMilestone), when: change(ip), err: domain.ErrReasonRequired, field: "reason"},
		{name: "backwards with a reason", given: history(milestoneAdded, doneMilestone), reason: "bridge closed again", when: change(ip), then: []domain.Event{changed(done, ip)}},
		{name: "back to not started", given: history(numericAdded, report(50)), reason: "report was for another road", when: change(ns), then: []domain.Event{changed(ip, ns)}},
		{name: "done below target needs a reason", given: history(numericAdded, report(50)), when: change(done), err: domain.ErrReasonRequired, field: "reason"},
		{name: "done below target with a reason", given: history(numericAdded, report(50)), reason: "accepted by the council", when: change(done), then: []domain.Event{changed(ip, done)}},
		{name: "done from not started below target needs a reason", given: history(numericAdded, report(50), domain.IndicatorStatusChanged{IndicatorID: indicatorID, From: ip, To: ns}), when: change(done), err: domain.ErrReasonRequired},
		{name: "done at target needs no reason", given: history(numericAdded, report(110), domain.IndicatorStatusChanged{IndicatorID: indicatorID, From: done, To: ip}), when: change(done), then: []domain.Event{changed(ip, done)}},
		{name: "not to cancelled", given: history(numericAdded), when: change(domain.StatusCancelled), field: "status"},
		{name: "not to nonsense", given: history(numericAdded), when: change("overdue"), field: "status"},
		{name: "cancelled", given: history(numericAdded, domain.IndicatorCancelled{IndicatorID: indicatorID}), reason: "r", when: change(ip), err: domain.ErrCancelled},
	})
}

func TestIndicatorCancelAndAssign(t *testing.T) {
	t.Parallel()
	cancelled := domain.IndicatorCancelled{IndicatorID: indicatorID}
	cancel := func(a *domain.Indicator, m domain.Meta) error { return a.Cancel(m) }
	assign := func(p string) func(*domain.Indicator, domain.Meta) error {
		return func(a *domain.Indicator, m domain.Meta) error { return a.AssignResponsible(p, m) }
	}
	assigned := domain.IndicatorResponsibleAssigned{IndicatorID: indicatorID, PersonID: "official-9"}

	runScenarios(t, domain.RebuildIndicator, []scenario[*domain.Indicator]{
		{name: "cancels", given: history(numericAdded), reason: "merged into another measure", when: cancel, then: []domain.Event{cancelled}},
		{name: "cancel needs a reason", given: history(numericAdded), when: cancel, err: domain.ErrReasonRequired, field: "reason"},
		{name: "cancel twice", given: history(numericAdded, cancelled), reason: "r", when: cancel, err: domain.ErrCancelled},
		{name: "cancel missing", reason: "r", when: cancel, err: domain.ErrNotFound},
		{name: "assigns", given: history(numericAdded), when: assign(" official-9 "), then: []domain.Event{assigned}},
		{name: "reassigns", given: history(numericAdded, assigned), when: assign("official-10"), then: []domain.Event{
			domain.IndicatorResponsibleAssigned{IndicatorID: indicatorID, PersonID: "official-10"},
		}},
		{name: "assigns the same person", given: history(numericAdded, assigned), when: assign("official-9"), err: domain.ErrAlreadyAssigned},
		{name: "assigns nobody", given: history(numericAdded), when: assign(" "), field: "person_id"},
		{name: "assign on cancelled", given: history(numericAdded, cancelled), when: assign("x"), err: domain.ErrCancelled},
	})
}

func TestRecordedTimeNeverGoesBack(t *testing.T) {
	t.Parallel()
	a := mustRebuild(t, domain.RebuildIndicator, numericAdded)
	m := whenMeta("", time.Time{})
	m.RecordedAt = t0.Add(-time.Hour) // a clock behind the last event's
	if err := a.ReportProgress(domain.Reading{Value: num(20)}, evidence, m); err != nil {
		t.Fatal(err)
	}
	if got := a.Changes()[0].Meta.RecordedAt; !got.Equal(t0) {
		t.Fatalf("recorded at %s, want clamped to %s", got, t0)
	}
}

package domain

import (
	"fmt"
	"strings"
	"time"
)

// Indicator is a measure of a roadmap. Its rules decide on an
// IndicatorState, the same fold read models use.
type Indicator struct {
	recorder
	state IndicatorState
}

// RebuildIndicator folds an indicator's stored history.
func RebuildIndicator(history []Envelope) (*Indicator, error) {
	a := &Indicator{}
	if err := a.replay(history, a.state.Apply); err != nil {
		return nil, fmt.Errorf("rebuild indicator: %w", err)
	}
	return a, nil
}

// ID is the indicator's id ("" before it is added).
func (a *Indicator) ID() string { return a.state.ID }

// Exists reports whether the indicator has been added.
func (a *Indicator) Exists() bool { return a.state.ID != "" }

// State returns a copy of the folded state, changes included.
func (a *Indicator) State() IndicatorState { return a.state.clone() }

// Add records a new measure of roadmap, which must be the registered,
// not closed roadmap e.RoadmapID names. A zero Weight means 1; Direction is
// derived from Baseline and Target.
func (a *Indicator) Add(e IndicatorAdded, roadmap *Roadmap, m Meta) error {
	if a.Exists() {
		return fmt.Errorf("indicator %s: %w", a.state.ID, ErrAlreadyExists)
	}
	var v validator
	m = a.stamp(m, &v)
	e = a.normalizeAdded(e)
	validateID(&v, "indicator_id", e.IndicatorID)
	validateID(&v, "roadmap_id", e.RoadmapID)
	e.Title.validate(&v, "title")
	if e.ResponsibleID != "" {
		validateNewPersonID(&v, "responsible_id", e.ResponsibleID)
	}
	e.Deadline.validate(&v, "deadline")
	v.check(finite(e.Weight) && e.Weight > 0, "weight", "must be a number above 0")
	switch e.Kind {
	case KindNumeric:
		validateNumeric(&v, e)
	case KindMilestone:
		v.check(e.Baseline == nil && e.Target == nil && e.Direction == "" && e.Unit.IsZero(),
			"kind", "a milestone has no baseline, target, unit or direction")
	default:
		v.add("kind", `must be "milestone" or "numeric"`)
	}
	if roadmap == nil || !roadmap.Exists() || roadmap.id != e.RoadmapID {
		v.rule("roadmap_id", ErrUnknownReference, fmt.Sprintf("no roadmap %s is registered", e.RoadmapID))
	}
	if err := v.err(); err != nil {
		return err
	}
	if roadmap.status == RoadmapStatusClosed {
		return fmt.Errorf("roadmap %s: %w", roadmap.id, ErrRoadmapClosed)
	}
	return a.record(e, m, a.state.Apply)
}

func (a *Indicator) normalizeAdded(e IndicatorAdded) IndicatorAdded {
	e.Title = e.Title.trimmed()
	e.Unit = e.Unit.trimmed()
	e.ResponsibleID = cleanText(e.ResponsibleID, false)
	if e.Weight == 0 {
		e.Weight = 1
	}
	if e.Kind == KindNumeric && e.Direction == "" && e.Baseline != nil && e.Target != nil {
		e.Direction = directionOf(*e.Baseline, *e.Target)
	}
	return e
}

func validateNumeric(v *validator, e IndicatorAdded) {
	if e.Baseline == nil || !finite(*e.Baseline) {
		v.add("baseline", "a numeric indicator needs a finite baseline")
	}
	if e.Target == nil || !finite(*e.Target) {
		v.add("target", "a numeric indicator needs a finite target")
	}
	e.Unit.validate(v, "unit")
	if e.Baseline == nil || e.Target == nil {
		return
	}
	switch derived := directionOf(*e.Baseline, *e.Target); {
	case derived == "":
		v.rule("target", ErrTargetEqualsBaseline, "must differ from the baseline")
	case e.Direction != derived:
		v.addf("direction", "is %s from baseline %g to target %g", derived, *e.Baseline, *e.Target)
	}
}

// ReportProgress records a reading with its evidence. The report's id is
// the event id and its as_of is the metadata's effective time.
func (a *Indicator) ReportProgress(r Reading, ev Evidence, m Meta) error {
	if err := a.open(); err != nil {
		return err
	}
	var v validator
	m = a.stamp(m, &v)
	a.checkReading(&v, r)
	ev = ev.normalized()
	ev.validate(&v, "evidence")
	if err := v.err(); err != nil {
		return err
	}
	return a.record(ProgressReported{
		IndicatorID: a.state.ID, ReportID: m.EventID.String(),
		Reading: r, AsOf: m.EffectiveAt, Evidence: ev,
	}, m, a.state.Apply)
}

// CorrectReport records that report corrects should have said r. It takes
// effect when that report did: an EffectiveAt in m other than zero or that
// time is refused.
func (a *Indicator) CorrectReport(corrects string, r Reading, ev Evidence, m Meta) error {
	if err := a.open(); err != nil {
		return err
	}
	var v validator
	corrects = strings.TrimSpace(corrects)
	if asOf, ok := a.correctable(&v, corrects); ok {
		if !m.EffectiveAt.IsZero() && !m.EffectiveAt.Equal(asOf) {
			v.addf("effective_at", "a correction takes effect when the report it corrects did (%s)", asOf.Format(time.RFC3339))
		}
		m.EffectiveAt = asOf
	}
	m = a.stamp(m, &v)
	v.requireReason(m, "say what was wrong with the report")
	a.checkReading(&v, r)
	ev = ev.normalized()
	ev.validate(&v, "evidence")
	if err := v.err(); err != nil {
		return err
	}
	return a.record(ReportCorrected{
		IndicatorID: a.state.ID, ReportID: m.EventID.String(), Corrects: corrects,
		Reading: r, Evidence: ev,
	}, m, a.state.Apply)
}

// correctable checks that the report exists and is the latest of its chain,
// and returns its effective time.
func (a *Indicator) correctable(v *validator, id string) (time.Time, bool) {
	rep, ok := a.state.Report(id)
	switch {
	case id == "":
		v.add("corrects", "name the report to correct")
	case !ok:
		v.rule("corrects", ErrReportNotFound, fmt.Sprintf("indicator %s has no report %s", a.state.ID, id))
	case rep.Superseded():
		v.rule("corrects", ErrAlreadyCorrected, fmt.Sprintf("report %s was corrected by %s: correct that one instead", id, rep.CorrectedBy))
	default:
		return rep.AsOf, true
	}
	return time.Time{}, false
}

func (a *Indicator) checkReading(v *validator, r Reading) {
	if a.state.Kind == KindMilestone {
		v.check(r.Value == nil, "value", "a milestone reports done, not a value")
		return
	}
	if r.Value == nil || !finite(*r.Value) {
		v.add("value", "a numeric indicator reports a finite value")
	}
	v.check(!r.Done, "done", "a numeric indicator reports a value; it is done when the value reaches the target")
}

// Retarget changes the target, deadline or weight; it needs a reason.
// Fields equal to the current ones are dropped, and a request that changes
// nothing is refused. A new target keeps the direction: reversing it changes
// what the measure means, so cancel it and add another instead.
func (a *Indicator) Retarget(c TargetChange, m Meta) error {
	if err := a.open(); err != nil {
		return err
	}
	var v validator
	m = a.stamp(m, &v)
	v.requireReason(m, "say why the target changes")
	c = a.checkTarget(&v, c)
	if c.Deadline != nil {
		c.Deadline.validate(&v, "deadline")
		if *c.Deadline == a.state.Deadline {
			c.Deadline = nil
		}
	}
	if c.Weight != nil {
		v.check(finite(*c.Weight) && *c.Weight > 0, "weight", "must be a number above 0")
		if *c.Weight == a.state.Weight {
			c.Weight = nil
		}
	}
	if len(v.errs) == 0 && c == (TargetChange{}) {
		v.add("", "nothing to change: give a new target, deadline or weight")
	}
	if err := v.err(); err != nil {
		return err
	}
	return a.record(IndicatorRetargeted{IndicatorID: a.state.ID, TargetChange: c}, m, a.state.Apply)
}

func (a *Indicator) checkTarget(v *validator, c TargetChange) TargetChange {
	s := &a.state
	switch {
	case c.Target == nil:
	case s.Kind != KindNumeric:
		v.add("target", "a milestone has no target")
	case !finite(*c.Target):
		v.add("target", "must be a finite number")
	case *c.Target == *s.Baseline:
		v.rule("target", ErrTargetEqualsBaseline, fmt.Sprintf("must differ from the baseline %g", *s.Baseline))
	case directionOf(*s.Baseline, *c.Target) != s.Direction:
		v.addf("target", "would reverse the direction (%s from baseline %g); cancel the indicator and add another", s.Direction, *s.Baseline)
	case *c.Target == *s.Target:
		c.Target = nil
	}
	return c
}

// ChangeStatus sets the status explicitly. Moving backwards needs a reason,
// and so does marking a numeric indicator done before its latest reading
// reaches the target. Cancelling has its own method.
func (a *Indicator) ChangeStatus(to IndicatorStatus, m Meta) error {
	if err := a.open(); err != nil {
		return err
	}
	from := a.state.Status
	if to.rank() < 0 || to == StatusCancelled {
		return ValidationErrors{{Field: "status", Problem: `must be "not_started", "in_progress" or "done" (cancel to cancel)`}}
	}
	if to == from {
		return fmt.Errorf("indicator %s is already %s: %w", a.state.ID, to, ErrInvalidTransition)
	}
	var v validator
	m = a.stamp(m, &v)
	switch {
	case to.rank() < from.rank():
		v.requireReason(m, fmt.Sprintf("say why the indicator moves back from %s to %s", from, to))
	case to == StatusDone && a.state.Kind == KindNumeric && !a.latestReaches():
		v.requireReason(m, "say why the indicator is done before its value reaches the target")
	}
	if err := v.err(); err != nil {
		return err
	}
	return a.record(IndicatorStatusChanged{IndicatorID: a.state.ID, From: from, To: to}, m, a.state.Apply)
}

func (a *Indicator) latestReaches() bool {
	return a.state.reaches(Report{Value: a.state.LatestValue, Done: a.state.Done}, a.state.Target)
}

// Cancel drops the measure; it needs a reason and is final.
func (a *Indicator) Cancel(m Meta) error {
	if err := a.open(); err != nil {
		return err
	}
	var v validator
	m = a.stamp(m, &v)
	v.requireReason(m, "say why the indicator is cancelled")
	if err := v.err(); err != nil {
		return err
	}
	return a.record(IndicatorCancelled{IndicatorID: a.state.ID}, m, a.state.Apply)
}

// AssignResponsible makes personID answerable for the indicator.
func (a *Indicator) AssignResponsible(personID string, m Meta) error {
	if err := a.open(); err != nil {
		return err
	}
	personID = cleanText(personID, false)
	if personID != "" && personID == a.state.ResponsibleID {
		return fmt.Errorf("person %s on indicator %s: %w", personID, a.state.ID, ErrAlreadyAssigned)
	}
	var v validator
	m = a.stamp(m, &v)
	validateNewPersonID(&v, "person_id", personID)
	if err := v.err(); err != nil {
		return err
	}
	return a.record(IndicatorResponsibleAssigned{IndicatorID: a.state.ID, PersonID: personID}, m, a.state.Apply)
}

// open is the precondition of every change after the indicator is added.
func (a *Indicator) open() error {
	switch {
	case !a.Exists():
		return fmt.Errorf("indicator: %w", ErrNotFound)
	case a.state.Status == StatusCancelled:
		return fmt.Errorf("indicator %s: %w", a.state.ID, ErrCancelled)
	}
	return nil
}

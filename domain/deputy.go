package domain

import (
	"fmt"
	"strings"
	"time"
)

// Deputy is an elected member of the Mazhilis or of a maslikhat: faction
// membership, what they answer for, and counts of their work with the
// public. No citizen they met or whose appeal they handled is ever named.
type Deputy struct {
	recorder
	state DeputyState
}

// RebuildDeputy folds a deputy's stored history.
func RebuildDeputy(history []Envelope) (*Deputy, error) {
	d := &Deputy{}
	if err := d.replay(history, d.state.Apply); err != nil {
		return nil, fmt.Errorf("rebuild deputy: %w", err)
	}
	return d, nil
}

// ID is the deputy's person id.
func (d *Deputy) ID() string { return d.state.ID }

// Exists reports whether the deputy is registered.
func (d *Deputy) Exists() bool { return d.state.ID != "" }

// State returns a copy of the folded state.
func (d *Deputy) State() DeputyState { return d.state.clone() }

// Register records the deputy. territory is the registered territory the
// assembly belongs to: the republic for the Mazhilis; for a maslikhat any
// other unit, whose kind gives the level.
func (d *Deputy) Register(e DeputyRegistered, territory *Territory, m Meta) error {
	if d.Exists() {
		return fmt.Errorf("deputy %s: %w", d.state.ID, ErrAlreadyExists)
	}
	var v validator
	m = d.stamp(m, &v)
	e.DeputyID, e.DisplayName = strings.TrimSpace(e.DeputyID), cleanText(e.DisplayName, false)
	validateOpaquePersonID(&v, "deputy_id", e.DeputyID)
	validateDisplayName(&v, "display_name", e.DisplayName)
	validateKATO(&v, "assembly.territory_kato", e.Assembly.TerritoryKATO)
	switch e.Assembly.Kind {
	case AssemblyMazhilis:
		v.check(e.Assembly.TerritoryKATO == RepublicKATO, "assembly.territory_kato", `the Mazhilis sits for the republic ("0")`)
		v.check(e.Assembly.Level == CouncilRepublican, "assembly.level", `the Mazhilis is "republican"`)
	case AssemblyMaslikhat:
		v.check(e.Assembly.TerritoryKATO != RepublicKATO, "assembly.territory_kato", "a maslikhat belongs to a region, city or district")
	default:
		v.add("assembly.kind", `must be "mazhilis" or "maslikhat"`)
	}
	switch {
	case territory == nil || !territory.Exists() || territory.kato != e.Assembly.TerritoryKATO:
		v.rule("assembly.territory_kato", ErrUnknownReference, fmt.Sprintf("no territory %s is registered", e.Assembly.TerritoryKATO))
	case e.Assembly.Kind == AssemblyMaslikhat && e.Assembly.Level != LevelOfTerritory(territory.kind):
		v.addf("assembly.level", "the maslikhat of a %s is %s", territory.kind, LevelOfTerritory(territory.kind))
	}
	if err := v.err(); err != nil {
		return err
	}
	return d.record(e, m, d.state.Apply)
}

// JoinFaction records that the deputy joined the faction.
func (d *Deputy) JoinFaction(faction string, m Meta) error {
	if err := d.open(); err != nil {
		return err
	}
	if d.state.InFaction() {
		return &TransitionError{Aggregate: "deputy", ID: d.state.ID, State: "in the faction", Action: "join the faction"}
	}
	var v validator
	m = d.stamp(m, &v)
	monotonic(&v, m, d.state.last)
	faction = strings.TrimSpace(faction)
	validateSlug(&v, "faction", faction)
	if err := v.err(); err != nil {
		return err
	}
	return d.record(DeputyFactionJoined{DeputyID: d.state.ID, Faction: faction}, m, d.state.Apply)
}

// LeaveFaction records that the deputy left the faction; it needs a reason.
func (d *Deputy) LeaveFaction(m Meta) error {
	if err := d.open(); err != nil {
		return err
	}
	if !d.state.InFaction() {
		return fmt.Errorf("deputy %s: %w", d.state.ID, ErrNotFactionMember)
	}
	var v validator
	m = d.stamp(m, &v)
	monotonic(&v, m, d.state.last)
	v.requireReason(m, "say why the deputy left the faction")
	if err := v.err(); err != nil {
		return err
	}
	faction := d.state.Faction[len(d.state.Faction)-1].Faction
	return d.record(DeputyFactionLeft{DeputyID: d.state.ID, Faction: faction}, m, d.state.Apply)
}

// AssignResponsibility makes the deputy answer for a roadmap or an
// indicator; exists says whether the caller found it registered.
func (d *Deputy) AssignResponsibility(kind ResponsibilityKind, subjectID string, exists bool, m Meta) error {
	if err := d.open(); err != nil {
		return err
	}
	subjectID = strings.TrimSpace(subjectID)
	if d.state.responsibility(kind, subjectID) >= 0 {
		return fmt.Errorf("deputy %s on %s %s: %w", d.state.ID, kind, subjectID, ErrAlreadyAssigned)
	}
	var v validator
	m = d.stamp(m, &v)
	monotonic(&v, m, d.state.last)
	v.check(kind.Valid(), "subject", `must be "roadmap" or "indicator"`)
	validateID(&v, "subject_id", subjectID)
	if kind.Valid() && ValidateID("subject_id", subjectID) == nil && !exists {
		v.rule("subject_id", ErrUnknownReference, fmt.Sprintf("no %s %s is registered", kind, subjectID))
	}
	if err := v.err(); err != nil {
		return err
	}
	return d.record(DeputyResponsibilityAssigned{DeputyID: d.state.ID, Subject: kind, SubjectID: subjectID}, m, d.state.Apply)
}

// ReleaseResponsibility ends a responsibility; it needs a reason.
func (d *Deputy) ReleaseResponsibility(kind ResponsibilityKind, subjectID string, m Meta) error {
	if err := d.open(); err != nil {
		return err
	}
	subjectID = strings.TrimSpace(subjectID)
	if d.state.responsibility(kind, subjectID) < 0 {
		return fmt.Errorf("deputy %s on %s %q: %w", d.state.ID, kind, subjectID, ErrNotAssigned)
	}
	var v validator
	m = d.stamp(m, &v)
	monotonic(&v, m, d.state.last)
	v.requireReason(m, "say why the deputy no longer answers for it")
	if err := v.err(); err != nil {
		return err
	}
	return d.record(DeputyResponsibilityReleased{DeputyID: d.state.ID, Subject: kind, SubjectID: subjectID}, m, d.state.Apply)
}

// maxCount bounds every activity count: a deputy does not receive a
// million people in one period, so a larger number is a typing mistake.
const maxCount = 1_000_000

func checkCounts(v *validator, c ActivityCounts) {
	for _, f := range []struct {
		field string
		n     int
	}{
		{"receptions_held", c.ReceptionsHeld}, {"people_received", c.PeopleReceived}, {"appeals_handled", c.AppealsHandled},
		{"outcomes.positive", c.Outcomes.Positive}, {"outcomes.explained", c.Outcomes.Explained},
		{"outcomes.rejected", c.Outcomes.Rejected}, {"outcomes.pending", c.Outcomes.Pending},
	} {
		if f.n < 0 || f.n > maxCount {
			v.addf(f.field, "must be a count from 0 to %d", maxCount)
		}
	}
	o := c.Outcomes
	if sum := o.Positive + o.Explained + o.Rejected + o.Pending; sum != c.AppealsHandled {
		v.addf("outcomes", "add up to %d, but %d appeals were handled", sum, c.AppealsHandled)
	}
	if c.ReceptionsHeld == 0 && c.PeopleReceived > 0 {
		v.add("people_received", "people were received, but no reception was held")
	}
}

// ReportActivity records the deputy's activity counts for a period that
// has ended by the report's effective date (UTC) and overlaps no report in
// force. The report's id is the event id.
func (d *Deputy) ReportActivity(p Period, c ActivityCounts, m Meta) error {
	if err := d.open(); err != nil {
		return err
	}
	var v validator
	m = d.stamp(m, &v)
	p.validate(&v, "period")
	checkCounts(&v, c)
	if p.Start.Valid() && p.End.Valid() && !p.End.Before(p.Start) {
		if on := DateOf(effectiveOf(m).UTC()); on.Before(p.End) {
			v.addf("period.end", "the period has not ended by the report's effective date %s: the ledger records facts, not plans", on)
		}
		if reg := DateOf(d.state.RegisteredAt.UTC()); p.Start.Before(reg) {
			v.addf("period.start", "is before the deputy was registered (%s)", reg)
		}
		// Originals carry the periods; corrections keep them.
		for _, r := range d.state.Activity {
			if r.Corrects == "" && !r.Period.End.Before(p.Start) && !p.End.Before(r.Period.Start) {
				v.rule("period", ErrPeriodOverlap, fmt.Sprintf("overlaps report %s (%s): correct that one instead", r.ID, r.Period))
				break
			}
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	return d.record(DeputyActivityReported{DeputyID: d.state.ID, ReportID: m.EventID.String(), Period: p, ActivityCounts: c}, m, d.state.Apply)
}

// CorrectActivity records that report corrects (the latest of its chain)
// should have said c. It needs a reason and takes effect when the report
// did.
func (d *Deputy) CorrectActivity(corrects string, c ActivityCounts, m Meta) error {
	if err := d.open(); err != nil {
		return err
	}
	var v validator
	corrects = strings.TrimSpace(corrects)
	i := d.state.reportIndex(corrects)
	switch {
	case corrects == "":
		v.add("corrects", "name the report to correct")
	case i < 0:
		v.rule("corrects", ErrReportNotFound, fmt.Sprintf("deputy %s has no activity report %s", d.state.ID, corrects))
	case d.state.Activity[i].Superseded():
		v.rule("corrects", ErrAlreadyCorrected, fmt.Sprintf("report %s was corrected by %s: correct that one instead", corrects, d.state.Activity[i].CorrectedBy))
	default:
		at := d.state.Activity[i].EffectiveAt
		if !m.EffectiveAt.IsZero() && !m.EffectiveAt.Equal(at) {
			v.addf("effective_at", "a correction takes effect when the report it corrects did (%s)", at.Format(time.RFC3339))
		}
		m.EffectiveAt = at
	}
	m = d.stamp(m, &v)
	v.requireReason(m, "say what was wrong with the report")
	checkCounts(&v, c)
	if err := v.err(); err != nil {
		return err
	}
	return d.record(DeputyActivityCorrected{DeputyID: d.state.ID, ReportID: m.EventID.String(), Corrects: corrects, ActivityCounts: c}, m, d.state.Apply)
}

func (d *Deputy) open() error {
	if !d.Exists() {
		return fmt.Errorf("deputy: %w", ErrNotFound)
	}
	return nil
}

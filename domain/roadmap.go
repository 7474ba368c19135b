package domain

import (
	"fmt"
	"slices"
	"strings"
)

// RoadmapLevel: the one republican roadmap, or one of the local ones.
type RoadmapLevel string

const (
	LevelRepublican RoadmapLevel = "republican"
	LevelRegional   RoadmapLevel = "regional"
)

// Valid reports whether l is a known level.
func (l RoadmapLevel) Valid() bool { return l == LevelRepublican || l == LevelRegional }

// RoadmapStatus is the lifecycle: registered → active → closed. A roadmap
// may also be closed straight from registered (withdrawn before it began).
type RoadmapStatus string

const (
	RoadmapStatusRegistered RoadmapStatus = "registered"
	RoadmapStatusActive     RoadmapStatus = "active"
	RoadmapStatusClosed     RoadmapStatus = "closed"
)

// ResponsibleRole: who answers for a roadmap.
type ResponsibleRole string

const (
	RoleDeputy   ResponsibleRole = "deputy"
	RoleOfficial ResponsibleRole = "official"
)

// Valid reports whether r is a known role.
func (r ResponsibleRole) Valid() bool { return r == RoleDeputy || r == RoleOfficial }

// Roadmap is a program's plan for one territory: its measures are
// indicators, each in its own stream.
type Roadmap struct {
	recorder
	id           string
	programID    string
	kato         string
	level        RoadmapLevel
	title        Text
	period       Period
	status       RoadmapStatus
	responsibles []Responsible // in order of assignment
}

// RebuildRoadmap folds a roadmap's stored history.
func RebuildRoadmap(history []Envelope) (*Roadmap, error) {
	r := &Roadmap{}
	if err := r.replay(history, r.apply); err != nil {
		return nil, fmt.Errorf("rebuild roadmap: %w", err)
	}
	return r, nil
}

func (r *Roadmap) ID() string            { return r.id }
func (r *Roadmap) ProgramID() string     { return r.programID }
func (r *Roadmap) TerritoryKATO() string { return r.kato }
func (r *Roadmap) Level() RoadmapLevel   { return r.level }
func (r *Roadmap) Title() Text           { return r.title }
func (r *Roadmap) Period() Period        { return r.period }
func (r *Roadmap) Status() RoadmapStatus { return r.status }

// Responsibles returns the people answerable for the roadmap, in order of
// assignment.
func (r *Roadmap) Responsibles() []Responsible { return slices.Clone(r.responsibles) }

// Exists reports whether the roadmap has been registered.
func (r *Roadmap) Exists() bool { return r.id != "" }

// Register records that the roadmap exists. program and territory are the
// registered aggregates e names (nil or empty when the caller found none):
// the roadmap's period must lie within the program's, and only the republic
// has the republican roadmap.
func (r *Roadmap) Register(e RoadmapRegistered, program *Program, territory *Territory, m Meta) error {
	if r.Exists() {
		return fmt.Errorf("roadmap %s: %w", r.id, ErrAlreadyExists)
	}
	var v validator
	m = r.stamp(m, &v)
	e.Title = e.Title.trimmed()
	validateID(&v, "roadmap_id", e.RoadmapID)
	validateID(&v, "program_id", e.ProgramID)
	validateKATO(&v, "territory_kato", e.TerritoryKATO)
	e.Title.validate(&v, "title")
	e.Period.validate(&v, "period")
	v.check(e.Level.Valid(), "level", `must be "republican" or "regional"`)

	if program == nil || !program.Exists() || program.id != e.ProgramID {
		v.rule("program_id", ErrUnknownReference, fmt.Sprintf("no program %s is registered", e.ProgramID))
	} else if !program.period.Contains(e.Period) {
		v.addf("period", "must lie within the program's period %s", program.period)
	}
	if territory == nil || !territory.Exists() || territory.kato != e.TerritoryKATO {
		v.rule("territory_kato", ErrUnknownReference, fmt.Sprintf("no territory %s is registered", e.TerritoryKATO))
	} else if e.Level.Valid() && (e.Level == LevelRepublican) != (territory.kind == TerritoryRepublic) {
		v.addf("level", "a %s roadmap cannot belong to a %s: the republican roadmap is the republic's, every other is regional", e.Level, territory.kind)
	}
	if err := v.err(); err != nil {
		return err
	}
	return r.record(e, m, r.apply)
}

// Activate puts a registered roadmap in force.
func (r *Roadmap) Activate(m Meta) error {
	if err := r.open(); err != nil {
		return err
	}
	if r.status != RoadmapStatusRegistered {
		return fmt.Errorf("roadmap %s is already %s: %w", r.id, r.status, ErrInvalidTransition)
	}
	var v validator
	m = r.stamp(m, &v)
	if err := v.err(); err != nil {
		return err
	}
	return r.record(RoadmapActivated{RoadmapID: r.id}, m, r.apply)
}

// Close ends the roadmap; it needs a reason.
func (r *Roadmap) Close(m Meta) error {
	if err := r.open(); err != nil {
		return err
	}
	var v validator
	m = r.stamp(m, &v)
	v.requireReason(m, "say why the roadmap is closed")
	if err := v.err(); err != nil {
		return err
	}
	return r.record(RoadmapClosed{RoadmapID: r.id}, m, r.apply)
}

// AssignResponsible makes a deputy or an official answerable for the roadmap.
func (r *Roadmap) AssignResponsible(p Responsible, m Meta) error {
	if err := r.open(); err != nil {
		return err
	}
	p.PersonID = cleanText(p.PersonID, false)
	p.DisplayName = cleanText(p.DisplayName, false)
	if r.responsible(p.PersonID) >= 0 {
		return fmt.Errorf("person %s on roadmap %s: %w", p.PersonID, r.id, ErrAlreadyAssigned)
	}
	var v validator
	m = r.stamp(m, &v)
	validateNewPersonID(&v, "person_id", p.PersonID)
	v.check(p.Role.Valid(), "role", `must be "deputy" or "official"`)
	if p.DisplayName == "" {
		v.add("display_name", "is required")
	} else {
		validateText(&v, "display_name", p.DisplayName, false, maxShortText)
	}
	if err := v.err(); err != nil {
		return err
	}
	return r.record(RoadmapResponsibleAssigned{RoadmapID: r.id, Responsible: p}, m, r.apply)
}

// UnassignResponsible releases a person from the roadmap; it needs a reason.
func (r *Roadmap) UnassignResponsible(personID string, m Meta) error {
	if err := r.open(); err != nil {
		return err
	}
	personID = strings.TrimSpace(personID)
	if r.responsible(personID) < 0 {
		return fmt.Errorf("person %q on roadmap %s: %w", personID, r.id, ErrNotAssigned)
	}
	var v validator
	m = r.stamp(m, &v)
	v.requireReason(m, "say why the person is no longer responsible")
	if err := v.err(); err != nil {
		return err
	}
	return r.record(RoadmapResponsibleUnassigned{RoadmapID: r.id, PersonID: personID}, m, r.apply)
}

// open is the precondition of every change after registration.
func (r *Roadmap) open() error {
	switch {
	case !r.Exists():
		return fmt.Errorf("roadmap: %w", ErrNotFound)
	case r.status == RoadmapStatusClosed:
		return fmt.Errorf("roadmap %s: %w", r.id, ErrRoadmapClosed)
	}
	return nil
}

func (r *Roadmap) responsible(personID string) int {
	return slices.IndexFunc(r.responsibles, func(p Responsible) bool { return p.PersonID == personID })
}

func (r *Roadmap) apply(ev Event, _ Meta) error {
	if e, ok := ev.(RoadmapRegistered); ok {
		if r.Exists() {
			return invalidHistory("roadmap %s registered twice", r.id)
		}
		r.id, r.programID, r.kato, r.level = e.RoadmapID, e.ProgramID, e.TerritoryKATO, e.Level
		r.title, r.period, r.status = e.Title, e.Period, RoadmapStatusRegistered
		return nil
	}
	if err := r.owns(ev); err != nil {
		return err
	}
	switch e := ev.(type) {
	case RoadmapActivated:
		r.status = RoadmapStatusActive
	case RoadmapClosed:
		r.status = RoadmapStatusClosed
	case RoadmapResponsibleAssigned:
		r.responsibles = append(r.responsibles, e.Responsible)
	case RoadmapResponsibleUnassigned:
		if i := r.responsible(e.PersonID); i >= 0 {
			r.responsibles = slices.Delete(r.responsibles, i, i+1)
		}
	}
	return nil
}

// owns checks that a non-creation event belongs to this existing roadmap.
func (r *Roadmap) owns(ev Event) error {
	e, ok := ev.(interface{ roadmapID() string })
	switch {
	case !ok:
		return invalidHistory("%s does not apply to a roadmap", ev.EventType())
	case !r.Exists():
		return invalidHistory("%s before %s", ev.EventType(), TypeRoadmapRegistered)
	case e.roadmapID() != r.id:
		return invalidHistory("%s of roadmap %s in the history of roadmap %s", ev.EventType(), e.roadmapID(), r.id)
	}
	return nil
}

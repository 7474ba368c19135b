package domain

import "time"

// Event types. These strings are stored with every event and are permanent:
// a changed shape gets a new version suffix and an upcaster in codec.go.
const (
	TypeProgramRegistered            = "program.registered.v1"
	TypeTerritoryRegistered          = "territory.registered.v1"
	TypeRoadmapRegistered            = "roadmap.registered.v1"
	TypeRoadmapActivated             = "roadmap.activated.v1"
	TypeRoadmapClosed                = "roadmap.closed.v1"
	TypeRoadmapResponsibleAssigned   = "roadmap.responsible_assigned.v1"
	TypeRoadmapResponsibleUnassigned = "roadmap.responsible_unassigned.v1"
	TypeIndicatorAdded               = "indicator.added.v1"
	TypeProgressReported             = "indicator.progress_reported.v1"
	TypeReportCorrected              = "indicator.report_corrected.v1"
	TypeIndicatorRetargeted          = "indicator.retargeted.v1"
	TypeIndicatorStatusChanged       = "indicator.status_changed.v1"
	TypeIndicatorCancelled           = "indicator.cancelled.v1"
	TypeIndicatorResponsibleAssigned = "indicator.responsible_assigned.v1"
)

// ProgramRegistered: an election program exists.
type ProgramRegistered struct {
	ProgramID string      `json:"program_id"`
	Name      Text        `json:"name"`
	Kind      ProgramKind `json:"kind"`
	Period    Period      `json:"period"`
}

// TerritoryRegistered: an administrative unit exists. ParentKATO is empty
// only for the republic.
type TerritoryRegistered struct {
	KATO       string        `json:"kato"`
	Name       Text          `json:"name"`
	Kind       TerritoryKind `json:"kind"`
	ParentKATO string        `json:"parent_kato,omitempty"`
}

// RoadmapRegistered: a roadmap of a program for a territory exists.
type RoadmapRegistered struct {
	RoadmapID     string       `json:"roadmap_id"`
	ProgramID     string       `json:"program_id"`
	TerritoryKATO string       `json:"territory_kato"`
	Level         RoadmapLevel `json:"level"`
	Title         Text         `json:"title"`
	Period        Period       `json:"period"`
}

// RoadmapActivated: the roadmap is in force; its measures are being worked on.
type RoadmapActivated struct {
	RoadmapID string `json:"roadmap_id"`
}

// RoadmapClosed: the roadmap accepts no further changes. The reason is in
// the metadata.
type RoadmapClosed struct {
	RoadmapID string `json:"roadmap_id"`
}

// Responsible is a deputy or an official answerable for a roadmap.
type Responsible struct {
	PersonID    string          `json:"person_id" doc:"An opaque person id."`
	Role        ResponsibleRole `json:"role" doc:"What the person answers as."`
	DisplayName string          `json:"display_name" doc:"The name to show."`
}

// RoadmapResponsibleAssigned: a person became answerable for the roadmap.
type RoadmapResponsibleAssigned struct {
	RoadmapID string `json:"roadmap_id"`
	Responsible
}

// RoadmapResponsibleUnassigned: a person is no longer answerable for the
// roadmap. The reason is in the metadata.
type RoadmapResponsibleUnassigned struct {
	RoadmapID string `json:"roadmap_id"`
	PersonID  string `json:"person_id"`
}

// IndicatorAdded: a measure of a roadmap exists. Baseline, Target, Unit and
// Direction are set for numeric indicators only.
type IndicatorAdded struct {
	IndicatorID   string        `json:"indicator_id"`
	RoadmapID     string        `json:"roadmap_id"`
	Title         Text          `json:"title"`
	Kind          IndicatorKind `json:"kind"`
	Baseline      *float64      `json:"baseline,omitempty"`
	Target        *float64      `json:"target,omitempty"`
	Unit          Text          `json:"unit,omitzero"`
	Direction     Direction     `json:"direction,omitempty"`
	Deadline      Date          `json:"deadline"`
	Weight        float64       `json:"weight"`
	ResponsibleID string        `json:"responsible_id,omitempty"`
}

// Reading is what a report says: a value for a numeric indicator, or
// whether a milestone is done.
type Reading struct {
	Value *float64 `json:"value,omitempty"`
	Done  bool     `json:"done"`
}

// ProgressReported: the indicator stood at Reading on AsOf, on the strength
// of Evidence. AsOf equals the metadata's effective_at.
type ProgressReported struct {
	IndicatorID string `json:"indicator_id"`
	ReportID    string `json:"report_id"`
	Reading
	AsOf     time.Time `json:"as_of"`
	Evidence Evidence  `json:"evidence"`
}

// ReportCorrected: the report Corrects (an original or an earlier
// correction) should have said Reading. The correction takes effect when the
// report it corrects did; the reason is in the metadata.
type ReportCorrected struct {
	IndicatorID string `json:"indicator_id"`
	ReportID    string `json:"report_id"`
	Corrects    string `json:"corrects"`
	Reading
	Evidence Evidence `json:"evidence"`
}

// TargetChange is a new target, deadline or weight; nil fields are unchanged.
type TargetChange struct {
	Target   *float64 `json:"target,omitempty"`
	Deadline *Date    `json:"deadline,omitempty"`
	Weight   *float64 `json:"weight,omitempty"`
}

// IndicatorRetargeted: the indicator's target, deadline or weight changed.
// The reason is in the metadata.
type IndicatorRetargeted struct {
	IndicatorID string `json:"indicator_id"`
	TargetChange
}

// IndicatorStatusChanged: someone set the status explicitly. From is the
// status just before, for readers of the raw feed.
type IndicatorStatusChanged struct {
	IndicatorID string          `json:"indicator_id"`
	From        IndicatorStatus `json:"from"`
	To          IndicatorStatus `json:"to"`
}

// IndicatorCancelled: the measure is dropped; its history stays readable.
type IndicatorCancelled struct {
	IndicatorID string `json:"indicator_id"`
}

// IndicatorResponsibleAssigned: PersonID now answers for the indicator.
type IndicatorResponsibleAssigned struct {
	IndicatorID string `json:"indicator_id"`
	PersonID    string `json:"person_id"`
}

func (ProgramRegistered) EventType() string            { return TypeProgramRegistered }
func (TerritoryRegistered) EventType() string          { return TypeTerritoryRegistered }
func (RoadmapRegistered) EventType() string            { return TypeRoadmapRegistered }
func (RoadmapActivated) EventType() string             { return TypeRoadmapActivated }
func (RoadmapClosed) EventType() string                { return TypeRoadmapClosed }
func (RoadmapResponsibleAssigned) EventType() string   { return TypeRoadmapResponsibleAssigned }
func (RoadmapResponsibleUnassigned) EventType() string { return TypeRoadmapResponsibleUnassigned }
func (IndicatorAdded) EventType() string               { return TypeIndicatorAdded }
func (ProgressReported) EventType() string             { return TypeProgressReported }
func (ReportCorrected) EventType() string              { return TypeReportCorrected }
func (IndicatorRetargeted) EventType() string          { return TypeIndicatorRetargeted }
func (IndicatorStatusChanged) EventType() string       { return TypeIndicatorStatusChanged }
func (IndicatorCancelled) EventType() string           { return TypeIndicatorCancelled }
func (IndicatorResponsibleAssigned) EventType() string { return TypeIndicatorResponsibleAssigned }

// The aggregate id each event belongs to, so that a fold can refuse events
// of another aggregate.
func (e RoadmapActivated) roadmapID() string             { return e.RoadmapID }
func (e RoadmapClosed) roadmapID() string                { return e.RoadmapID }
func (e RoadmapResponsibleAssigned) roadmapID() string   { return e.RoadmapID }
func (e RoadmapResponsibleUnassigned) roadmapID() string { return e.RoadmapID }

func (e ProgressReported) indicatorID() string             { return e.IndicatorID }
func (e ReportCorrected) indicatorID() string              { return e.IndicatorID }
func (e IndicatorRetargeted) indicatorID() string          { return e.IndicatorID }
func (e IndicatorStatusChanged) indicatorID() string       { return e.IndicatorID }
func (e IndicatorCancelled) indicatorID() string           { return e.IndicatorID }
func (e IndicatorResponsibleAssigned) indicatorID() string { return e.IndicatorID }

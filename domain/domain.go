// Package domain is the pure core of PromiseLedger: programs, territories,
// roadmaps and their indicators, the events that change them, the rules that
// decide whether a change is allowed, and the codec between events and the
// bytes the event store keeps.
//
// Nothing here does I/O, reads a clock or makes random ids: callers pass the
// time and the ids in through Meta. Aggregates keep their fields unexported,
// are rebuilt only from their own events, and their behaviour methods validate
// a request and then record new events (read them back with Changes).
package domain

import (
	"time"

	"github.com/google/uuid"
)

// Event is a fact recorded in the ledger. EventType is a stable name with a
// version suffix (indicator.progress_reported.v1); it is part of the stored
// data and is never derived from a Go type name.
type Event interface {
	EventType() string
}

// Meta is what every event carries besides its data: who recorded it, why,
// in answer to what, and on the two time axes.
type Meta struct {
	EventID   uuid.UUID
	ActorID   string
	ActorRole string
	// Reason is required for corrections, cancellations, re-targeting,
	// backward status changes, unassignments and closing a roadmap.
	Reason        string
	CorrelationID uuid.UUID
	CausationID   uuid.UUID
	// EffectiveAt is when the fact became true in the world; zero means
	// RecordedAt. It never lies after RecordedAt.
	EffectiveAt time.Time
	// RecordedAt is when the ledger learned the fact.
	RecordedAt time.Time
}

// Envelope is an event with its metadata: one element of a history.
type Envelope struct {
	Event Event
	Meta  Meta
}

// Stream names. The part after the prefix is the aggregate's id: a canonical
// UUID, or a KATO code for territories.
const (
	programStreamPrefix   = "program-"
	territoryStreamPrefix = "territory-"
	roadmapStreamPrefix   = "roadmap-"
	indicatorStreamPrefix = "indicator-"
)

// ProgramStream is the name of a program's stream.
func ProgramStream(id string) string { return programStreamPrefix + id }

// TerritoryStream is the name of a territory's stream.
func TerritoryStream(kato string) string { return territoryStreamPrefix + kato }

// RoadmapStream is the name of a roadmap's stream.
func RoadmapStream(id string) string { return roadmapStreamPrefix + id }

// IndicatorStream is the name of an indicator's stream. Each indicator has
// its own so that reports on different indicators never conflict.
func IndicatorStream(id string) string { return indicatorStreamPrefix + id }

package domain

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// recorder is the bookkeeping every aggregate shares: how many stored events
// it was rebuilt from, the events its behaviour methods recorded since, and
// the two times that bound the metadata of a new event.
type recorder struct {
	version      int64
	changes      []Envelope
	createdAt    time.Time // effective time of the creation event
	lastRecorded time.Time
}

// Version is the number of stored events the aggregate was rebuilt from: the
// version to expect when appending its changes.
func (r *recorder) Version() int64 { return r.version }

// Changes returns the events recorded since the aggregate was rebuilt, in
// order, ready to encode and append.
func (r *recorder) Changes() []Envelope {
	return append([]Envelope(nil), r.changes...)
}

// replay folds a stored history through apply.
func (r *recorder) replay(history []Envelope, apply func(Event, Meta) error) error {
	for i, env := range history {
		if env.Event == nil {
			return invalidHistory("event %d is empty", i+1)
		}
		if err := apply(env.Event, env.Meta); err != nil {
			return fmt.Errorf("event %d (%s): %w", i+1, env.Event.EventType(), err)
		}
		r.observe(env.Meta)
		r.version++
	}
	return nil
}

// record applies a new event and keeps it for Changes.
func (r *recorder) record(e Event, m Meta, apply func(Event, Meta) error) error {
	if err := apply(e, m); err != nil {
		return err
	}
	r.observe(m)
	r.changes = append(r.changes, Envelope{Event: e, Meta: m})
	return nil
}

func (r *recorder) observe(m Meta) {
	if r.createdAt.IsZero() {
		r.createdAt = m.EffectiveAt
	}
	if m.RecordedAt.After(r.lastRecorded) {
		r.lastRecorded = m.RecordedAt
	}
}

// stamp checks and completes the metadata of a new event:
//   - event id, actor id and recorded time are required;
//   - RecordedAt never goes back within a stream (a skewed clock is clamped
//     to the last event's time), so "as known at time T" is always a prefix
//     of every stream;
//   - a zero EffectiveAt means RecordedAt; it may not lie after RecordedAt
//     (the ledger records facts, not plans) nor before the aggregate was
//     created, so an "as of effective date" filter that keeps an event also
//     keeps the creation event it depends on.
func (r *recorder) stamp(m Meta, v *validator) Meta {
	m.ActorID = cleanText(m.ActorID, false)
	m.ActorRole = cleanText(m.ActorRole, false)
	m.Reason = cleanText(m.Reason, true)
	v.check(m.EventID != uuid.Nil, "event_id", "is required")
	if m.ActorID == "" {
		v.add("actor_id", "is required")
	} else {
		validateText(v, "actor_id", m.ActorID, false, maxShortText)
	}
	validateText(v, "actor_role", m.ActorRole, false, maxShortText)
	validateText(v, "reason", m.Reason, true, maxReason)
	if m.RecordedAt.IsZero() {
		v.add("recorded_at", "is required")
	}
	m.RecordedAt = m.RecordedAt.UTC()
	if m.RecordedAt.Before(r.lastRecorded) {
		m.RecordedAt = r.lastRecorded
	}
	if m.EffectiveAt.IsZero() {
		m.EffectiveAt = m.RecordedAt
	}
	m.EffectiveAt = m.EffectiveAt.UTC()
	if m.EffectiveAt.After(m.RecordedAt) {
		v.addf("effective_at", "%s is after the time of recording (%s)", m.EffectiveAt.Format(time.RFC3339), m.RecordedAt.Format(time.RFC3339))
	}
	if !r.createdAt.IsZero() && m.EffectiveAt.Before(r.createdAt) {
		v.addf("effective_at", "%s is before the record took effect (%s)", m.EffectiveAt.Format(time.RFC3339), r.createdAt.Format(time.RFC3339))
	}
	return m
}

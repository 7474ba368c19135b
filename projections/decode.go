package projections

import (
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/projections/pgtext"
)

// Every event a projector reads passes through here, so that read models
// hold text in one documented escaped form (package pgtext,
// docs/events.md "Text in read models") whatever the log holds: U+0000,
// invalid UTF-8 or a lone surrogate never reaches a text or jsonb column.
// The log, and the facts tables that keep an event's bytes, keep the exact
// bytes.

// decodeRecorded decodes an event from the log through the domain's
// stored-event rules. The record it returns has its stream in escaped form
// (its data stay the exact bytes, for the facts tables). An event that
// breaks the rules comes back as an *EventError: the projector stops on it
// and names it.
func decodeRecorded(r eventstore.Recorded) (eventstore.Recorded, domain.Event, domain.Meta, error) {
	r.Stream = pgtext.String(r.Stream)
	ev, m, err := domain.DecodeStored(r.Stream, r.Type, pgtext.JSON(r.Data), pgtext.JSON(r.Metadata))
	if err != nil {
		return r, nil, domain.Meta{}, &EventError{Event: r, Err: err}
	}
	return r, ev, m, nil
}

// decodeFact decodes an event a projector stored in its facts table: it
// passed decodeRecorded on the way in.
func decodeFact(typ string, data, metadata []byte) (domain.Event, domain.Meta, error) {
	return domain.Decode(typ, pgtext.JSON(data), pgtext.JSON(metadata))
}

// readableJSON is an event's data as read models show it.
func readableJSON(data []byte) []byte { return pgtext.JSON(data) }

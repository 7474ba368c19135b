package projections

import (
	"context"

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

// A replay decodes each page of the log ahead, in a goroutine of its own,
// while it applies the page before: its Apply, then its COPY, which the
// server works through on the other core, no longer wait for the decoding
// (decodeAhead). Each replay decodes its own pages, so no two projectors
// share a decoded event.

// aheadDecoder is a Replay whose Apply decodes the events of the streams
// it names with the decoder decoderIn gives it: replayFrom then decodes
// them ahead.
type aheadDecoder interface {
	decodes(stream string) bool
}

// decodedEvent is an event as decodeRecorded decodes it.
type decodedEvent struct {
	rec  eventstore.Recorded
	ev   domain.Event
	meta domain.Meta
	err  error
}

// decodedPage is a page's events decoded ahead, by their position in the
// log (unique in it, where an event id need not be across streams).
type decodedPage map[eventstore.Position]*decodedEvent

// aheadKey is the key under which replayRun puts a page decoded ahead in
// the context of Apply.
type aheadKey struct{}

// decodePage decodes the events of page whose stream wants names.
func decodePage(page []eventstore.Recorded, wants func(string) bool) decodedPage {
	decoded := make([]decodedEvent, 0, len(page))
	for _, rec := range page {
		if wants(rec.Stream) {
			d := decodedEvent{}
			d.rec, d.ev, d.meta, d.err = decodeRecorded(rec)
			decoded = append(decoded, d)
		}
	}
	out := make(decodedPage, len(decoded))
	for i := range decoded {
		out[decoded[i].rec.Position] = &decoded[i]
	}
	return out
}

// decoderIn is how Apply decodes an event of its page: as it was decoded
// ahead, if it was, and with decodeRecorded otherwise.
func decoderIn(ctx context.Context) func(eventstore.Recorded) (eventstore.Recorded, domain.Event, domain.Meta, error) {
	page, _ := ctx.Value(aheadKey{}).(decodedPage)
	if len(page) == 0 {
		return decodeRecorded
	}
	return func(r eventstore.Recorded) (eventstore.Recorded, domain.Event, domain.Meta, error) {
		if d := page[r.Position]; d != nil && d.rec.ID == r.ID {
			return d.rec, d.ev, d.meta, d.err
		}
		return decodeRecorded(r)
	}
}

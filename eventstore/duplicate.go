package eventstore

import "fmt"

// MatchDuplicate decides what an append of events to stream means when some
// of their ids are already stored. found[i] is the stored event with the id of
// events[i], or nil. It returns the original result when every event is stored
// in stream, in the same order, at consecutive versions and at the place
// expected demands; otherwise an error wrapping ErrDuplicateEvent. Adapters
// share it so that idempotency means the same everywhere.
func MatchDuplicate(stream string, expected Expected, events []Event, found []*Recorded) (AppendResult, error) {
	for i, f := range found {
		switch {
		case f == nil:
			return AppendResult{}, fmt.Errorf("event %s: some events of this append are stored and others are not: %w", events[i].ID, ErrDuplicateEvent)
		case f.Stream != stream:
			return AppendResult{}, fmt.Errorf("event %s is stored in stream %q, not %q: %w", f.ID, f.Stream, stream, ErrDuplicateEvent)
		case i > 0 && f.Version != found[0].Version+int64(i):
			return AppendResult{}, fmt.Errorf("event %s is stored at version %d, not right after %s: %w", f.ID, f.Version, found[i-1].ID, ErrDuplicateEvent)
		case f.Type != events[i].Type:
			return AppendResult{}, fmt.Errorf("event %s is stored with type %q, not %q: %w", f.ID, f.Type, events[i].Type, ErrDuplicateEvent)
		}
	}
	if !expected.IsAny() && found[0].Version != expected.Version()+1 {
		return AppendResult{}, fmt.Errorf("events are stored from version %d, but this append expects version %d: %w", found[0].Version, expected.Version(), ErrDuplicateEvent)
	}
	last := found[len(found)-1]
	return AppendResult{Version: last.Version, First: found[0].Position, Last: last.Position, Duplicate: true}, nil
}

package storetest

import (
	"errors"
	"testing"

	"promiseledger/eventstore"
)

// testIdempotentRetry: appending events that are all stored already, in the
// same stream at the same place, returns the original result with Duplicate
// set and writes nothing, also through a reopened store; any other reuse of
// stored ids is ErrDuplicateEvent and writes nothing.
func testIdempotentRetry(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)
	stream, other := streamName("retried"), streamName("other")

	batch := newEvents(2, "batch") // a, b
	original := mustAppend(t, ctx, s, stream, eventstore.Exactly(0), batch)
	want := original
	want.Duplicate = true

	stored := len(batch) // events in the store
	retry := func(t *testing.T, store eventstore.Store, expected eventstore.Expected) {
		t.Helper()
		log := readLog(t, ctx, s, stored)
		res, err := store.Append(ctx, stream, expected, batch)
		if err != nil {
			t.Fatalf("Append(%q, %s) of stored events: %v", stream, expected, err)
		}
		if res != want {
			t.Errorf("Append(%q, %s) of stored events = %+v, want %+v", stream, expected, res, want)
		}
		assertLogUnchanged(t, ctx, s, log)
		recs, err := store.ReadStream(ctx, stream, 1, len(batch))
		if err != nil {
			t.Fatalf("ReadStream(%q): %v", stream, err)
		}
		assertEvents(t, "ReadStream", recs, stream, 1, batch)
	}
	t.Run("same expected version", func(t *testing.T) { retry(t, s, eventstore.Exactly(0)) })
	t.Run("any", func(t *testing.T) { retry(t, s, eventstore.Any()) })
	t.Run("through a reopened store", func(t *testing.T) {
		reopened := h.Reopen(t, s)
		assertRecords(t, "ReadStream of the reopened store", readStream(t, ctx, reopened, stream), readStream(t, ctx, s, stream))
		retry(t, reopened, eventstore.Exactly(0))
	})

	// The stream moves on; a late retry still finds its events where they are.
	mustAppend(t, ctx, s, stream, eventstore.Exactly(2), newEvents(1, "next"))
	stored++
	t.Run("after the stream moved on", func(t *testing.T) { retry(t, s, eventstore.Exactly(0)) })
	if t.Failed() {
		t.FailNow()
	}

	fresh := newEvent(`{"fresh":true}`)
	a, b := batch[0], batch[1]
	retyped := b
	retyped.Type = "storetest.something_else.v1"
	notRetries := []struct {
		name     string
		stream   string
		expected eventstore.Expected
		events   []eventstore.Event
	}{
		{"same ids in another stream", other, eventstore.NoStream(), batch},
		{"same ids in another stream with any", other, eventstore.Any(), batch},
		{"one stored id in another stream", other, eventstore.NoStream(), []eventstore.Event{b}},
		{"stored id then a new one", stream, eventstore.Exactly(3), []eventstore.Event{a, fresh}},
		{"new id then a stored one", stream, eventstore.Exactly(3), []eventstore.Event{fresh, b}},
		{"stored ids in another order", stream, eventstore.Exactly(0), []eventstore.Event{b, a}},
		{"stored ids expected at another place", stream, eventstore.Exactly(1), batch},
		{"stored id with another type", stream, eventstore.Exactly(0), []eventstore.Event{a, retyped}},
	}
	for _, c := range notRetries {
		t.Run(c.name, func(t *testing.T) {
			log := readLog(t, ctx, s, stored)
			_, err := s.Append(ctx, c.stream, c.expected, c.events)
			if !errors.Is(err, eventstore.ErrDuplicateEvent) {
				t.Errorf("Append(%q, %s): error %v, want ErrDuplicateEvent", c.stream, c.expected, err)
			}
			assertLogUnchanged(t, ctx, s, log)
		})
	}

	// The new id of the mixed batches was not stored.
	res := mustAppend(t, ctx, s, stream, eventstore.Exactly(3), []eventstore.Event{fresh})
	if res.Version != 4 {
		t.Errorf("Append of the new event: Version %d, want 4", res.Version)
	}
	if v := streamVersion(t, ctx, s, other); v != 0 {
		t.Errorf("StreamVersion(%q) = %d, want 0", other, v)
	}
}

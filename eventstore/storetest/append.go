package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
)

// testAppendAndReadStream: two appends to a stream with another stream's
// append between them read back field by field, through every window of
// ReadStream, ReadAll, StreamVersion and Head.
func testAppendAndReadStream(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)
	stream, other := streamName("order"), streamName("other")

	first := []eventstore.Event{
		{ID: uuid.New(), Type: "order.placed.v1", Data: []byte(`{"n":1}`), Metadata: []byte(`{"by":"alice"}`)},
		{ID: uuid.New(), Type: "order.line_added.v2", Data: []byte(`{"n":2}`)}, // no metadata
		{ID: uuid.New(), Type: "order.noted.v1"},                               // neither data nor metadata
	}
	second := newEvents(2, "second")
	between := newEvents(1, "between")

	start := time.Now()
	r1 := mustAppend(t, ctx, s, stream, eventstore.NoStream(), first)
	mustAppend(t, ctx, s, other, eventstore.NoStream(), between)
	r2 := mustAppend(t, ctx, s, stream, eventstore.Exactly(3), second)
	end := time.Now()

	all := readStream(t, ctx, s, stream)
	assertEvents(t, "ReadStream(1, 10000)", all, stream, 1, append(append([]eventstore.Event{}, first...), second...))
	if t.Failed() {
		t.FailNow()
	}
	assertGlobalOrder(t, "ReadStream", all)
	for i, r := range all {
		if r.StoredAt.IsZero() || r.StoredAt.Before(start.Add(-time.Hour)) || r.StoredAt.After(end.Add(time.Hour)) {
			t.Errorf("event %d: StoredAt = %v, want the time of the append (%v)", i, r.StoredAt, start)
		}
	}
	wantR1 := eventstore.AppendResult{Version: 3, First: all[0].Position, Last: all[2].Position}
	wantR2 := eventstore.AppendResult{Version: 5, First: all[3].Position, Last: all[4].Position}
	if r1 != wantR1 {
		t.Errorf("first Append = %+v, want %+v", r1, wantR1)
	}
	if r2 != wantR2 {
		t.Errorf("second Append = %+v, want %+v", r2, wantR2)
	}

	windows := []struct {
		name        string
		from        eventstore.Version
		limit       int
		first, last eventstore.Version // 0, 0: no events
	}{
		{"from 0 means from the start", 0, 100, 1, 5},
		{"from the middle", 3, 100, 3, 5},
		{"limit", 2, 2, 2, 3},
		{"limit 1", 1, 1, 1, 1},
		{"last event", 5, 10, 5, 5},
		{"past the end", 6, 10, 0, 0},
	}
	for _, w := range windows {
		t.Run(w.name, func(t *testing.T) {
			got, err := s.ReadStream(ctx, stream, w.from, w.limit)
			if err != nil {
				t.Fatalf("ReadStream(%q, %d, %d): %v", stream, w.from, w.limit, err)
			}
			var want []eventstore.Recorded
			if w.first > 0 {
				want = all[w.first-1 : w.last]
			}
			assertRecords(t, "ReadStream", got, want)
		})
	}

	missing, err := s.ReadStream(ctx, streamName("missing"), 1, 10)
	if err != nil || len(missing) != 0 {
		t.Errorf("ReadStream(missing stream) = %d events, %v; want none and no error", len(missing), err)
	}
	if v := streamVersion(t, ctx, s, stream); v != 5 {
		t.Errorf("StreamVersion(%q) = %d, want 5", stream, v)
	}
	if v := streamVersion(t, ctx, s, other); v != 1 {
		t.Errorf("StreamVersion(%q) = %d, want 1", other, v)
	}
	if v := streamVersion(t, ctx, s, streamName("missing")); v != 0 {
		t.Errorf("StreamVersion(missing stream) = %d, want 0", v)
	}

	log := readLog(t, ctx, s, 6)
	otherRecs := readStream(t, ctx, s, other)
	if len(otherRecs) != 1 {
		t.Fatalf("ReadStream(%q): %d events, want 1", other, len(otherRecs))
	}
	assertRecords(t, "ReadAll", log, []eventstore.Recorded{all[0], all[1], all[2], otherRecs[0], all[3], all[4]})
	assertHead(t, ctx, s, all[4].Position)
}

// testExpectedVersion: every failed precondition is a ConflictError with the
// stream's actual version and leaves no trace, not even its event ids.
func testExpectedVersion(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)

	conflicts := []struct {
		name     string
		existing int // events in the stream beforehand
		expected eventstore.Expected
	}{
		{"no stream on an existing stream", 2, eventstore.NoStream()},
		{"stale version", 2, eventstore.Exactly(1)},
		{"next version (would leave a gap)", 2, eventstore.Exactly(3)},
		{"far future version", 2, eventstore.Exactly(10)},
		{"a version on a missing stream", 0, eventstore.Exactly(1)},
	}
	stored := 0 // events in the store
	for _, c := range conflicts {
		t.Run(c.name, func(t *testing.T) {
			stream := streamName("conflict")
			if c.existing > 0 {
				mustAppend(t, ctx, s, stream, eventstore.NoStream(), newEvents(c.existing, "existing"))
				stored += c.existing
			}
			before := readLog(t, ctx, s, stored)
			evs := newEvents(2, "rejected")

			_, err := s.Append(ctx, stream, c.expected, evs)
			assertConflict(t, err, stream, c.expected, eventstore.Version(c.existing))
			assertLogUnchanged(t, ctx, s, before)
			if v := streamVersion(t, ctx, s, stream); v != eventstore.Version(c.existing) {
				t.Errorf("StreamVersion after the conflict = %d, want %d", v, c.existing)
			}

			// The rejected ids were not stored anywhere: the same events go
			// in, as new ones, at the right version.
			res := mustAppend(t, ctx, s, stream, eventstore.Exactly(eventstore.Version(c.existing)), evs)
			stored += len(evs)
			if want := eventstore.Version(c.existing + 2); res.Version != want {
				t.Errorf("Append at the right version: Version %d, want %d", res.Version, want)
			}
			assertEvents(t, "ReadStream after the retry", readStreamFrom(t, ctx, s, stream, eventstore.Version(c.existing+1)), stream, eventstore.Version(c.existing+1), evs)
		})
	}

	successes := []struct {
		name     string
		existing int
		expected eventstore.Expected
	}{
		{"any on a missing stream", 0, eventstore.Any()},
		{"any on an existing stream", 2, eventstore.Any()},
		{"no stream on a missing stream", 0, eventstore.NoStream()},
		{"exactly the current version", 2, eventstore.Exactly(2)},
	}
	for _, c := range successes {
		t.Run(c.name, func(t *testing.T) {
			stream := streamName("accept")
			if c.existing > 0 {
				mustAppend(t, ctx, s, stream, eventstore.NoStream(), newEvents(c.existing, "existing"))
			}
			evs := newEvents(2, "accepted")
			res := mustAppend(t, ctx, s, stream, c.expected, evs)
			if want := eventstore.Version(c.existing + 2); res.Version != want {
				t.Errorf("Append: Version %d, want %d", res.Version, want)
			}
			assertEvents(t, "ReadStream", readStreamFrom(t, ctx, s, stream, eventstore.Version(c.existing+1)), stream, eventstore.Version(c.existing+1), evs)
		})
	}
}

// testInvalidAppend: malformed appends fail with ErrInvalid and store nothing.
func testInvalidAppend(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)
	stream := streamName("invalid")

	repeated := newEvent(`{}`)
	cases := []struct {
		name   string
		stream string
		events []eventstore.Event
	}{
		{"empty stream name", "", newEvents(1, "x")},
		{"stream name over 512 bytes", strings.Repeat("s", 513), newEvents(1, "x")},
		{"nil events", stream, nil},
		{"no events", stream, []eventstore.Event{}},
		{"nil id", stream, []eventstore.Event{newEvent(`{}`), {Type: eventType, Data: []byte(`{}`)}}},
		{"empty type", stream, []eventstore.Event{newEvent(`{}`), {ID: uuid.New(), Data: []byte(`{}`)}}},
		{"id repeated in the batch", stream, []eventstore.Event{repeated, newEvent(`{}`), repeated}},
	}
	var valid []eventstore.Event // the well-formed events of rejected batches
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, expected := range []eventstore.Expected{eventstore.Any(), eventstore.NoStream()} {
				_, err := s.Append(ctx, c.stream, expected, c.events)
				if !errors.Is(err, eventstore.ErrInvalid) {
					t.Errorf("Append(%s): error %v, want ErrInvalid", expected, err)
				}
			}
			assertLogUnchanged(t, ctx, s, nil)
			if v := streamVersion(t, ctx, s, stream); v != 0 {
				t.Errorf("StreamVersion(%q) = %d, want 0", stream, v)
			}
		})
		for _, e := range c.events {
			if e.ID != uuid.Nil && e.Type != "" && e.ID != repeated.ID {
				valid = append(valid, e)
			}
		}
	}
	// None of the well-formed events was stored: they append as new ones.
	res := mustAppend(t, ctx, s, stream, eventstore.NoStream(), valid)
	if res.Version != eventstore.Version(len(valid)) {
		t.Errorf("Append of the well-formed events: Version %d, want %d", res.Version, len(valid))
	}
}

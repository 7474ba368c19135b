package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
)

const eventType = "storetest.something_happened.v1"

// testContext ends when the subtest does or after testTimeout.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// streamName is unique so that a failure message names one stream only.
func streamName(prefix string) string {
	return prefix + "-" + uuid.NewString()[:8]
}

func newEvent(data string) eventstore.Event {
	return eventstore.Event{
		ID:       uuid.New(),
		Type:     eventType,
		Data:     []byte(data),
		Metadata: []byte(`{"source":"storetest"}`),
	}
}

func newEvents(n int, label string) []eventstore.Event {
	evs := make([]eventstore.Event, n)
	for i := range evs {
		evs[i] = newEvent(fmt.Sprintf(`{"label":%q,"n":%d}`, label, i))
	}
	return evs
}

func idsOf(evs []eventstore.Event) []uuid.UUID {
	ids := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// mustAppend appends events that are new and must be accepted.
func mustAppend(t *testing.T, ctx context.Context, s eventstore.Store, stream string, expected eventstore.Expected, evs []eventstore.Event) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(ctx, stream, expected, evs)
	if err != nil {
		t.Fatalf("Append(%q, %s, %d events): %v", stream, expected, len(evs), err)
	}
	if res.Duplicate {
		t.Fatalf("Append(%q, %s, %d new events) = %+v: Duplicate is set", stream, expected, len(evs), res)
	}
	return res
}

// readAllNow pages through the global log as far as ReadAll shows it now,
// checking that every page holds only events after the position asked for.
func readAllNow(t *testing.T, ctx context.Context, s eventstore.Store) []eventstore.Recorded {
	t.Helper()
	const limit = 1000
	var out []eventstore.Recorded
	after := eventstore.Start
	for {
		page, err := s.ReadAll(ctx, after, limit)
		if err != nil {
			t.Fatalf("ReadAll(%v, %d): %v", after, limit, err)
		}
		if len(page) == 0 {
			return out
		}
		if len(page) > limit {
			t.Fatalf("ReadAll(%v, %d) returned %d events", after, limit, len(page))
		}
		prev := after
		for i, r := range page {
			if !prev.Less(r.Position) {
				t.Fatalf("ReadAll(%v, %d): event %d (%s) at %v does not come after %v\npage:%s", after, limit, i, r.ID, r.Position, prev, describe(page))
			}
			prev = r.Position
		}
		out = append(out, page...)
		after = prev
	}
}

// readLog reads the global log once it shows at least n events. ReadAll may
// show an event only after every transaction that could still put an event
// before it has ended (postgres waits for every older transaction in the
// whole cluster, other tests' too), so it can lag behind appends that have
// returned. Callers check the count: readLog gives up after waitTimeout.
func readLog(t *testing.T, ctx context.Context, s eventstore.Store, n int) []eventstore.Recorded {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		recs := readAllNow(t, ctx, s)
		if len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readStream(t *testing.T, ctx context.Context, s eventstore.Store, stream string) []eventstore.Recorded {
	t.Helper()
	return readStreamFrom(t, ctx, s, stream, 1)
}

func readStreamFrom(t *testing.T, ctx context.Context, s eventstore.Store, stream string, from eventstore.Version) []eventstore.Recorded {
	t.Helper()
	recs, err := s.ReadStream(ctx, stream, from, 10_000)
	if err != nil {
		t.Fatalf("ReadStream(%q, %d): %v", stream, from, err)
	}
	return recs
}

func streamVersion(t *testing.T, ctx context.Context, s eventstore.Store, stream string) eventstore.Version {
	t.Helper()
	v, err := s.StreamVersion(ctx, stream)
	if err != nil {
		t.Fatalf("StreamVersion(%q): %v", stream, err)
	}
	return v
}

func head(t *testing.T, ctx context.Context, s eventstore.Store) eventstore.Position {
	t.Helper()
	p, err := s.Head(ctx)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return p
}

// assertHead checks that Head is want, once it has caught up (see readLog).
func assertHead(t *testing.T, ctx context.Context, s eventstore.Store, want eventstore.Position) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	got := head(t, ctx, s)
	for got.Less(want) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		got = head(t, ctx, s)
	}
	if got != want {
		t.Errorf("Head = %v, want %v", got, want)
	}
}

// diffRecorded describes how got differs from want, or returns "".
func diffRecorded(got, want eventstore.Recorded) string {
	switch {
	case got.ID != want.ID:
		return fmt.Sprintf("ID %s, want %s", got.ID, want.ID)
	case got.Stream != want.Stream:
		return fmt.Sprintf("Stream %q, want %q", got.Stream, want.Stream)
	case got.Version != want.Version:
		return fmt.Sprintf("Version %d, want %d", got.Version, want.Version)
	case got.Position != want.Position:
		return fmt.Sprintf("Position %v, want %v", got.Position, want.Position)
	case got.Type != want.Type:
		return fmt.Sprintf("Type %q, want %q", got.Type, want.Type)
	case !bytes.Equal(got.Data, want.Data):
		return fmt.Sprintf("Data %s, want %s", abbrev(got.Data), abbrev(want.Data))
	case !bytes.Equal(got.Metadata, want.Metadata):
		return fmt.Sprintf("Metadata %s, want %s", abbrev(got.Metadata), abbrev(want.Metadata))
	case !got.StoredAt.Equal(want.StoredAt):
		return fmt.Sprintf("StoredAt %v, want %v", got.StoredAt, want.StoredAt)
	}
	return ""
}

// abbrev shows bytes in a failure message without flooding it.
func abbrev(b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("%q... (%d bytes)", b[:64], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// assertRecords compares two lists of records field by field.
func assertRecords(t *testing.T, what string, got, want []eventstore.Recorded) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d events, want %d\n got: %s\nwant: %s", what, len(got), len(want), describe(got), describe(want))
		return
	}
	for i := range got {
		if d := diffRecorded(got[i], want[i]); d != "" {
			t.Errorf("%s: event %d: %s", what, i, d)
			return
		}
	}
}

// assertEvents checks that recs are evs stored in stream from version first on.
func assertEvents(t *testing.T, what string, recs []eventstore.Recorded, stream string, first eventstore.Version, evs []eventstore.Event) {
	t.Helper()
	if len(recs) != len(evs) {
		t.Errorf("%s: %d events, want %d\n got: %s", what, len(recs), len(evs), describe(recs))
		return
	}
	for i, e := range evs {
		want := eventstore.Recorded{
			ID: e.ID, Stream: stream, Version: first + int64(i), Position: recs[i].Position,
			Type: e.Type, Data: e.Data, Metadata: e.Metadata, StoredAt: recs[i].StoredAt,
		}
		if d := diffRecorded(recs[i], want); d != "" {
			t.Errorf("%s: event %d: %s", what, i, d)
			return
		}
	}
}

// assertGlobalOrder checks that positions strictly increase.
func assertGlobalOrder(t *testing.T, what string, recs []eventstore.Recorded) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		if !recs[i-1].Position.Less(recs[i].Position) {
			t.Errorf("%s: event %d (%s) at %v does not come after event %d (%s) at %v",
				what, i, recs[i].ID, recs[i].Position, i-1, recs[i-1].ID, recs[i-1].Position)
			return
		}
	}
}

// assertLogUnchanged checks that the global log and Head are still as before.
func assertLogUnchanged(t *testing.T, ctx context.Context, s eventstore.Store, before []eventstore.Recorded) {
	t.Helper()
	assertRecords(t, "global log", readLog(t, ctx, s, len(before)), before)
	want := eventstore.Start
	if len(before) > 0 {
		want = before[len(before)-1].Position
	}
	assertHead(t, ctx, s, want)
}

func assertConflict(t *testing.T, err error, stream string, expected eventstore.Expected, actual eventstore.Version) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Errorf("Append(%q, %s): error %v, want ErrConflict", stream, expected, err)
		return
	}
	var ce *eventstore.ConflictError
	if !errors.As(err, &ce) {
		t.Errorf("Append(%q, %s): error %v matches ErrConflict but carries no *ConflictError", stream, expected, err)
		return
	}
	want := eventstore.ConflictError{Stream: stream, Expected: expected, Actual: actual}
	if *ce != want {
		t.Errorf("Append(%q, %s): ConflictError{Stream: %q, Expected: %s, Actual: %d}, want {%q, %s, %d}",
			stream, expected, ce.Stream, ce.Expected, ce.Actual, want.Stream, want.Expected, want.Actual)
	}
}

// describe lists records briefly for a failure message.
func describe(recs []eventstore.Recorded) string {
	const most = 10
	var b bytes.Buffer
	for i, r := range recs {
		if i == most {
			fmt.Fprintf(&b, " ... (%d more)", len(recs)-most)
			break
		}
		fmt.Fprintf(&b, " %s@%s#%d/%v", r.ID.String()[:8], r.Stream, r.Version, r.Position)
	}
	return b.String()
}

// expectedLog records what writers appended, stream by stream.
type expectedLog map[string][]uuid.UUID

func (l expectedLog) total() int {
	n := 0
	for _, ids := range l {
		n += len(ids)
	}
	return n
}

// assertDelivery checks that got holds every event of want exactly once, in
// strictly increasing positions, each stream's events in version order
// 1, 2, 3, ... and nothing else.
func assertDelivery(t *testing.T, who string, got []eventstore.Recorded, want expectedLog) {
	t.Helper()
	if len(got) != want.total() {
		t.Errorf("%s: %d events, want %d", who, len(got), want.total())
	}
	assertGlobalOrder(t, who, got)
	seen := make(map[uuid.UUID]int, len(got))
	perStream := make(map[string][]eventstore.Recorded)
	for _, r := range got {
		seen[r.ID]++
		if seen[r.ID] == 2 {
			t.Errorf("%s: event %s (%s#%d) delivered more than once", who, r.ID, r.Stream, r.Version)
		}
		perStream[r.Stream] = append(perStream[r.Stream], r)
	}
	for stream, ids := range want {
		recs := perStream[stream]
		for i, id := range ids {
			if i >= len(recs) {
				t.Errorf("%s: stream %q: %d events, want %d; first missing: %s (version %d)", who, stream, len(recs), len(ids), id, i+1)
				break
			}
			if recs[i].ID != id || recs[i].Version != int64(i+1) {
				t.Errorf("%s: stream %q: event %d is %s at version %d, want %s at version %d", who, stream, i, recs[i].ID, recs[i].Version, id, i+1)
				break
			}
		}
		if len(recs) > len(ids) {
			t.Errorf("%s: stream %q: %d events, want %d", who, stream, len(recs), len(ids))
		}
	}
	for stream, recs := range perStream {
		if _, ok := want[stream]; !ok {
			t.Errorf("%s: %d events of stream %q nobody appended", who, len(recs), stream)
		}
	}
}

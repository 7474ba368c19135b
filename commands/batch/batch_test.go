package batch_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/commands/batch"
	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
)

func events(n int) []eventstore.Event {
	out := make([]eventstore.Event, n)
	for i := range out {
		out[i] = eventstore.Event{ID: uuid.Must(uuid.NewV7()), Type: "test.v1", Data: []byte(`{}`)}
	}
	return out
}

// TestLogKeepsTheOrderOfAppendsAcrossStreams: Log lists the appends in the
// order they were made (where Pending groups them by stream), merges only
// consecutive appends to one stream, and gives each run the version its
// stream stood at, committed history included; writing it to the store in
// order gives the same streams.
func TestLogKeepsTheOrderOfAppendsAcrossStreams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	if _, err := store.Append(ctx, "b", eventstore.NoStream(), events(2)); err != nil {
		t.Fatal(err)
	}
	o := batch.New(store, time.Now)
	steps := []struct {
		stream string
		n      int
	}{{"a", 1}, {"a", 2}, {"b", 1}, {"a", 1}, {"c", 3}, {"c", 1}}
	for _, s := range steps {
		v, err := o.ReadStream(ctx, s.stream, 1, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Append(ctx, s.stream, eventstore.Exactly(eventstore.Version(len(v))), events(s.n)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, a := range o.Log() {
		got = append(got, fmt.Sprintf("%s@%d+%d", a.Stream, a.Expected, len(a.Events)))
	}
	want := []string{"a@0+3", "b@2+1", "a@3+1", "c@0+4"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("log %v, want %v", got, want)
	}
	if n := batch.Events(o.Log()); n != 9 {
		t.Errorf("%d events in the log, want 9", n)
	}
	for _, a := range o.Log() {
		if _, err := store.Append(ctx, a.Stream, eventstore.Exactly(a.Expected), a.Events); err != nil {
			t.Fatalf("write %s at %d: %v", a.Stream, a.Expected, err)
		}
	}
	for stream, want := range map[string]int{"a": 4, "b": 3, "c": 4} {
		got, err := store.ReadStream(ctx, stream, 1, 1000)
		if err != nil || len(got) != want {
			t.Errorf("%s: %d events (%v), want %d", stream, len(got), err, want)
		}
	}
}

// TestNoHistoryWrongGuessFailsTheWrite: an overlay over NoHistory decides
// as if the store were empty; if it is not, writing the log fails on the
// expected version instead of adding events after someone else's.
func TestNoHistoryWrongGuessFailsTheWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	if _, err := store.Append(ctx, "a", eventstore.NoStream(), events(1)); err != nil {
		t.Fatal(err)
	}
	o := batch.New(batch.NoHistory{}, time.Now)
	if _, err := o.Append(ctx, "a", eventstore.NoStream(), events(1)); err != nil {
		t.Fatal(err)
	}
	a := o.Log()[0]
	_, err := store.Append(ctx, a.Stream, eventstore.Exactly(a.Expected), a.Events)
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("write over a stream NoHistory did not know: %v, want a conflict", err)
	}
}

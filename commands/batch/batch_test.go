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

// TestLogFromWhileAppending: a reader that takes LogFrom while commands
// in other goroutines append, then Log's rest once they are done, gets
// exactly Log, append for append and event for event: no append it took
// grows afterwards, none is taken twice or missed.
func TestLogFromWhileAppending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := batch.New(batch.NoHistory{}, time.Now)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 3000 {
			stream := fmt.Sprint("s", i%7/3) // runs of appends to one stream, merged
			v, err := o.ReadStream(ctx, stream, 1, 1<<20)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := o.Append(ctx, stream, eventstore.Exactly(eventstore.Version(len(v))), events(1+i%3)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var taken []batch.Append
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		taken = append(taken, o.LogFrom(len(taken))...)
	}
	taken = append(taken, o.Log()[len(taken):]...)
	if got, want := describe(taken), describe(o.Log()); got != want {
		t.Fatalf("taken while appending:\n%.300s\nwant Log:\n%.300s", got, want)
	}
	if n := len(o.LogFrom(0)); n != len(o.Log())-1 {
		t.Errorf("LogFrom(0) has %d appends, want all but the last of %d", n, len(o.Log()))
	}
	if got := o.LogFrom(len(o.Log())); got != nil {
		t.Errorf("LogFrom past the end: %v", got)
	}
}

func describe(log []batch.Append) string {
	var b []byte
	for _, a := range log {
		b = fmt.Appendf(b, "%s@%d:", a.Stream, a.Expected)
		for _, e := range a.Events {
			b = fmt.Appendf(b, "%s,", e.ID)
		}
		b = append(b, ' ')
	}
	return string(b)
}

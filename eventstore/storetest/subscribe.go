package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"promiseledger/eventstore"
)

// testCancelledContext: every call made with a cancelled ctx returns
// context.Canceled promptly, and appends store nothing.
func testCancelledContext(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)
	stream := streamName("cancelled")
	mustAppend(t, ctx, s, stream, eventstore.NoStream(), newEvents(2, "existing"))
	log := readLog(t, ctx, s, 2)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	ev := newEvent(`{"cancelled":true}`)
	calls := []struct {
		name string
		call func() error
	}{
		{"Append", func() error {
			_, err := s.Append(cancelled, stream, eventstore.Exactly(2), []eventstore.Event{ev})
			return err
		}},
		{"Append to a new stream", func() error {
			_, err := s.Append(cancelled, streamName("new"), eventstore.Any(), []eventstore.Event{ev})
			return err
		}},
		{"ReadStream", func() error {
			_, err := s.ReadStream(cancelled, stream, 1, 10)
			return err
		}},
		{"ReadAll", func() error {
			_, err := s.ReadAll(cancelled, eventstore.Start, 10)
			return err
		}},
		{"StreamVersion", func() error {
			_, err := s.StreamVersion(cancelled, stream)
			return err
		}},
		{"Head", func() error {
			_, err := s.Head(cancelled)
			return err
		}},
		{"Subscribe", func() error {
			return s.Subscribe(cancelled, eventstore.Start, func(context.Context, eventstore.Recorded) error { return nil })
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := returnPromptly(t, c.call); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled ctx: error %v, want context.Canceled", c.name, err)
			}
		})
	}
	assertLogUnchanged(t, ctx, s, log)
	mustAppend(t, ctx, s, stream, eventstore.Exactly(2), []eventstore.Event{ev}) // it was not stored
}

// returnPromptly runs call and fails the test if it takes longer than prompt.
func returnPromptly(t *testing.T, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return err
	case <-time.After(prompt):
		t.Fatalf("the call did not return within %v", prompt)
		return nil
	}
}

// testSubscribeStops: a subscriber that waits for new events returns the
// ctx's error promptly when the ctx ends.
func testSubscribeStops(t *testing.T, h Harness) {
	ctx := testContext(t)

	t.Run("cancelled", func(t *testing.T) {
		s := h.New(t)
		stream := streamName("live")
		mustAppend(t, ctx, s, stream, eventstore.NoStream(), newEvents(3, "existing"))

		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		sub := subscribe(sctx, s, eventstore.Start, -1)
		sub.collect(t, 3)
		mustAppend(t, ctx, s, stream, eventstore.Exactly(3), newEvents(1, "live"))
		got := sub.collect(t, 4) // delivered while it waits
		assertRecords(t, "subscriber", got, readLog(t, ctx, s, 4))

		cancel()
		if err := sub.wait(t, prompt); !errors.Is(err, context.Canceled) {
			t.Errorf("Subscribe returned %v after its ctx was cancelled, want context.Canceled", err)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		s := h.New(t)
		const life = 300 * time.Millisecond
		sctx, cancel := context.WithTimeout(ctx, life)
		defer cancel()
		sub := subscribe(sctx, s, eventstore.Start, -1)
		if err := sub.wait(t, life+prompt); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Subscribe returned %v after its deadline, want context.DeadlineExceeded", err)
		}
		if got := sub.delivered(); len(got) != 0 {
			t.Errorf("Subscribe on an empty store delivered %s", describe(got))
		}
	})
}

// testSubscribeResumes: a subscriber stops by returning an error from its
// handler after storing the position of the last event it handled, then
// resumes from there: it gets exactly the events after it.
func testSubscribeResumes(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)
	streams := []string{streamName("a"), streamName("b"), streamName("c")}
	for i, n := range []int{3, 2, 1, 4} { // 10 events
		stream := streams[i%len(streams)]
		mustAppend(t, ctx, s, stream, eventstore.Any(), newEvents(n, "first"))
	}
	firstLog := readLog(t, ctx, s, 10)
	if len(firstLog) != 10 {
		t.Fatalf("ReadAll: %d events, want 10", len(firstLog))
	}

	const k = 4
	errStop := errors.New("storetest: handler stops")
	var (
		checkpoint eventstore.Position
		handled    []eventstore.Recorded
	)
	sctx, cancel := context.WithTimeout(ctx, waitTimeout)
	err := s.Subscribe(sctx, eventstore.Start, func(_ context.Context, r eventstore.Recorded) error {
		handled = append(handled, r)
		if len(handled) == k {
			checkpoint = r.Position
			return fmt.Errorf("handle %s: %w", r.ID, errStop)
		}
		return nil
	})
	cancel()
	if !errors.Is(err, errStop) {
		t.Fatalf("Subscribe returned %v, want the handler's error", err)
	}
	assertRecords(t, "events handled before the stop", handled, firstLog[:k])

	for i, n := range []int{2, 3} {
		mustAppend(t, ctx, s, streams[i], eventstore.Any(), newEvents(n, "second"))
	}
	log := readLog(t, ctx, s, 15)
	if len(log) != 15 {
		t.Fatalf("ReadAll: %d events, want 15", len(log))
	}
	rest := log[k:]

	sub := subscribe(ctx, s, checkpoint, len(rest))
	assertRecords(t, "events after resuming", sub.collect(t, len(rest)), rest)
	if err := sub.wait(t, prompt); !errors.Is(err, errEnough) {
		t.Errorf("resumed Subscribe returned %v, want the handler's error", err)
	}

	// Resuming from the last event delivers nothing.
	sctx, cancel = context.WithTimeout(ctx, settle)
	defer cancel()
	tail := subscribe(sctx, s, log[len(log)-1].Position, -1)
	if err := tail.wait(t, settle+prompt); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Subscribe from the last event returned %v, want context.DeadlineExceeded", err)
	}
	if got := tail.delivered(); len(got) != 0 {
		t.Errorf("Subscribe from the last event delivered %s", describe(got))
	}
}

package commands_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
)

// counting counts the stream reads the handlers make.
type counting struct {
	commands.EventStore
	reads atomic.Int32
}

func (s *counting) ReadStream(ctx context.Context, stream string, from eventstore.Version, limit int) ([]eventstore.Recorded, error) {
	s.reads.Add(1)
	return s.EventStore.ReadStream(ctx, stream, from, limit)
}

func TestStreamCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	report := func(h commands.Header, id string, v float64) commands.ReportProgress {
		return commands.ReportProgress{Header: h, IndicatorID: id, Value: num(v), Evidence: link}
	}
	// a: handlers over a counting store; f.h, the other process's.
	build := func(t *testing.T) (fixture, string, *commands.Handlers, *counting) {
		f := setup(t)
		id := f.indicator(t, f.world(t))
		store := &counting{EventStore: f.store}
		a := newFixture(t, store)
		must(t)(a.ReportProgress.Handle(ctx, report(officer, id, 20)))
		return f, id, a, store
	}

	t.Run("the next command on a stream does not read it", func(t *testing.T) {
		t.Parallel()
		_, id, a, store := build(t)
		before := store.reads.Load()
		res := must(t)(a.ReportProgress.Handle(ctx, report(officer, id, 30)))
		if store.reads.Load() != before || res.Version != 3 {
			t.Fatalf("%d reads, version %d", store.reads.Load()-before, res.Version)
		}
	})

	t.Run("a stale cache is decided again on a fresh read", func(t *testing.T) {
		t.Parallel()
		f, id, a, _ := build(t)
		must(t)(f.h.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: because("merged"), IndicatorID: id}))
		if _, err := a.ReportProgress.Handle(ctx, report(officer, id, 30)); !errors.Is(err, domain.ErrCancelled) {
			t.Fatalf("report after another process cancelled: %v", err)
		}
	})

	t.Run("a pinned version is checked against the stream, not the cache", func(t *testing.T) {
		t.Parallel()
		f, id, a, _ := build(t) // a's cache: version 2
		must(t)(f.h.ReportProgress.Handle(ctx, report(officer, id, 25)))
		v := int64(3)
		res := must(t)(a.ReportProgress.Handle(ctx, report(with(officer, func(h *commands.Header) { h.ExpectedVersion = &v }), id, 30)))
		if res.Version != 4 {
			t.Fatalf("version %d", res.Version)
		}
		v = 3
		_, err := a.ReportProgress.Handle(ctx, report(with(officer, func(h *commands.Header) { h.ExpectedVersion = &v }), id, 40))
		var conflict *eventstore.ConflictError
		if !errors.As(err, &conflict) || conflict.Actual != 4 {
			t.Fatalf("stale pin: %v", err)
		}
	})

	t.Run("repeats are found whoever wrote them", func(t *testing.T) {
		t.Parallel()
		f, id, a, _ := build(t)
		mine, theirs := uuid.New(), uuid.New()
		first := must(t)(a.ReportProgress.Handle(ctx, report(with(officer, func(h *commands.Header) { h.EventID = mine }), id, 30)))
		again := must(t)(a.ReportProgress.Handle(ctx, report(with(officer, func(h *commands.Header) { h.EventID = mine }), id, 30)))
		if !again.Duplicate || again.Version != first.Version {
			t.Fatalf("own repeat: %+v after %+v", again, first)
		}
		orig := must(t)(f.h.ReportProgress.Handle(ctx, report(with(officer, func(h *commands.Header) { h.EventID = theirs }), id, 35)))
		rep := must(t)(a.ReportProgress.Handle(ctx, report(with(officer, func(h *commands.Header) { h.EventID = theirs }), id, 35)))
		if !rep.Duplicate || rep.Version != orig.Version {
			t.Fatalf("repeat of another process's report: %+v after %+v", rep, orig)
		}
	})

	t.Run("writers of one process take turns instead of racing", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		id := f.indicator(t, f.world(t))
		store := &slowAppends{EventStore: f.store}
		a := newFixture(t, store)
		const writers = 20
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				if _, err := a.ReportProgress.Handle(ctx, report(officer, id, float64(20+i))); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := store.appends.Load(); n != writers {
			t.Fatalf("%d appends for %d reports: writers raced", n, writers)
		}
	})
}

// slowAppends counts appends and makes each take a moment, as a database
// round trip does, so that concurrent commands overlap.
type slowAppends struct {
	commands.EventStore
	appends atomic.Int32
}

func (s *slowAppends) Append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	s.appends.Add(1)
	time.Sleep(time.Millisecond)
	return s.EventStore.Append(ctx, stream, expected, events)
}

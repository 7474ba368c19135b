package commands_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
)

// racing lets a rival writer append to the store just before the handler's
// first append, as a concurrent request would.
type racing struct {
	commands.EventStore
	rival   func()
	once    sync.Once
	appends atomic.Int32
}

func (s *racing) Append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.AppendResult, error) {
	s.once.Do(s.rival)
	s.appends.Add(1)
	return s.EventStore.Append(ctx, stream, expected, events)
}

// raced builds handlers over a racing store; rival runs through the plain
// handlers of f.
func raced(t *testing.T, f fixture, rival func()) (*commands.Handlers, *racing) {
	t.Helper()
	store := &racing{EventStore: f.store, rival: rival}
	return newFixture(t, store), store
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	report := func(h commands.Header, id string, v float64) commands.ReportProgress {
		return commands.ReportProgress{Header: h, IndicatorID: id, Value: num(v), Evidence: link}
	}

	t.Run("lost race is retried on fresh state", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		id := f.indicator(t, f.world(t))
		h, store := raced(t, f, func() { must(t)(f.h.ReportProgress.Handle(ctx, report(officer, id, 20))) })
		res := must(t)(h.ReportProgress.Handle(ctx, report(officer, id, 30)))
		if res.Version != 3 || store.appends.Load() != 2 {
			t.Fatalf("version %d after %d appends", res.Version, store.appends.Load())
		}
	})

	t.Run("the retry decides again", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		id := f.indicator(t, f.world(t))
		h, _ := raced(t, f, func() {
			must(t)(f.h.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: because("merged"), IndicatorID: id}))
		})
		if _, err := h.ReportProgress.Handle(ctx, report(officer, id, 30)); !errors.Is(err, domain.ErrCancelled) {
			t.Fatalf("report racing a cancellation: %v", err)
		}
	})

	t.Run("a pinned version is not retried", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		id := f.indicator(t, f.world(t))
		h, store := raced(t, f, func() { must(t)(f.h.ReportProgress.Handle(ctx, report(officer, id, 20))) })
		v := int64(1)
		pinned := with(officer, func(h *commands.Header) { h.ExpectedVersion = &v })
		_, err := h.ReportProgress.Handle(ctx, report(pinned, id, 30))
		var conflict *eventstore.ConflictError
		if !errors.Is(err, eventstore.ErrConflict) || !errors.As(err, &conflict) || conflict.Actual != 2 || store.appends.Load() != 1 {
			t.Fatalf("err %v after %d appends", err, store.appends.Load())
		}
	})

	t.Run("a stale version fails before deciding", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		id := f.indicator(t, f.world(t))
		v := int64(0)
		_, err := f.h.ReportProgress.Handle(ctx, report(with(officer, func(h *commands.Header) { h.ExpectedVersion = &v }), id, 30))
		var conflict *eventstore.ConflictError
		if !errors.As(err, &conflict) || conflict.Expected != eventstore.Exactly(0) || conflict.Actual != 1 {
			t.Fatalf("stale version: %v", err)
		}
		v = 1
		if res := must(t)(f.h.ReportProgress.Handle(ctx, report(with(officer, func(h *commands.Header) { h.ExpectedVersion = &v }), id, 30))); res.Version != 2 {
			t.Fatalf("current version: %+v", res)
		}
	})

	t.Run("attempts are bounded", func(t *testing.T) {
		t.Parallel()
		store := &alwaysConflicting{EventStore: memory.New()}
		h, err := commands.New(commands.Deps{Store: store, Clock: ticking(), Attempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: officer, KATO: "0", Name: name, Kind: domain.TerritoryRepublic})
		var contention *commands.ContentionError
		if !errors.As(err, &contention) || contention.Attempts != 3 || store.appends.Load() != 3 {
			t.Fatalf("err %v after %d appends", err, store.appends.Load())
		}
	})

	// A version-less command that keeps losing is not told to re-read a
	// version it never sent: it fails with a ContentionError, which is a
	// conflict but not a *ConflictError, once its time budget is spent.
	t.Run("the retry budget bounds a version-less command", func(t *testing.T) {
		t.Parallel()
		store := &alwaysConflicting{EventStore: memory.New()}
		h, err := commands.New(commands.Deps{Store: store, Clock: ticking(), RetryBudget: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: officer, KATO: "0", Name: name, Kind: domain.TerritoryRepublic})
		var contention *commands.ContentionError
		var conflict *eventstore.ConflictError
		if !errors.As(err, &contention) || !errors.Is(err, eventstore.ErrConflict) || errors.As(err, &conflict) {
			t.Fatalf("err %v (%T), want a *ContentionError matching ErrConflict and no *ConflictError", err, err)
		}
		if store.appends.Load() < 2 || int(store.appends.Load()) != contention.Attempts {
			t.Fatalf("%d appends, %+v", store.appends.Load(), contention)
		}
		t.Log(err)
	})
}

type alwaysConflicting struct {
	commands.EventStore
	appends atomic.Int32
}

func (s *alwaysConflicting) Append(_ context.Context, stream string, expected eventstore.Expected, _ []eventstore.Event) (eventstore.AppendResult, error) {
	s.appends.Add(1)
	return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: stream, Expected: expected, Actual: 99}
}

// TestManyWritersOnOneIndicator races twenty reporters on one stream. With
// enough attempts every report lands, each at its own version.
func TestManyWritersOnOneIndicator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	h, err := commands.New(commands.Deps{Store: store, Clock: ticking()})
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{h: h, store: store}
	id := f.indicator(t, f.world(t))

	const writers = 20
	versions := make([]int64, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			res, err := h.ReportProgress.Handle(ctx, commands.ReportProgress{Header: officer, IndicatorID: id, Value: num(float64(11 + i)), Evidence: link})
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
			versions[i] = res.Version
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, v := range versions {
		seen[v] = true
	}
	if s := f.state(t, id); len(s.Reports) != writers || len(seen) != writers {
		t.Fatalf("%d reports stored at %d distinct versions", len(s.Reports), len(seen))
	}
}

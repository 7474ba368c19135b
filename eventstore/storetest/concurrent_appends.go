package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"promiseledger/eventstore"
)

// testManySingleEventWriters: the API's write path under load. Many writers
// append one event at a time, some to their own streams, others to a few
// shared streams (reading the version and retrying on conflict). Every
// acknowledged append must be stored exactly where its result says (version
// and position), every stream's versions run 1, 2, 3, ... in global order,
// and nothing unacknowledged is stored. An adapter that batches concurrent
// appends (postgres group commit) is held to exactly this.
func testManySingleEventWriters(t *testing.T, h Harness) {
	const (
		ownWriters    = 24
		perOwn        = 4
		sharedWriters = 24
		sharedStreams = 4
		perShared     = 2
	)
	ctx := testContext(t)
	s := h.New(t)

	type ack struct {
		stream string
		id     uuid.UUID
		res    eventstore.AppendResult
	}
	var (
		mu    sync.Mutex
		acks  []ack
		errs  = make([]error, ownWriters+sharedWriters)
		start = make(chan struct{})
		wg    sync.WaitGroup
	)
	record := func(stream string, ev eventstore.Event, res eventstore.AppendResult) {
		mu.Lock()
		acks = append(acks, ack{stream, ev.ID, res})
		mu.Unlock()
	}
	shared := make([]string, sharedStreams)
	for i := range shared {
		shared[i] = streamName(fmt.Sprintf("shared%d", i))
	}
	for w := range ownWriters {
		wg.Go(func() {
			<-start
			stream := streamName(fmt.Sprintf("own%d", w))
			for v := range eventstore.Version(perOwn) {
				ev := newEvent(fmt.Sprintf(`{"writer":%d,"v":%d}`, w, v))
				res, err := s.Append(ctx, stream, eventstore.Exactly(v), []eventstore.Event{ev})
				if err != nil {
					errs[w] = fmt.Errorf("Append(%q, Exactly(%d)): %w", stream, v, err)
					return
				}
				record(stream, ev, res)
			}
		})
	}
	for w := range sharedWriters {
		wg.Go(func() {
			<-start
			stream := shared[w%sharedStreams]
			for n := 0; n < perShared; {
				if ctx.Err() != nil {
					errs[ownWriters+w] = ctx.Err()
					return
				}
				v, err := s.StreamVersion(ctx, stream)
				if err != nil {
					errs[ownWriters+w] = err
					return
				}
				ev := newEvent(fmt.Sprintf(`{"shared":%d,"n":%d}`, w, n))
				res, err := s.Append(ctx, stream, eventstore.Exactly(v), []eventstore.Event{ev})
				if errors.Is(err, eventstore.ErrConflict) {
					continue // lost the race; nothing of it may be stored
				}
				if err != nil {
					errs[ownWriters+w] = fmt.Errorf("Append(%q, Exactly(%d)): %w", stream, v, err)
					return
				}
				if res.Version != v+1 {
					errs[ownWriters+w] = fmt.Errorf("Append(%q, Exactly(%d)) = version %d, want %d", stream, v, res.Version, v+1)
					return
				}
				record(stream, ev, res)
				n++
			}
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	total := ownWriters*perOwn + sharedWriters*perShared
	log := readLog(t, ctx, s, total)
	byID := make(map[uuid.UUID]eventstore.Recorded, len(log))
	for _, r := range log {
		byID[r.ID] = r
	}
	want := expectedLog{}
	ids := map[string]map[eventstore.Version]uuid.UUID{}
	for _, a := range acks {
		r, ok := byID[a.id]
		switch {
		case !ok:
			t.Errorf("acknowledged event %s of %q is not in the log", a.id, a.stream)
			continue
		case r.Stream != a.stream || r.Version != a.res.Version || r.Position != a.res.First || r.Position != a.res.Last || a.res.Duplicate:
			t.Errorf("event %s stored as %s#%d at %v; its append was told %+v", a.id, r.Stream, r.Version, r.Position, a.res)
		}
		if ids[a.stream] == nil {
			ids[a.stream] = map[eventstore.Version]uuid.UUID{}
		}
		ids[a.stream][a.res.Version] = a.id
	}
	for stream, byVersion := range ids {
		for v := eventstore.Version(1); v <= eventstore.Version(len(byVersion)); v++ {
			want[stream] = append(want[stream], byVersion[v])
		}
	}
	assertDelivery(t, "ReadAll", log, want)
}

// testFailingNeighbours: appends that must fail (a stale expected version,
// an id stored in another stream) and an idempotent retry, all made at the
// same moment as good appends, round after round. Each gets the answer it
// would get alone; none changes another's.
func testFailingNeighbours(t *testing.T, h Harness) {
	const rounds, good = 3, 8
	ctx := testContext(t)
	s := h.New(t)

	stale := streamName("stale")
	mustAppend(t, ctx, s, stale, eventstore.NoStream(), newEvents(3, "stale"))
	elsewhere := newEvents(1, "elsewhere")
	mustAppend(t, ctx, s, streamName("elsewhere"), eventstore.NoStream(), elsewhere)
	retried, retriedStream := newEvents(1, "retried"), streamName("retried")
	original := mustAppend(t, ctx, s, retriedStream, eventstore.NoStream(), retried)
	stored := 5

	for round := range rounds {
		var (
			start                 = make(chan struct{})
			wg                    sync.WaitGroup
			goodStreams           = make([]string, good)
			goodEvents            = make([][]eventstore.Event, good)
			goodErrs              = make([]error, good)
			staleErr, elsewhereEr error
			retryRes              eventstore.AppendResult
			retryErr              error
		)
		for i := range good {
			goodStreams[i], goodEvents[i] = streamName(fmt.Sprintf("good%d", i)), newEvents(1+i%2, "good")
			wg.Go(func() {
				<-start
				res, err := s.Append(ctx, goodStreams[i], eventstore.NoStream(), goodEvents[i])
				if err == nil && (res.Duplicate || res.Version != int64(len(goodEvents[i]))) {
					err = fmt.Errorf("result %+v, want version %d and no Duplicate", res, len(goodEvents[i]))
				}
				goodErrs[i] = err
			})
		}
		wg.Go(func() {
			<-start
			_, staleErr = s.Append(ctx, stale, eventstore.Exactly(1), newEvents(1, "late"))
		})
		wg.Go(func() {
			<-start
			_, elsewhereEr = s.Append(ctx, streamName("other"), eventstore.NoStream(), elsewhere)
		})
		wg.Go(func() {
			<-start
			retryRes, retryErr = s.Append(ctx, retriedStream, eventstore.NoStream(), retried)
		})
		close(start)
		wg.Wait()

		for i, err := range goodErrs {
			if err != nil {
				t.Errorf("round %d: good append %d to %q: %v", round, i, goodStreams[i], err)
			}
			stored += len(goodEvents[i])
		}
		assertConflict(t, staleErr, stale, eventstore.Exactly(1), 3)
		if !errors.Is(elsewhereEr, eventstore.ErrDuplicateEvent) {
			t.Errorf("round %d: appending an id stored in another stream: %v, want ErrDuplicateEvent", round, elsewhereEr)
		}
		if retryErr != nil || retryRes != (eventstore.AppendResult{Version: 1, First: original.First, Last: original.Last, Duplicate: true}) {
			t.Errorf("round %d: idempotent retry = %+v, %v; want the original %+v with Duplicate", round, retryRes, retryErr, original)
		}
		for i, stream := range goodStreams {
			assertEvents(t, "ReadStream", readStream(t, ctx, s, stream), stream, 1, goodEvents[i])
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	if v := streamVersion(t, ctx, s, stale); v != 3 {
		t.Errorf("the stale stream is at version %d, want 3 (nothing appended)", v)
	}
	assertGlobalOrder(t, "ReadAll", readLog(t, ctx, s, stored))
	if n := len(readAllNow(t, ctx, s)); n != stored {
		t.Errorf("the log holds %d events, want %d", n, stored)
	}
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
)

const racers = 50

// testRacingAppendsRetry: racers goroutines each append one event to the same
// stream, reading the version, appending with Exactly(it) and retrying on
// conflict. Every version must have exactly one winner.
func testRacingAppendsRetry(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)
	stream := streamName("contended")

	var (
		evs       = newEvents(racers, "racer")
		won       = make([]eventstore.Version, racers) // the version racer i appended at
		errs      = make([]error, racers)
		conflicts atomic.Int64
		read      sync.WaitGroup // every racer has read the version once
		race      = make(chan struct{})
		wg        sync.WaitGroup
	)
	read.Add(racers)
	for i := range racers {
		wg.Go(func() {
			doneReading := sync.OnceFunc(read.Done)
			defer doneReading()
			for ctx.Err() == nil {
				v, err := s.StreamVersion(ctx, stream)
				if err != nil {
					errs[i] = fmt.Errorf("StreamVersion: %w", err)
					return
				}
				// The first attempts all start from the same version, so
				// that the race happens however fast the adapter is.
				doneReading()
				<-race
				res, err := s.Append(ctx, stream, eventstore.Exactly(v), evs[i:i+1])
				if errors.Is(err, eventstore.ErrConflict) {
					conflicts.Add(1)
					continue
				}
				if err != nil {
					errs[i] = fmt.Errorf("Append(Exactly(%d)): %w", v, err)
					return
				}
				if res.Version != v+1 || res.Duplicate {
					errs[i] = fmt.Errorf("Append(Exactly(%d)) = %+v, want Version %d and no Duplicate", v, res, v+1)
					return
				}
				won[i] = res.Version
				return
			}
			errs[i] = ctx.Err()
		})
	}
	read.Wait()
	close(race)
	wg.Wait()
	t.Logf("%d appends lost a race and were retried", conflicts.Load())
	for i, err := range errs {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	winner := make(map[eventstore.Version]int, racers) // version -> racer
	for i, v := range won {
		if j, ok := winner[v]; ok {
			t.Errorf("racers %d and %d both appended at version %d", j, i, v)
		}
		winner[v] = i
	}
	recs := readStream(t, ctx, s, stream)
	if len(recs) != racers {
		t.Errorf("ReadStream: %d events, want %d", len(recs), racers)
	}
	for k, r := range recs {
		if r.Version != eventstore.Version(k+1) {
			t.Errorf("ReadStream: event %d has version %d, want %d", k, r.Version, k+1)
			continue
		}
		i, ok := winner[r.Version]
		if !ok {
			t.Errorf("version %d holds %s, but no racer was told it won that version", r.Version, r.ID)
			continue
		}
		if r.ID != evs[i].ID {
			t.Errorf("version %d holds %s, but racer %d was told its %s won it", r.Version, r.ID, i, evs[i].ID)
		}
	}
	assertDelivery(t, "ReadAll", readLog(t, ctx, s, racers), expectedLog{stream: idsInVersionOrder(evs, won)})
	if v := streamVersion(t, ctx, s, stream); v != racers {
		t.Errorf("StreamVersion = %d, want %d", v, racers)
	}
}

// idsInVersionOrder orders the racers' event ids by the version each won.
func idsInVersionOrder(evs []eventstore.Event, won []eventstore.Version) []uuid.UUID {
	ids := make([]uuid.UUID, len(evs))
	for i, v := range won {
		if v >= 1 && int(v) <= len(ids) {
			ids[v-1] = evs[i].ID
		}
	}
	return ids
}

// testRacingNoStream: racers goroutines append to a new stream with
// Exactly(0) at once. One wins; every other one gets ErrConflict.
func testRacingNoStream(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)
	stream := streamName("created-once")

	var (
		evs   = newEvents(racers, "racer")
		errs  = make([]error, racers)
		start = make(chan struct{})
		wg    sync.WaitGroup
	)
	for i := range racers {
		wg.Go(func() {
			<-start
			res, err := s.Append(ctx, stream, eventstore.Exactly(0), evs[i:i+1])
			if err == nil && (res.Version != 1 || res.Duplicate) {
				err = fmt.Errorf("Append(Exactly(0)) = %+v, want Version 1 and no Duplicate", res)
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("racers %d and %d both created the stream", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, eventstore.ErrConflict):
			t.Errorf("racer %d: %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer created the stream")
	}
	assertEvents(t, "ReadStream", readStream(t, ctx, s, stream), stream, 1, evs[winner:winner+1])
	assertDelivery(t, "ReadAll", readLog(t, ctx, s, 1), expectedLog{stream: {evs[winner].ID}})
}

// testConcurrentWritersAndReaders: writers append batches to their own
// streams while a subscriber and a ReadAll poller read the global log from
// the start. Both must see every event once, in one global order.
func testConcurrentWritersAndReaders(t *testing.T, h Harness) {
	const (
		writers   = 8
		perWriter = 200
		maxBatch  = 5
	)
	ctx := testContext(t)
	s := h.New(t)

	want := make(expectedLog, writers)
	streams := make([]string, writers)
	for w := range streams {
		streams[w] = streamName(fmt.Sprintf("writer%d", w))
	}
	total := writers * perWriter

	sub := subscribe(ctx, s, eventstore.Start, total)
	var polled []eventstore.Recorded
	var pollErr error
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		polled, pollErr = pollAll(ctx, s, total)
	}()

	var (
		mu   sync.Mutex // guards want
		errs = make([]error, writers)
		wg   sync.WaitGroup
	)
	for w, stream := range streams {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var ids []uuid.UUID
			for len(ids) < perWriter {
				evs := newEvents(min(1+rng.IntN(maxBatch), perWriter-len(ids)), stream)
				v := eventstore.Version(len(ids))
				res, err := s.Append(ctx, stream, eventstore.Exactly(v), evs)
				if err != nil {
					errs[w] = fmt.Errorf("Append(%q, Exactly(%d)): %w", stream, v, err)
					return
				}
				if next := v + int64(len(evs)); res.Version != next {
					errs[w] = fmt.Errorf("Append(%q, Exactly(%d)) = %+v, want Version %d", stream, v, res, next)
					return
				}
				ids = append(ids, idsOf(evs)...)
			}
			mu.Lock()
			want[stream] = ids
			mu.Unlock()
		})
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	assertDelivery(t, "subscriber", sub.collect(t, total), want)
	select {
	case <-pollDone:
	case <-time.After(waitTimeout):
		t.Fatalf("ReadAll poller did not read %d events in %v", total, waitTimeout)
	}
	if pollErr != nil {
		t.Errorf("ReadAll poller: %v", pollErr)
	}
	assertDelivery(t, "ReadAll poller", polled, want)
	log := readLog(t, ctx, s, total)
	assertDelivery(t, "ReadAll afterwards", log, want)
	if len(log) > 0 {
		assertHead(t, ctx, s, log[len(log)-1].Position)
	}
}

// pollAll tails the global log with ReadAll, the way a reader that keeps its
// own position does, until it has read want events.
func pollAll(ctx context.Context, s eventstore.Store, want int) ([]eventstore.Recorded, error) {
	var out []eventstore.Recorded
	after := eventstore.Start
	for len(out) < want {
		page, err := s.ReadAll(ctx, after, 64)
		if err != nil {
			return out, err
		}
		if len(page) == 0 {
			select {
			case <-ctx.Done():
				return out, ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
			continue
		}
		out = append(out, page...)
		after = page[len(page)-1].Position
	}
	return out, nil
}

// testHeldTransaction: events appended in transactions that stay open get
// positions before events committed meanwhile. Until they commit, neither
// ReadAll nor a subscriber may go past them; once they commit, both see
// everything exactly once in position order.
func testHeldTransaction(t *testing.T, h Harness) {
	if h.HoldOpen == nil {
		t.Skip("the adapter has no long transactions (Harness.HoldOpen is nil)")
	}
	ctx := testContext(t)
	s := h.New(t)
	want := expectedLog{}

	before, beforeStream := newEvents(3, "before"), streamName("before")
	mustAppend(t, ctx, s, beforeStream, eventstore.NoStream(), before)
	want[beforeStream] = idsOf(before)

	const laterStreams, perLater = 3, 2
	total := len(before) + 2 + laterStreams*perLater
	sub := subscribe(ctx, s, eventstore.Start, total)
	sub.collect(t, len(before)) // now it waits at the end of the log
	if t.Failed() {
		t.FailNow()
	}

	heldA, streamA := newEvent(`{"held":"a"}`), streamName("held-a")
	heldB, streamB := newEvent(`{"held":"b"}`), streamName("held-b")
	commitA := holdOpen(t, ctx, h, s, streamA, heldA)
	commitB := holdOpen(t, ctx, h, s, streamB, heldB)
	want[streamA], want[streamB] = []uuid.UUID{heldA.ID}, []uuid.UUID{heldB.ID}

	// Appends that begin after the held ones and commit before them.
	var laterFirst eventstore.Position
	for i := range laterStreams {
		stream, evs := streamName("later"), newEvents(perLater, "later")
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := s.Append(actx, stream, eventstore.NoStream(), evs)
		cancel()
		if err != nil {
			t.Fatalf("Append(%q) while transactions are held open: %v (HoldOpen must not block other writers)", stream, err)
		}
		if i == 0 {
			laterFirst = res.First
		}
		want[stream] = idsOf(evs)
	}

	readWhileBothHeld := readAllNow(t, ctx, s)
	time.Sleep(settle)
	deliveredWhileBothHeld := sub.delivered()

	if err := commitB(); err != nil {
		t.Fatalf("commit the second held transaction: %v", err)
	}
	readWhileAHeld := readAllNow(t, ctx, s)
	time.Sleep(settle)
	deliveredWhileAHeld := sub.delivered()

	if err := commitA(); err != nil {
		t.Fatalf("commit the first held transaction: %v", err)
	}

	posA := heldPosition(t, ctx, s, streamA, heldA)
	posB := heldPosition(t, ctx, s, streamB, heldB)
	if !posA.Less(laterFirst) || !posB.Less(laterFirst) {
		t.Errorf("the held events are at %v and %v, not before %v where the first later append went: "+
			"HoldOpen does not reproduce an early position that commits late, so this test proves nothing", posA, posB, laterFirst)
	}
	assertNothingPast(t, "ReadAll while both transactions were open", readWhileBothHeld, posA)
	assertNothingPast(t, "ReadAll while the first transaction was open", readWhileAHeld, posA)
	assertNothingPast(t, "subscriber while both transactions were open", deliveredWhileBothHeld, posA)
	assertNothingPast(t, "subscriber while the first transaction was open", deliveredWhileAHeld, posA)

	assertDelivery(t, "subscriber", sub.collect(t, total), want)
	assertDelivery(t, "ReadAll after the commits", readLog(t, ctx, s, total), want)
}

// holdOpen appends ev to stream in a transaction that stays open until the
// returned commit is called (or the test ends).
func holdOpen(t *testing.T, ctx context.Context, h Harness, s eventstore.Store, stream string, ev eventstore.Event) (commit func() error) {
	t.Helper()
	appendInTx, commitTx := h.HoldOpen(t, s)
	var (
		once sync.Once
		err  error
	)
	commit = func() error {
		once.Do(func() { err = commitTx() })
		return err
	}
	t.Cleanup(func() { _ = commit() }) // never leave the transaction open
	if err := appendInTx(ctx, stream, ev); err != nil {
		t.Fatalf("append to %q in a held transaction: %v", stream, err)
	}
	return commit
}

func heldPosition(t *testing.T, ctx context.Context, s eventstore.Store, stream string, ev eventstore.Event) eventstore.Position {
	t.Helper()
	recs := readStream(t, ctx, s, stream)
	if len(recs) != 1 || recs[0].ID != ev.ID {
		t.Fatalf("ReadStream(%q) after the held transaction committed: %s, want only %s", stream, describe(recs), ev.ID)
	}
	return recs[0].Position
}

// assertNothingPast checks that a reader returned no event after the
// position of an event that was not committed yet.
func assertNothingPast(t *testing.T, who string, recs []eventstore.Recorded, held eventstore.Position) {
	t.Helper()
	for _, r := range recs {
		if r.Position == held {
			t.Errorf("%s: returned the held event %s at %v before its transaction committed", who, r.ID, held)
			return
		}
		if !r.Position.Less(held) {
			t.Errorf("%s: returned %s (%s#%d) at %v while the event at %v was not committed: a reader that moves on from there skips it",
				who, r.ID, r.Stream, r.Version, r.Position, held)
			return
		}
	}
}

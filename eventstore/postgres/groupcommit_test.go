package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
)

// These tests make the group committer's batches deterministic: with one
// worker, an append that waits on a row lock of a transaction the test
// holds keeps the worker busy while the appends under test queue up; when
// the test lets go, the worker writes the whole queue as one batch.

func newGroupStore(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.NewURL(t), CommitWorkers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := postgres.Migrate(context.Background(), s.DB()); err != nil {
		t.Fatal(err)
	}
	return s
}

func newEvent() eventstore.Event {
	return eventstore.Event{ID: uuid.Must(uuid.NewV7()), Type: "t.v1", Data: []byte(`{}`), Metadata: []byte(`{}`)}
}

// waitUntil polls cond until it holds (a bound only to fail, not hang).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	bound := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-bound:
			t.Fatalf("gave up waiting until %s", what)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// lockWaits counts the sessions of s's database waiting on a lock.
func lockWaits(t *testing.T, db *sqlx.DB) int {
	t.Helper()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
		t.Fatal(err)
	}
	return n
}

// holdRow inserts an event row in a transaction left open: appends that
// need its version or id wait for it.
func holdRow(t *testing.T, s *postgres.Store, stream string, version int64, id uuid.UUID) *sqlx.Tx {
	t.Helper()
	tx, err := s.DB().Beginx()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() }) //nolint:errcheck // no-op once ended
	if _, err := tx.Exec(`INSERT INTO events (event_id, stream_id, version, type, data, metadata) VALUES ($1, $2, $3, 't.v1', '', '')`,
		id.String(), stream, version); err != nil {
		t.Fatal(err)
	}
	return tx
}

type outcome struct {
	res eventstore.AppendResult
	err error
}

// appendAsync starts an append and returns where its outcome will arrive.
func appendAsync(ctx context.Context, s *postgres.Store, stream string, expected eventstore.Expected, evs ...eventstore.Event) <-chan outcome {
	out := make(chan outcome, 1)
	go func() {
		res, err := s.Append(ctx, stream, expected, evs)
		out <- outcome{res, err}
	}()
	return out
}

// busyWorker occupies the only worker with an append blocked on a held row
// and returns the function that releases it (the append then succeeds).
func busyWorker(t *testing.T, s *postgres.Store) (release func()) {
	t.Helper()
	stream, ev := "blocker-"+uuid.NewString()[:8], newEvent()
	before := lockWaits(t, s.DB())
	tx := holdRow(t, s, stream, 1, ev.ID)
	blocked := appendAsync(t.Context(), s, stream, eventstore.NoStream(), ev)
	waitUntil(t, "the blocker waits on the held row", func() bool { return lockWaits(t, s.DB()) > before })
	return func() {
		t.Helper()
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if o := <-blocked; o.err != nil {
			t.Fatalf("the blocking append: %v", o.err)
		}
	}
}

func waitQueued(t *testing.T, s *postgres.Store, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d appends are queued", n), func() bool { return postgres.QueueLen(s, "any") >= n })
}

func TestGroupCommitWritesQueuedAppendsInOneCommit(t *testing.T) {
	s := newGroupStore(t)
	release := busyWorker(t, s)
	const n = 20
	outs := make([]<-chan outcome, n)
	streams := make([]string, n)
	for i := range outs {
		streams[i] = fmt.Sprintf("distinct-%d", i)
		outs[i] = appendAsync(t.Context(), s, streams[i], eventstore.NoStream(), newEvent())
	}
	waitQueued(t, s, n)
	release()
	commits := map[uint64]int{}
	for i, out := range outs {
		o := <-out
		if o.err != nil || o.res.Version != 1 || o.res.Duplicate {
			t.Fatalf("append %d: %+v, %v", i, o.res, o.err)
		}
		recs, err := s.ReadStream(t.Context(), streams[i], 1, 10)
		if err != nil || len(recs) != 1 || recs[0].Position != o.res.First {
			t.Fatalf("stream %s holds %+v (%v); the append was told position %v", streams[i], recs, err, o.res.First)
		}
		commits[o.res.First.Commit]++
	}
	if len(commits) != 1 {
		t.Errorf("the %d queued appends were written in %d transactions %v, want one", n, len(commits), commits)
	}
}

// TestGroupCommitDecidesEachAppendOnItsOwn queues, behind a busy worker,
// appends that succeed, conflict, repeat stored events or reuse ids, several
// on the same streams, and checks that each gets the answer it would get
// alone and that the good ones still share one commit.
func TestGroupCommitDecidesEachAppendOnItsOwn(t *testing.T) {
	s := newGroupStore(t)
	ctx := t.Context()
	at3 := []eventstore.Event{newEvent(), newEvent(), newEvent()}
	if _, err := s.Append(ctx, "at3", eventstore.NoStream(), at3); err != nil {
		t.Fatal(err)
	}
	storedElsewhere := newEvent()
	if _, err := s.Append(ctx, "elsewhere", eventstore.NoStream(), []eventstore.Event{storedElsewhere}); err != nil {
		t.Fatal(err)
	}
	retried := newEvent()
	original, err := s.Append(ctx, "retried", eventstore.NoStream(), []eventstore.Event{retried})
	if err != nil {
		t.Fatal(err)
	}
	twice := newEvent()

	type want struct {
		version   int64 // 0: an error
		duplicate bool
		err       error
		actual    int64 // of a conflict
	}
	cases := []struct {
		name     string
		stream   string
		expected eventstore.Expected
		events   []eventstore.Event
		want     want
	}{
		{"new stream", "fresh-a", eventstore.NoStream(), []eventstore.Event{newEvent()}, want{version: 1}},
		{"existing stream at its version", "at3", eventstore.Exactly(3), []eventstore.Event{newEvent()}, want{version: 4}},
		{"next in the same batch", "at3", eventstore.Exactly(4), []eventstore.Event{newEvent(), newEvent()}, want{version: 6}},
		{"stale in the same batch", "at3", eventstore.Exactly(3), []eventstore.Event{newEvent()}, want{err: eventstore.ErrConflict, actual: 7}}, // read after the batch committed
		{"any after the chain", "at3", eventstore.Any(), []eventstore.Event{newEvent()}, want{version: 7}},
		{"stale first on its stream", "elsewhere", eventstore.NoStream(), []eventstore.Event{newEvent()}, want{err: eventstore.ErrConflict, actual: 2}}, // replanned on the head seen, read after
		{"right version after a stale first", "elsewhere", eventstore.Exactly(1), []eventstore.Event{newEvent()}, want{version: 2}},
		{"id stored in another stream", "fresh-b", eventstore.NoStream(), []eventstore.Event{storedElsewhere}, want{err: eventstore.ErrDuplicateEvent}},
		{"neighbour of a stored id", "fresh-c", eventstore.NoStream(), []eventstore.Event{newEvent()}, want{version: 1}},
		{"idempotent retry", "retried", eventstore.NoStream(), []eventstore.Event{retried}, want{version: 1, duplicate: true}},
		{"any on a new stream", "fresh-d", eventstore.Any(), []eventstore.Event{newEvent()}, want{version: 1}},
		{"an id first", "fresh-e", eventstore.NoStream(), []eventstore.Event{twice}, want{version: 1}},
		{"the same id again at once", "fresh-e", eventstore.NoStream(), []eventstore.Event{twice}, want{version: 1, duplicate: true}},
	}
	release := busyWorker(t, s)
	outs := make([]<-chan outcome, len(cases))
	for i, c := range cases {
		outs[i] = appendAsync(ctx, s, c.stream, c.expected, c.events...)
		waitQueued(t, s, i+1) // arrival order is the order of cases
	}
	release()
	commits := map[uint64]bool{}
	for i, c := range cases {
		o := <-outs[i]
		t.Run(c.name, func(t *testing.T) {
			switch {
			case c.want.err != nil:
				if !errors.Is(o.err, c.want.err) {
					t.Fatalf("error %v, want %v", o.err, c.want.err)
				}
				var ce *eventstore.ConflictError
				if errors.As(o.err, &ce) && ce.Actual != c.want.actual {
					t.Errorf("conflict says actual version %d, want %d", ce.Actual, c.want.actual)
				}
			case o.err != nil:
				t.Fatalf("error %v, want version %d", o.err, c.want.version)
			case o.res.Version != c.want.version || o.res.Duplicate != c.want.duplicate:
				t.Errorf("result %+v, want version %d, duplicate %v", o.res, c.want.version, c.want.duplicate)
			case c.want.duplicate && c.stream == "retried" && o.res != (eventstore.AppendResult{Version: 1, First: original.First, Last: original.Last, Duplicate: true}):
				t.Errorf("retry result %+v, want the original %+v", o.res, original)
			case !c.want.duplicate:
				recs, err := s.ReadStream(ctx, c.stream, o.res.Version-int64(len(c.events))+1, len(c.events))
				if err != nil || len(recs) != len(c.events) || recs[0].ID != c.events[0].ID || recs[0].Position != o.res.First || recs[len(recs)-1].Position != o.res.Last {
					t.Errorf("stored %+v (%v); the append was told %+v", recs, err, o.res)
				}
				commits[o.res.First.Commit] = true
			}
		})
	}
	// The batch wrote the decided appends together; the ones decided later
	// (after a stale first request, a repeated id) came one by one.
	if len(commits) > 4 {
		t.Errorf("the successful appends used %d transactions; the batch should have shared one", len(commits))
	}
	for stream, v := range map[string]int64{"at3": 7, "elsewhere": 2, "fresh-b": 0, "fresh-e": 1, "retried": 1} {
		if got, err := s.StreamVersion(ctx, stream); err != nil || got != v {
			t.Errorf("%s is at version %d (%v), want %d", stream, got, err, v)
		}
	}
}

func TestGroupCommitDropsAppendCancelledWhileQueued(t *testing.T) {
	s := newGroupStore(t)
	release := busyWorker(t, s)
	cctx, cancel := context.WithCancel(t.Context())
	dropped := appendAsync(cctx, s, "dropped", eventstore.NoStream(), newEvent())
	kept := appendAsync(t.Context(), s, "kept", eventstore.NoStream(), newEvent())
	waitQueued(t, s, 2)
	cancel()
	// It returns while the worker is still busy: nothing waits on it.
	if o := <-dropped; !errors.Is(o.err, context.Canceled) {
		t.Fatalf("cancelled queued append: %+v, %v; want context.Canceled", o.res, o.err)
	}
	release()
	if o := <-kept; o.err != nil || o.res.Version != 1 {
		t.Fatalf("its neighbour: %+v, %v", o.res, o.err)
	}
	if v, err := s.StreamVersion(t.Context(), "dropped"); err != nil || v != 0 {
		t.Fatalf("the cancelled append was written: version %d (%v)", v, err)
	}
}

// TestGroupCommitFallsBackWhenTheBatchFails makes the batch statement itself
// fail: another transaction (as from another process) writes a version the
// batch also writes and commits while the batch waits on it. Each append is
// then tried on its own: only the one that really conflicts fails.
func TestGroupCommitFallsBackWhenTheBatchFails(t *testing.T) {
	s := newGroupStore(t)
	other := holdRow(t, s, "contested", 1, uuid.Must(uuid.NewV7()))
	release := busyWorker(t, s)
	contested := appendAsync(t.Context(), s, "contested", eventstore.NoStream(), newEvent())
	var neighbours []<-chan outcome
	for i := range 3 {
		neighbours = append(neighbours, appendAsync(t.Context(), s, fmt.Sprintf("calm-%d", i), eventstore.NoStream(), newEvent()))
	}
	waitQueued(t, s, 4)
	release()
	waitUntil(t, "the batch statement waits on the other writer's row", func() bool {
		var n int
		if err := s.DB().Get(&n, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'WITH u AS%'`); err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
	if err := other.Commit(); err != nil {
		t.Fatal(err)
	}
	o := <-contested
	var ce *eventstore.ConflictError
	if !errors.As(o.err, &ce) || ce.Actual != 1 {
		t.Errorf("the contested append: %+v, %v; want a conflict at version 1", o.res, o.err)
	}
	for i, out := range neighbours {
		if o := <-out; o.err != nil || o.res.Version != 1 {
			t.Errorf("neighbour %d: %+v, %v", i, o.res, o.err)
		}
	}
}

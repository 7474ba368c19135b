package kurrentdb_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
	"promiseledger/eventstore/kurrentdb"
	"promiseledger/eventstore/kurrentdb/internal/fakeserver"
)

// logRecorder is a slog.Handler that keeps what it is given.
type logRecorder struct {
	mu      sync.Mutex
	entries []string // "LEVEL message"
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, rec.Level.String()+" "+rec.Message)
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

// count counts entries at level (e.g. "WARN") whose message contains msg.
func (r *logRecorder) count(level, msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.entries {
		if strings.HasPrefix(e, level+" ") && strings.Contains(e, msg) {
			n++
		}
	}
	return n
}

func events(n int, label string) []eventstore.Event {
	evs := make([]eventstore.Event, n)
	for i := range evs {
		evs[i] = eventstore.Event{ID: uuid.New(), Type: "test.happened.v1", Data: fmt.Appendf(nil, `{"label":%q,"n":%d}`, label, i)}
	}
	return evs
}

func mustAppend(t *testing.T, s eventstore.Store, stream string, expected eventstore.Expected, evs []eventstore.Event) eventstore.AppendResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.Append(ctx, stream, expected, evs)
	if err != nil {
		t.Fatalf("Append(%q, %s): %v", stream, expected, err)
	}
	return res
}

// collector runs Subscribe in the background and keeps what it delivers.
type collector struct {
	mu   sync.Mutex
	got  []eventstore.Recorded
	done chan error
}

func subscribe(ctx context.Context, s eventstore.Store, after eventstore.Position) *collector {
	c := &collector{done: make(chan error, 1)}
	go func() {
		c.done <- s.Subscribe(ctx, after, func(_ context.Context, r eventstore.Recorded) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.got = append(c.got, r)
			return nil
		})
	}()
	return c
}

// waitFor waits until n events were delivered and returns them.
func (c *collector) waitFor(t *testing.T, n int) []eventstore.Recorded {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c.mu.Lock()
		got := append([]eventstore.Recorded(nil), c.got...)
		c.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("subscriber delivered %d events, want %d", len(got), n)
			}
			return got
		}
		select {
		case err := <-c.done:
			t.Fatalf("Subscribe returned %v after %d events, want %d", err, len(got), n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// assertIDs checks that recs are the events evs, in this order.
func assertIDs(t *testing.T, what string, recs []eventstore.Recorded, evs []eventstore.Event) {
	t.Helper()
	if len(recs) != len(evs) {
		t.Fatalf("%s: %d events, want %d", what, len(recs), len(evs))
	}
	for i := range recs {
		if recs[i].ID != evs[i].ID {
			t.Fatalf("%s: event %d is %s, want %s", what, i, recs[i].ID, evs[i].ID)
		}
	}
}

// closedAddress returns a local address nothing listens on.
func closedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestOpenFailsClearlyWithoutServer(t *testing.T) {
	addr := closedAddress(t)
	cases := []struct {
		name    string
		url     string
		timeout time.Duration
		want    string
	}{
		{"the client gives up", "esdb://ledger:s3cret@" + addr + "?tls=false&maxDiscoverAttempts=2&discoveryInterval=10", 10 * time.Second, "maximum discovery attempt"},
		{"no answer in time", "esdb://ledger:s3cret@" + addr + "?tls=false&maxDiscoverAttempts=1000&discoveryInterval=100", 300 * time.Millisecond, "no answer within 300ms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			s, err := kurrentdb.Open(context.Background(), kurrentdb.Config{URL: c.url, ConnectTimeout: c.timeout, Logger: testLogger()})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded without a server")
			}
			if took := time.Since(start); took > c.timeout+2*time.Second {
				t.Errorf("Open took %v", took)
			}
			msg := err.Error()
			if !strings.Contains(msg, "cannot reach esdb://ledger:xxxxx@"+addr) || !strings.Contains(msg, c.want) {
				t.Errorf("Open: %v; want it to name the URL without the password and say %q", err, c.want)
			}
			if strings.Contains(msg, "s3cret") {
				t.Errorf("Open: %v: shows the password", err)
			}
		})
	}
	t.Run("invalid configuration", func(t *testing.T) {
		for _, cfg := range []kurrentdb.Config{
			{},
			{URL: "postgres://localhost/db"},
			{URL: "esdb://localhost:2113", StreamPrefix: "$all"},
			{URL: "esdb://localhost:2113?tls=false", ReadPageSize: -5},
			{URL: "esdb://local host:2113"},
		} {
			if s, err := kurrentdb.Open(context.Background(), cfg); err == nil {
				s.Close()
				t.Errorf("Open(%+v) succeeded", cfg)
			}
		}
	})
}

// TestForeignEventsAreInvisible: system events, claims and other namespaces'
// events are on the server's $all, but not in the store's log.
func TestForeignEventsAreInvisible(t *testing.T) {
	srv := startFake(t, fakeserver.Options{})
	ns := namespace(t)
	s := open(t, kurrentdb.Config{URL: srv.URL(), StreamPrefix: ns, ReadPageSize: 2})
	other := open(t, kurrentdb.Config{URL: srv.URL(), StreamPrefix: namespace(t)})
	ctx := t.Context()

	sub := subscribe(ctx, s, eventstore.Start)
	mine := events(3, "mine")
	mustAppend(t, s, "order-1", eventstore.NoStream(), mine[:2])
	srv.AppendSystemEvent("$stats-127.0.0.1:2113", "$statsCollected")
	mustAppend(t, other, "order-1", eventstore.NoStream(), events(2, "theirs"))
	srv.Write("order-1", fakeserver.Event{ID: uuid.New(), Type: "outside.v1"}) // no namespace at all
	last := mustAppend(t, s, "order-1", eventstore.Exactly(2), mine[2:])
	srv.AppendSystemEvent("$stats-127.0.0.1:2113", "$statsCollected") // after the store's last event
	mustAppend(t, other, "order-2", eventstore.NoStream(), events(1, "theirs"))

	log, err := s.ReadAll(ctx, eventstore.Start, 100)
	if err != nil {
		t.Fatal(err)
	}
	assertIDs(t, "ReadAll", log, mine)
	for _, r := range log {
		if r.Stream != "order-1" {
			t.Errorf("ReadAll: stream %q, want the name without the prefix", r.Stream)
		}
	}
	if h, err := s.Head(ctx); err != nil || h != last.Last {
		t.Errorf("Head = %v, %v; want %v", h, err, last.Last)
	}
	assertIDs(t, "subscriber", sub.waitFor(t, 3), mine)
	time.Sleep(100 * time.Millisecond)
	assertIDs(t, "subscriber later", sub.waitFor(t, 3), mine)

	// The same ids in another namespace are another log's business.
	if _, err := other.Append(ctx, "order-9", eventstore.NoStream(), mine); err != nil {
		t.Errorf("Append of the same ids in another namespace: %v", err)
	}
}

func TestReservedNames(t *testing.T) {
	srv := startFake(t, fakeserver.Options{})
	s := open(t, kurrentdb.Config{URL: srv.URL()})
	ctx := t.Context()
	cases := []struct {
		name   string
		stream string
		typ    string
	}{
		{"system stream", "$settings", "x.v1"},
		{"metadata stream", "$$order-1", "x.v1"},
		{"claim stream", "ledger.event-id-" + uuid.NewString(), "x.v1"},
		{"system event type", "order-1", "$>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Append(ctx, c.stream, eventstore.Any(), []eventstore.Event{{ID: uuid.New(), Type: c.typ}})
			if !errors.Is(err, eventstore.ErrInvalid) {
				t.Errorf("Append: %v, want ErrInvalid", err)
			}
		})
	}
	if recs, err := s.ReadStream(ctx, "$settings", 1, 10); err != nil || len(recs) != 0 {
		t.Errorf("ReadStream($settings) = %d events, %v; want none: the store never writes there", len(recs), err)
	}
	if v, err := s.StreamVersion(ctx, "$settings"); err != nil || v != 0 {
		t.Errorf("StreamVersion($settings) = %d, %v; want 0", v, err)
	}
}

func TestSubscribeResubscribesAfterDrop(t *testing.T) {
	srv := startFake(t, fakeserver.Options{})
	logs := &logRecorder{}
	s := open(t, kurrentdb.Config{URL: srv.URL(), StreamPrefix: namespace(t), Logger: slog.New(logs), ReconnectMinDelay: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sub := subscribe(ctx, s, eventstore.Start)

	evs := events(6, "dropped")
	mustAppend(t, s, "a", eventstore.NoStream(), evs[:3])
	sub.waitFor(t, 3)
	srv.DropSubscriptions()
	mustAppend(t, s, "a", eventstore.Exactly(3), evs[3:5])
	srv.DropSubscriptions()
	mustAppend(t, s, "a", eventstore.Exactly(5), evs[5:])
	assertIDs(t, "subscriber", sub.waitFor(t, 6), evs)

	if n := logs.count("WARN", "subscription dropped"); n < 1 || n > 2 {
		t.Errorf("%d warnings about dropped subscriptions, want one per drop", n)
	}
	if n := logs.count("INFO", "resubscribed"); n < 1 {
		t.Errorf("no log that the subscriber resubscribed")
	}
	cancel()
	if err := <-sub.done; !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe returned %v, want context.Canceled", err)
	}
}

// TestSurvivesServerRestart: while the server is down, calls fail (they do
// not hang) and the client library gives up on it for good; once it is
// back, the store works with a new client and the subscriber resumes where
// it stopped.
func TestSurvivesServerRestart(t *testing.T) {
	srv := startFake(t, fakeserver.Options{})
	logs := &logRecorder{}
	s := open(t, kurrentdb.Config{URL: srv.URL(), StreamPrefix: namespace(t), Logger: slog.New(logs),
		ReconnectMinDelay: 10 * time.Millisecond, ReconnectMaxDelay: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sub := subscribe(ctx, s, eventstore.Start)
	evs := events(4, "restart")
	mustAppend(t, s, "a", eventstore.NoStream(), evs[:2])
	sub.waitFor(t, 2)

	srv.Stop()
	for i := range 3 {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := s.Append(actx, "a", eventstore.Exactly(2), evs[2:3])
		acancel()
		if err == nil {
			t.Fatalf("Append %d succeeded while the server was down", i)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Append %d hung while the server was down: %v", i, err)
		}
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The failed appends may have claimed their ids, never written them.
	back := time.Now()
	mustAppend(t, s, "a", eventstore.Exactly(2), evs[2:])
	assertIDs(t, "subscriber", sub.waitFor(t, 4), evs)
	// A resubscription that was waiting inside the dead client is abandoned
	// when the store replaces it, not after ConnectTimeout (10s).
	if took := time.Since(back); took > 3*time.Second {
		t.Errorf("the subscriber resumed %v after the server came back", took)
	}
	if logs.count("WARN", "gave up on the server") == 0 {
		t.Errorf("no warning that the client was replaced")
	}
	if n := logs.count("WARN", "subscription dropped"); n != 1 {
		t.Errorf("%d warnings about the dropped subscription, want 1 (later failed attempts log at debug)", n)
	}
}

// TestRepeatAcceptedByTheServer: a concurrent twin of an append writes the
// same events between this append's search for them and its write, so the
// server accepts the write as a repeat without writing. The result is the
// twin's; only a server that answers without a position shows that it is a
// duplicate (see docs/kurrentdb.md).
func TestRepeatAcceptedByTheServer(t *testing.T) {
	cases := []struct {
		name          string
		opts          fakeserver.Options
		wantDuplicate bool
	}{
		{"server answers without a position", fakeserver.Options{IdempotentNoPosition: true}, true},
		{"server answers with the stored position", fakeserver.Options{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := startFake(t, c.opts)
			ns := namespace(t)
			s := open(t, kurrentdb.Config{URL: srv.URL(), StreamPrefix: ns})
			ctx := t.Context()
			evs := events(2, "twin")
			// A first attempt claims the ids and fails: the stream is not at 5.
			if _, err := s.Append(ctx, "a", eventstore.Exactly(5), evs); !errors.Is(err, eventstore.ErrConflict) {
				t.Fatalf("first attempt: %v, want ErrConflict", err)
			}
			// The twin writes the events just before this attempt's write.
			var once sync.Once
			srv.BeforeAppend(func(stream string) {
				if stream == ns+"a" {
					once.Do(func() {
						srv.Write(ns+"a", fakeserver.Event{ID: evs[0].ID, Type: evs[0].Type, Data: evs[0].Data}, fakeserver.Event{ID: evs[1].ID, Type: evs[1].Type, Data: evs[1].Data})
					})
				}
			})
			res, err := s.Append(ctx, "a", eventstore.NoStream(), evs)
			if err != nil {
				t.Fatalf("second attempt: %v", err)
			}
			recs, err := s.ReadStream(ctx, "a", 1, 10)
			if err != nil {
				t.Fatal(err)
			}
			assertIDs(t, "ReadStream", recs, evs) // stored once
			want := eventstore.AppendResult{Version: 2, First: recs[0].Position, Last: recs[1].Position, Duplicate: c.wantDuplicate}
			if res != want {
				t.Errorf("Append = %+v, want %+v", res, want)
			}
		})
	}
}

// TestAnyGivesUpAfterRetries: an append with Any that keeps losing the race
// for the next version gives up with ErrConflict after AnyRetries retries.
func TestAnyGivesUpAfterRetries(t *testing.T) {
	srv := startFake(t, fakeserver.Options{})
	ns := namespace(t)
	s := open(t, kurrentdb.Config{URL: srv.URL(), StreamPrefix: ns, AnyRetries: 2})
	var mu sync.Mutex
	writes := 0
	srv.BeforeAppend(func(stream string) {
		if stream == ns+"hot" { // another writer always gets there first
			mu.Lock()
			writes++
			mu.Unlock()
			srv.Write(ns+"hot", fakeserver.Event{ID: uuid.New(), Type: "other.v1"})
		}
	})
	_, err := s.Append(t.Context(), "hot", eventstore.Any(), events(1, "loser"))
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("Append(Any) = %v, want ErrConflict after the retries", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if writes != 3 {
		t.Errorf("%d write attempts, want 3 (the first and AnyRetries = 2 retries)", writes)
	}
}

func TestClose(t *testing.T) {
	srv := startFake(t, fakeserver.Options{})
	s := open(t, kurrentdb.Config{URL: srv.URL(), StreamPrefix: namespace(t)})
	sub := subscribe(t.Context(), s, eventstore.Start)
	mustAppend(t, s, "a", eventstore.NoStream(), events(1, "x"))
	sub.waitFor(t, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-sub.done:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("Subscribe returned %v after Close, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe did not return after Close")
	}
	ctx := t.Context()
	if _, err := s.Append(ctx, "a", eventstore.Any(), events(1, "late")); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("Append after Close: %v, want ErrClosed", err)
	}
	if _, err := s.ReadAll(ctx, eventstore.Start, 10); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("ReadAll after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestSubscribeBeyondTheLog: a checkpoint beyond any position the server
// can have (parsed from input) delivers nothing and waits.
func TestSubscribeBeyondTheLog(t *testing.T) {
	srv := startFake(t, fakeserver.Options{})
	s := open(t, kurrentdb.Config{URL: srv.URL(), StreamPrefix: namespace(t)})
	mustAppend(t, s, "a", eventstore.NoStream(), events(2, "x"))
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	sub := subscribe(ctx, s, eventstore.Position{Commit: 1 << 63, Prepare: 0})
	if err := <-sub.done; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Subscribe = %v, want context.DeadlineExceeded", err)
	}
	if len(sub.got) != 0 {
		t.Errorf("Subscribe delivered %d events", len(sub.got))
	}
}

// TestCancelDuringRead: a read whose ctx ends while the client is still
// receiving returns the ctx's error and leaves nothing running that touches
// the caller's data (the race detector checks).
func TestCancelDuringRead(t *testing.T) {
	srv := startFake(t, fakeserver.Options{})
	s := open(t, kurrentdb.Config{URL: srv.URL(), StreamPrefix: namespace(t)})
	for range 10 {
		mustAppend(t, s, "a", eventstore.Any(), events(50, "x"))
	}
	for i := range 150 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%30)*100*time.Microsecond)
		if _, err := s.ReadAll(ctx, eventstore.Start, 1000); err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("ReadAll: %v", err)
		}
		if _, err := s.ReadStream(ctx, "a", 1, 1000); err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("ReadStream: %v", err)
		}
		cancel()
	}
}

package projections_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
	"promiseledger/projections"
)

var readModelTables = map[string][]string{
	projections.CatalogName:    {"rm_programs", "rm_territories", "rm_roadmaps"},
	projections.IndicatorsName: {"rm_indicator_events", "rm_indicators", "rm_roadmap_figures"},
	"councils.v1":              {"rm_council_events", "rm_councils", "rm_council_members", "rm_recommendations", "rm_assessments"},
	"ratings.v1":               {"rm_rating_events", "rm_rating_deputies", "rm_rating_links", "rm_rating_indicators", "rm_deputy_ratings"},
}

// dump returns the rows of a projector's active generation, without the
// generation column, in a stable order.
func dump(t testing.TB, db *sqlx.DB, name string) string {
	t.Helper()
	var b strings.Builder
	for _, table := range readModelTables[name] {
		var rows []string
		q := fmt.Sprintf(`SELECT (to_jsonb(t) - 'generation')::text FROM %s t
WHERE generation = (SELECT active_generation FROM projectors WHERE name = $1) ORDER BY 1`, table)
		if err := db.Select(&rows, q, name); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s (%d rows)\n%s\n", table, len(rows), strings.Join(rows, "\n"))
	}
	return b.String()
}

func totalEvents(t testing.TB, db *sqlx.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Get(&n, `SELECT count(*) FROM events`); err != nil {
		t.Fatal(err)
	}
	return n
}

// crashing wraps a projector: every nth Apply does all its writes and then
// dies before the transaction commits, the way a killed process would.
type crashing struct {
	projections.Projector
	n, calls int
	cancel   context.CancelFunc
}

var errCrash = errors.New("simulated crash mid-batch")

func (c *crashing) Apply(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error {
	if err := c.Projector.Apply(ctx, tx, gen, events); err != nil {
		return err
	}
	c.calls++
	if c.calls%c.n == 0 {
		if c.cancel != nil {
			c.cancel() // the connection's context dies: the driver abandons the transaction
		}
		return errCrash
	}
	return nil
}

// TestCrashAndRedeliveryMatchRebuild drives the projectors through crashes
// mid-batch and redelivered batches, then rebuilds them from scratch while
// they serve, and requires identical read models and exact event counts.
func TestCrashAndRedeliveryMatchRebuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.load()
	ctx := context.Background()
	total := totalEvents(t, e.db)
	for _, p := range projections.All() {
		ensure(t, e.db, p)
		crashes := 0
		crasher := &crashing{Projector: p, n: 2}
		for {
			pos, err := projections.Checkpoint(ctx, e.db, p.Name())
			if err != nil {
				t.Fatal(err)
			}
			page, err := e.store.ReadAll(ctx, pos, 4)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				if applied(t, e.db, p.Name()) == total {
					break
				}
				time.Sleep(10 * time.Millisecond) // hidden by a concurrent test's open transaction
				continue
			}
			runCtx, cancel := context.WithCancel(ctx)
			crasher.cancel = cancel
			err = projections.Process(runCtx, e.db, crasher, page)
			cancel()
			if err != nil {
				crashes++
				continue // "restart": resume from the durable checkpoint
			}
			// Redeliver the same batch, and a batch overlapping it: no effect.
			if err := projections.Process(ctx, e.db, p, page); err != nil {
				t.Fatal(err)
			}
			if err := projections.Process(ctx, e.db, p, page[len(page)/2:]); err != nil {
				t.Fatal(err)
			}
		}
		if crashes == 0 {
			t.Fatalf("%s: no crash was simulated", p.Name())
		}
	}
	statuses, err := projections.Statuses(ctx, e.db, e.store, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statuses {
		if s.EventsTotal != total {
			t.Errorf("%s: applied %d events (lag %d), the log holds %d", s.Name, s.EventsTotal, s.LagEvents, total)
		}
	}
	for _, p := range projections.All() {
		live := dump(t, e.db, p.Name())
		gen, err := projections.Rebuild(ctx, e.db, e.store, p)
		if err != nil {
			t.Fatal(err)
		}
		if gen != 2 {
			t.Errorf("%s: rebuilt into generation %d, want 2", p.Name(), gen)
		}
		if rebuilt := dump(t, e.db, p.Name()); rebuilt != live {
			t.Errorf("%s: rebuilt read model differs from the live one\nlive:\n%s\nrebuilt:\n%s", p.Name(), live, rebuilt)
		}
		var leftovers int
		if err := e.db.Get(&leftovers, `SELECT count(*) FROM `+readModelTables[p.Name()][0]+` WHERE generation = 1`); err != nil || leftovers != 0 {
			t.Errorf("old generation not dropped: %d rows (%v)", leftovers, err)
		}
	}
}

// TestRouterLiveAndRebuildUnderLoad runs the Watermill router while events
// are appended, rebuilds a projector in the middle, and requires the final
// read models to equal a from-scratch rebuild.
func TestRouterLiveAndRebuildUnderLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := projections.NewRouterWithConfig(ctx, projections.RouterConfig{DB: e.db, Store: e.store, Projectors: projections.All(), MaxBatch: 7})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-r.Running()
	fx := e.load()
	if _, err := projections.Rebuild(ctx, e.db, e.store, projections.Indicators{}); err != nil {
		t.Fatal(err)
	}
	e.at("2021-06-01")
	for i := range 5 {
		res, err := e.cmd.AddIndicator.Handle(ctx, addCmd(fx.republican, i))
		must(t, res, err)
	}
	waitCaughtUp(t, e)
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("router: %v", err)
	}
	for _, p := range projections.All() {
		live := dump(t, e.db, p.Name())
		if _, err := projections.Rebuild(context.Background(), e.db, e.store, p); err != nil {
			t.Fatal(err)
		}
		if rebuilt := dump(t, e.db, p.Name()); rebuilt != live {
			t.Errorf("%s: live read model differs from a rebuild\nlive:\n%s\nrebuilt:\n%s", p.Name(), live, rebuilt)
		}
	}
}

func waitCaughtUp(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := projections.Statuses(context.Background(), e.db, e.store, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		// Lag is measured against the readable horizon, which a concurrent
		// test's open transaction can hold back; count events instead.
		total := totalEvents(t, e.db)
		behind := 0
		for _, s := range st {
			if s.EventsTotal != total {
				behind++
			}
		}
		if behind == 0 && len(st) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("projectors did not catch up: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// poisoned fails on every indicator.cancelled event.
type poisoned struct{ projections.Projector }

var errPoison = errors.New("cannot apply this event")

func (p poisoned) Apply(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error {
	for _, ev := range events {
		if ev.Type == "indicator.cancelled.v1" {
			return &projections.EventError{Event: ev, Err: errPoison}
		}
	}
	return p.Projector.Apply(ctx, tx, gen, events)
}

// TestPoisonStopsOnlyThatProjector: after its retries the poisoned
// projector stops before the event and reports it; the others go on.
func TestPoisonStopsOnlyThatProjector(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.load()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var retries atomic.Int32
	logger := slog.New(slog.NewTextHandler(&countingWriter{n: &retries}, nil))
	r, err := projections.NewRouterWithConfig(ctx, projections.RouterConfig{
		DB: e.db, Store: e.store, Projectors: []projections.Projector{projections.Catalog{}, poisoned{projections.Indicators{}}},
		Retries: 2, RetryInterval: time.Millisecond, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	var st []projections.Status
	for {
		st, err = projections.Statuses(ctx, e.db, e.store, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(st) == 2 && st[1].Stopped && st[0].LagEvents == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("poisoned projector did not stop: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	bad := st[1]
	if bad.Name != projections.IndicatorsName || bad.PoisonType != "indicator.cancelled.v1" || bad.PoisonEventID == "" {
		t.Fatalf("status does not name the poison event: %+v", bad)
	}
	if !strings.Contains(bad.LastError, errPoison.Error()) {
		t.Errorf("last error %q does not say why", bad.LastError)
	}
	var poisonPos string
	if err := e.db.Get(&poisonPos, `SELECT tx_id::text || '/' || seq FROM events WHERE event_id = $1`, bad.PoisonEventID); err != nil {
		t.Fatal(err)
	}
	want, _ := eventstore.ParsePosition(poisonPos)
	if !bad.Checkpoint.Less(want) {
		t.Errorf("checkpoint %s is not before the poison event %s: it was skipped", bad.Checkpoint, want)
	}
	if bad.LagEvents == 0 {
		t.Error("the stopped projector reports no lag")
	}
}

type countingWriter struct{ n *atomic.Int32 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n.Add(1); return len(p), nil }

// TestConcurrentRebuilds: rebuilds of one projector started at once never
// break it; each either completes or is refused because another runs.
func TestConcurrentRebuilds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.load()
	e.catchUp(100)
	live := dump(t, e.db, projections.IndicatorsName)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := projections.Rebuild(context.Background(), e.db, e.store, projections.Indicators{})
			errs <- err
		}()
	}
	done := 0
	for range 4 {
		err := <-errs
		switch {
		case err == nil:
			done++
		case errors.Is(err, projections.ErrRebuildRunning):
		default:
			t.Errorf("rebuild: %v", err)
		}
	}
	if done == 0 {
		t.Fatal("no rebuild completed")
	}
	if got := dump(t, e.db, projections.IndicatorsName); got != live {
		t.Error("the read model differs after concurrent rebuilds")
	}
	e.catchUp(100) // Process still works on the active generation
	st, err := projections.Statuses(context.Background(), e.db, e.store, time.Now())
	if err != nil || len(st) != len(projections.All()) {
		t.Fatalf("statuses after concurrent rebuilds: %v %+v", err, st)
	}
}

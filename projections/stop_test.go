package projections_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
)

// appendRaw appends one event straight to the store, past the domain.
func appendRaw(t *testing.T, e *env, stream, typ, data string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	meta := `{"event_id":"` + id.String() + `","actor_id":"psql","effective_at":"2021-06-01T00:00:00Z","recorded_at":"2021-06-01T00:00:00Z"}`
	if _, err := e.store.Append(context.Background(), stream, eventstore.Any(),
		[]eventstore.Event{{ID: id, Type: typ, Data: []byte(data), Metadata: []byte(meta)}}); err != nil {
		t.Fatal(err)
	}
	return id
}

func statusOf(t *testing.T, e *env, name string) projections.Status {
	t.Helper()
	st, err := projections.Statuses(context.Background(), e.db, e.store, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no status of %s", name)
	return projections.Status{}
}

// catchUpAll runs projections.CatchUp until every projector that is not
// stopped has applied the whole log.
func catchUpAll(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := projections.CatchUp(context.Background(), e.db, e.store, projections.All()); err != nil {
			t.Fatal(err)
		}
		behind := false
		for _, p := range projections.All() {
			s := statusOf(t, e, p.Name())
			behind = behind || !s.Stopped && s.LagEvents != 0
		}
		if !behind {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the projectors did not catch up")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestInvalidStoredEventStopsTheProjectorAndAnOperatorDecisionPassesIt: a
// direct insert of program.registered.v1 with data {} never becomes a
// program with id ""; the catalog stops on it, and status names the event,
// its type, position and why; the other projectors go on. An operator's
// recorded skip decision (append-only) lets the catalog, and a rebuild of
// it, reach the head; the log is unchanged.
func TestInvalidStoredEventStopsTheProjectorAndAnOperatorDecisionPassesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.load()
	bad := appendRaw(t, e, "program-", domain.TypeProgramRegistered, `{}`)
	e.at("2021-06-02")
	r, err := e.cmd.RegisterProgram.Handle(context.Background(), newProgram())
	must(t, r, err)

	catchUpAll(t, e)
	var empty int
	if err := e.db.Get(&empty, `SELECT count(*) FROM rm_programs WHERE program_id = ''`); err != nil {
		t.Fatal(err)
	}
	if empty != 0 {
		t.Fatal("the catalog holds a program with id \"\"")
	}
	st := statusOf(t, e, projections.CatalogName)
	if !st.Stopped || st.PoisonEventID != bad.String() || st.PoisonType != domain.TypeProgramRegistered || st.PoisonPosition == "" ||
		!strings.Contains(st.LastError, "program_id") {
		t.Fatalf("status does not name the invalid event and why: %+v", st)
	}
	for _, other := range []string{projections.IndicatorsName, projections.CouncilsName, projections.RatingsName} {
		if s := statusOf(t, e, other); s.Stopped || s.LagEvents != 0 {
			t.Errorf("%s was held back by the catalog's stop: %+v", other, s)
		}
	}

	for _, c := range []struct {
		name, projector, reason, by string
		id                          uuid.UUID
		want                        error
	}{
		{"another event", projections.CatalogName, "r", "ops", uuid.New(), projections.ErrNotStoppedOnIt},
		{"a projector that did not stop on it", projections.IndicatorsName, "r", "ops", bad, projections.ErrNotStoppedOnIt},
		{"an unknown projector", "nope.v1", "r", "ops", bad, projections.ErrUnknownProjector},
		{"no reason", projections.CatalogName, " ", "ops", bad, nil},
		{"nobody decides", projections.CatalogName, "r", "", bad, nil},
	} {
		_, err := projections.Skip(context.Background(), e.db, c.projector, c.id, c.reason, c.by)
		if err == nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("skip with %s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if skips, err := projections.Skips(context.Background(), e.db); err != nil || len(skips) != 0 {
		t.Fatalf("refused decisions were recorded: %v %+v", err, skips)
	}

	d, err := projections.Skip(context.Background(), e.db, projections.CatalogName, bad, "direct insert of an empty program (ticket 12)", "ops on duty")
	if err != nil {
		t.Fatal(err)
	}
	if d.EventType != domain.TypeProgramRegistered || d.Position != st.PoisonPosition {
		t.Errorf("decision %+v does not record the event's type and position", d)
	}
	for _, q := range []string{`UPDATE projector_skips SET reason = 'x'`, `DELETE FROM projector_skips`, `TRUNCATE projector_skips`} {
		if _, err := e.db.Exec(q); err == nil {
			t.Errorf("%s: a skip decision was changed", q)
		}
	}

	catchUpAll(t, e)
	st = statusOf(t, e, projections.CatalogName)
	if st.Stopped || st.LagEvents != 0 || st.SkippedEvents != 1 {
		t.Fatalf("the catalog did not pass the decided event: %+v", st)
	}
	if _, err := projections.Rebuild(context.Background(), e.db, e.store, projections.Catalog{}); err != nil {
		t.Fatalf("rebuild after the decision: %v", err)
	}
	var programs int
	if err := e.db.Get(&programs, `SELECT count(*) FROM rm_programs WHERE generation = (SELECT active_generation FROM projectors WHERE name = 'catalog.v1')`); err != nil {
		t.Fatal(err)
	}
	if programs != 2 {
		t.Errorf("the rebuilt catalog has %d programs, want the 2 valid ones", programs)
	}
	var stored int
	if err := e.db.Get(&stored, `SELECT count(*) FROM events WHERE event_id = $1`, bad); err != nil || stored != 1 {
		t.Errorf("the log lost the event: %v %d", err, stored)
	}
}

// failsOnStatement fails, like a database refusing one value of a batch
// statement, on any batch holding an indicator.cancelled event, without
// naming the event.
type failsOnStatement struct{ projections.Projector }

func (p failsOnStatement) Apply(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error {
	for _, ev := range events {
		if ev.Type == domain.TypeIndicatorCancelled {
			_, err := tx.ExecContext(ctx, `SELECT 1/0`)
			return err
		}
	}
	return p.Projector.Apply(ctx, tx, gen, events)
}

// TestStopNamesTheEventWhenTheWholeBatchFailed: a database error about a
// whole batch statement still names the one event that causes it (before,
// status and /readyz showed blank event id and type).
func TestStopNamesTheEventWhenTheWholeBatchFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.load()
	var cancelled string
	if err := e.db.Get(&cancelled, `SELECT event_id::text FROM events WHERE type = $1`, domain.TypeIndicatorCancelled); err != nil {
		t.Fatal(err)
	}
	// A catch-up ends at the readable head: make it reach the cancellation
	// (see pgtest.AwaitReadable).
	pgtest.AwaitReadable(t, e.store)
	p := failsOnStatement{projections.Indicators{}}
	if _, err := projections.CatchUp(context.Background(), e.db, e.store, []projections.Projector{p}); err != nil {
		t.Fatal(err)
	}
	st := statusOf(t, e, projections.IndicatorsName)
	if !st.Stopped || st.PoisonEventID != cancelled || st.PoisonType != domain.TypeIndicatorCancelled || st.PoisonPosition == "" ||
		!strings.Contains(st.LastError, "division by zero") {
		t.Fatalf("status does not name the event the batch failed on: %+v", st)
	}
	// The store may hand out the log in shorter pages (its readable
	// horizon can lag for a moment, and parallel tests share the cluster), so
	// pages before the cancellation can be applied; the checkpoint must
	// never reach the event the batch failed on.
	var before int
	if err := e.db.Get(&before, `SELECT count(*) FROM events WHERE (tx_id, seq) < (SELECT tx_id, seq FROM events WHERE event_id = $1)`, cancelled); err != nil {
		t.Fatal(err)
	}
	if n := applied(t, e.db, projections.IndicatorsName); n > int64(before) {
		t.Errorf("a failed batch moved the checkpoint: %d events applied, the failing event is number %d", n, before+1)
	}
}

func newProgram() commands.RegisterProgram {
	return commands.RegisterProgram{Header: admin(""), Name: text("Youth program"), Kind: domain.ProgramYouth,
		Period: domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}}
}

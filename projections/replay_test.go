package projections_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/commands"
	"promiseledger/commands/councildemo"
	"promiseledger/commands/demo"
	"promiseledger/eventstore"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// pageOnly hides a projector's Replayer: it is built page by page.
type pageOnly struct{ projections.Projector }

// watched replays like its projector and keeps count of the events its
// replays applied and of the first error a replay returned: a replay that
// fails steps aside for the page path without a word, so comparing rows
// alone would not show that it failed.
type watched struct {
	projections.Replayer
	mu      sync.Mutex
	applied int
	settled int // the replays' Settle calls
	err     error
}

func (w *watched) NewReplay(gen int) projections.Replay {
	return &watchedReplay{Replay: w.Replayer.NewReplay(gen), w: w}
}

// replayedAll fails the test unless the replays applied n events and
// never failed.
func (w *watched) replayedAll(t *testing.T, what string, n int64) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil || int64(w.applied) != n {
		t.Fatalf("%s %s: the replays applied %d of %d events, error %v", what, w.Name(), w.applied, n, w.err)
	}
	if _, settles := w.Replayer.NewReplay(0).(projections.ReplaySettler); settles && w.settled != 1 {
		t.Fatalf("%s %s: the replays settled %d times at the head, want once", what, w.Name(), w.settled)
	}
	w.applied, w.settled = 0, 0
}

type watchedReplay struct {
	projections.Replay
	w *watched
}

// Settle passes on a ReplaySettler's Settle (and is a no-op for another
// Replay), keeping its first error as Apply does.
func (r *watchedReplay) Settle(ctx context.Context, tx *sqlx.Tx) error {
	s, ok := r.Replay.(projections.ReplaySettler)
	if !ok {
		return nil
	}
	err := s.Settle(ctx, tx)
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	r.w.settled++
	if err != nil && r.w.err == nil {
		r.w.err = err
	}
	return err
}

func (r *watchedReplay) Apply(ctx context.Context, tx *sqlx.Tx, events []eventstore.Recorded) error {
	err := r.Replay.Apply(ctx, tx, events)
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	r.w.applied += len(events)
	if err != nil && r.w.err == nil {
		r.w.err = err
	}
	return err
}

func (r *watchedReplay) Flush(ctx context.Context, tx *sqlx.Tx) error {
	err := r.Replay.Flush(ctx, tx)
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if err != nil && r.w.err == nil {
		r.w.err = err
	}
	return err
}

// replayTables are the tables each replaying projector writes.
var replayTables = map[string][]string{
	projections.CatalogName:    {"rm_programs", "rm_territories", "rm_roadmaps"},
	projections.IndicatorsName: {"rm_indicator_events", "rm_indicators", "rm_roadmap_figures"},
	projections.CouncilsName:   {"rm_council_events", "rm_councils", "rm_council_members", "rm_recommendations", "rm_assessments"},
	translog.Name:              {"translog_leaves", "translog_entries", "translog_hashes"},
	projections.RatingsName: {"rm_rating_events", "rm_rating_deputies", "rm_rating_links", "rm_rating_indicators", "rm_deputy_ratings",
		"rm_rating_pending_levels"},
}

func replayers() []projections.Projector {
	return []projections.Projector{projections.Catalog{}, projections.Indicators{}, projections.Councils{}, translog.Projector{},
		projections.Ratings{}}
}

// snapshot is every row of a projector's generation gen, generation left
// out, and its checkpoint, as text in a fixed order.
func snapshot(t *testing.T, e *env, name string, gen int) []string {
	t.Helper()
	var out []string
	for _, table := range replayTables[name] {
		var rows []string
		// A row as its first 1,000 characters and the digest of all of
		// it: rows of 1 MiB values stay cheap to sort and compare.
		q := fmt.Sprintf(`SELECT left(r, 1000) || ' md5:' || md5(r) FROM (SELECT (to_jsonb(t) - 'generation')::text AS r FROM %s t WHERE generation = $1) x ORDER BY 1`, table)
		if err := e.db.Select(&rows, q, gen); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			out = append(out, table+" "+r)
		}
	}
	var cp string
	if err := e.db.Get(&cp, `SELECT concat_ws(' ', position_commit, position_prepare, events_total, last_stored_at) FROM projector_checkpoints
WHERE name = $1 AND generation = $2`, name, gen); err != nil {
		t.Fatal(err)
	}
	return append(out, "checkpoint "+cp)
}

func activeGen(t *testing.T, e *env, name string) int {
	t.Helper()
	var gen int
	if err := e.db.Get(&gen, `SELECT active_generation FROM projectors WHERE name = $1`, name); err != nil {
		t.Fatal(err)
	}
	return gen
}

// sameRows fails the test at the first row where the replayed generation
// differs from the one built page by page.
func sameRows(t *testing.T, what string, want, got []string) {
	t.Helper()
	short := func(s string) string {
		if len(s) > 300 {
			return s[:300] + "…"
		}
		return s
	}
	around := func(a, b string) (string, string) { // the first difference, with some context
		i := 0
		for i < len(a) && i < len(b) && a[i] == b[i] {
			i++
		}
		from := max(0, i-100)
		return "…" + short(a[from:]), "…" + short(b[from:])
	}
	for i := range max(len(want), len(got)) {
		switch {
		case i >= len(want):
			t.Fatalf("%s: extra row %s", what, short(got[i]))
		case i >= len(got):
			t.Fatalf("%s: missing row %s", what, short(want[i]))
		case want[i] != got[i]:
			a, b := around(want[i], got[i])
			t.Fatalf("%s: row %d differs:\npage path: %s\nreplayed:  %s", what, i, a, b)
		}
	}
}

// replayAgainstPages builds every replaying projector three ways over the
// log of e — replayed by a first CatchUp, page by page by a rebuild that
// cannot replay, replayed again by a rebuild — and compares every row.
// Replays take pages of 700 events in runs of 2,000 (hostile logs: 37 in
// 80), page-by-page builds 1,000, so the replay's state crosses pages and
// transactions at other places than the page path's.
func replayAgainstPages(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	if err := translog.Migrate(ctx, e.db); err != nil {
		t.Fatal(err)
	}
	pgtestWait(t, e)
	total := totalEvents(t, e.db)
	var ws []*watched
	var ps []projections.Projector
	for _, p := range replayers() {
		w := &watched{Replayer: p.(projections.Replayer)}
		ws, ps = append(ws, w), append(ps, w)
	}
	n, err := projections.CatchUp(ctx, e.db, e.store, ps)
	if err != nil {
		t.Fatal(err)
	}
	if int64(n) != total*int64(len(replayers())) {
		t.Fatalf("catch-up applied %d events, want %d per projector", n, total)
	}
	for i, p := range replayers() {
		ws[i].replayedAll(t, "catch-up", total)
		caught := snapshot(t, e, p.Name(), activeGen(t, e, p.Name()))
		if _, err := projections.Rebuild(ctx, e.db, e.store, pageOnly{p}); err != nil {
			t.Fatalf("rebuild %s page by page: %v", p.Name(), err)
		}
		paged := snapshot(t, e, p.Name(), activeGen(t, e, p.Name()))
		if len(paged) < 2 {
			t.Fatalf("%s: the page path built nothing", p.Name())
		}
		sameRows(t, p.Name()+" replayed by catch-up", paged, caught)
		if _, err := projections.Rebuild(ctx, e.db, e.store, ws[i]); err != nil {
			t.Fatalf("rebuild %s: %v", p.Name(), err)
		}
		ws[i].replayedAll(t, "rebuild", total)
		sameRows(t, p.Name()+" replayed by rebuild", paged, snapshot(t, e, p.Name(), activeGen(t, e, p.Name())))
		t.Logf("%s: %d rows alike", p.Name(), len(paged))
	}
}

func pgtestWait(t *testing.T, e *env) {
	t.Helper()
	readLog(t, e.store) // waits until every appended event is visible
}

// TestReplayBuildsWhatThePagePathBuilds: over the demo data (roadmaps and
// councils) and over every event type carrying hostile text (NUL, invalid
// UTF-8, lone surrogates, bidi controls, 1 MiB), a replayed generation
// holds exactly the rows the page-by-page path builds.
func TestReplayBuildsWhatThePagePathBuilds(t *testing.T) {
	defer projections.SetReplaySizes(700, 2000)()
	defer projections.SetComputeParallel(3, 1)() // the ratings' levels computed across goroutines, on small data too
	t.Run("demo", func(t *testing.T) {
		ctx := context.Background()
		e := newEnv(t)
		now := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
		cfg := demo.Config{Seed: 1, Now: now, Scale: 0.2}
		if _, err := demo.Load(ctx, e.store, cfg); err != nil {
			t.Fatal(err)
		}
		desc, err := demo.Describe(cfg)
		if err != nil {
			t.Fatal(err)
		}
		h, err := commands.New(commands.Deps{Store: e.store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := councildemo.Load(ctx, h, councildemo.Config{Seed: 1, Now: now, Scale: 0.3, Demo: &desc}); err != nil {
			t.Fatal(err)
		}
		replayAgainstPages(t, e)
	})
	scratch := newEnv(t)
	scratch.loadEveryEventType()
	base := readLog(t, scratch.store)
	asV0(t, base)
	for _, h := range hostiles() {
		t.Run(h.name, func(t *testing.T) {
			defer projections.SetReplaySizes(37, 80)()
			log := make([]eventstore.Recorded, len(base))
			copy(log, base)
			mutate(t, log, h)
			e := newEnv(t)
			for _, r := range log {
				data := bytes.ReplaceAll(r.Data, []byte(hostileToken), []byte(h.frag))
				meta := bytes.ReplaceAll(r.Metadata, []byte(hostileToken), []byte(h.frag))
				if _, err := e.store.Append(context.Background(), r.Stream, eventstore.Exactly(r.Version-1),
					[]eventstore.Event{{ID: r.ID, Type: r.Type, Data: data, Metadata: meta}}); err != nil {
					t.Fatalf("append %s %s: %v", r.Stream, r.Type, err)
				}
			}
			replayAgainstPages(t, e)
		})
	}
}

// cancelling replays like its projector and cancels the context once
// after pages pages.
type cancelling struct {
	projections.Replayer
	cancel context.CancelFunc
	pages  int
}

func (c *cancelling) NewReplay(gen int) projections.Replay {
	return &cancellingReplay{Replay: c.Replayer.NewReplay(gen), c: c}
}

type cancellingReplay struct {
	projections.Replay
	c *cancelling
}

func (r *cancellingReplay) Settle(ctx context.Context, tx *sqlx.Tx) error {
	if s, ok := r.Replay.(projections.ReplaySettler); ok {
		return s.Settle(ctx, tx)
	}
	return nil
}

func (r *cancellingReplay) Apply(ctx context.Context, tx *sqlx.Tx, events []eventstore.Recorded) error {
	r.c.pages--
	if r.c.pages == 0 {
		r.c.cancel()
	}
	return r.Replay.Apply(ctx, tx, events)
}

// TestCancelledReplayLeavesACheckpointThatCoversItsRows: a catch-up
// cancelled in the middle of a replay keeps the pages it committed, and
// only those (the checkpoint counts exactly the events whose rows are
// there), is not at the head, and a later catch-up goes on from there page
// by page to what the page path builds.
func TestCancelledReplayLeavesACheckpointThatCoversItsRows(t *testing.T) {
	defer projections.SetReplaySizes(7, 7)()
	e := newEnv(t)
	e.load()
	readLog(t, e.store)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &cancelling{Replayer: projections.Indicators{}, cancel: cancel, pages: 3}
	if _, err := projections.CatchUp(ctx, e.db, e.store, []projections.Projector{p}); !errors.Is(err, context.Canceled) {
		t.Fatalf("catch-up: %v, want it cancelled", err)
	}
	var applied, stored int64
	if err := e.db.Get(&applied, `SELECT events_total FROM projector_checkpoints WHERE name = $1`, projections.IndicatorsName); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Get(&stored, `SELECT count(*) FROM rm_indicator_events`); err != nil {
		t.Fatal(err)
	}
	log := readLog(t, e.store)
	if applied == 0 || applied >= int64(len(log)) {
		t.Fatalf("the cancelled catch-up applied %d of %d events: want some, not all", applied, len(log))
	}
	covered := int64(0)
	for _, r := range log[:applied] {
		if strings.HasPrefix(r.Stream, "indicator-") {
			covered++
		}
	}
	if stored != covered {
		t.Fatalf("after the cancel, %d indicator events are stored, the checkpoint covers %d", stored, covered)
	}
	st := statusOf(t, e, projections.IndicatorsName)
	if st.LagEvents == 0 {
		t.Fatalf("a cancelled replay is presented as caught up: %+v", st)
	}
	if _, err := projections.CatchUp(context.Background(), e.db, e.store, []projections.Projector{projections.Indicators{}}); err != nil {
		t.Fatal(err)
	}
	resumed := snapshot(t, e, projections.IndicatorsName, activeGen(t, e, projections.IndicatorsName))
	if _, err := projections.Rebuild(context.Background(), e.db, e.store, pageOnly{projections.Indicators{}}); err != nil {
		t.Fatal(err)
	}
	sameRows(t, "resumed after a cancel", snapshot(t, e, projections.IndicatorsName, activeGen(t, e, projections.IndicatorsName)), resumed)
}

// TestCheckpointOfAnUnregisteredProjectorIsTheStart: Checkpoint answers
// the start of the log, not an error, for a name never registered (a
// subscriber asks before its projector's first batch), and the position
// of a registered one.
func TestCheckpointOfAnUnregisteredProjectorIsTheStart(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if pos, err := projections.Checkpoint(ctx, e.db, "never-registered.v1"); err != nil || pos != eventstore.Start {
		t.Fatalf("unregistered: %s, %v; want the start of the log", pos, err)
	}
	if err := projections.Register(ctx, e.db, "registered.v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`UPDATE projector_checkpoints SET position_commit = 7, position_prepare = 3 WHERE name = 'registered.v1'`); err != nil {
		t.Fatal(err)
	}
	if pos, err := projections.Checkpoint(ctx, e.db, "registered.v1"); err != nil || pos != (eventstore.Position{Commit: 7, Prepare: 3}) {
		t.Fatalf("registered: %s, %v; want 7/3", pos, err)
	}
}

// TestCancelledRatingsReplayLeavesItsLevelsPending: a ratings catch-up
// cancelled in the middle of its replay keeps the runs it committed: the
// checkpoint counts exactly the events whose facts are stored, no rating
// is written (the replay computes levels only at the head), every level
// of a deputy indexed so far is left pending, and a later catch-up goes on
// from there page by page to what the page path builds.
func TestCancelledRatingsReplayLeavesItsLevelsPending(t *testing.T) {
	defer projections.SetReplaySizes(7, 14)()
	defer projections.SetComputeParallel(3, 1)()
	e := newEnv(t)
	e.loadEveryEventType()
	log := readLog(t, e.store)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &cancelling{Replayer: projections.Ratings{}, cancel: cancel, pages: len(log) / 7 * 2 / 3}
	if _, err := projections.CatchUp(ctx, e.db, e.store, []projections.Projector{p}); !errors.Is(err, context.Canceled) {
		t.Fatalf("catch-up: %v, want it cancelled", err)
	}
	var applied, stored, ratings int64
	if err := e.db.Get(&applied, `SELECT events_total FROM projector_checkpoints WHERE name = $1`, projections.RatingsName); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Get(&stored, `SELECT count(*) FROM rm_rating_events`); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Get(&ratings, `SELECT count(*) FROM rm_deputy_ratings`); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied >= int64(len(log)) {
		t.Fatalf("the cancelled catch-up applied %d of %d events: want some, not all", applied, len(log))
	}
	covered := int64(0)
	for _, r := range log[:applied] {
		for _, prefix := range []string{"deputy-", "rating-method-", "indicator-", "assessment-"} {
			if strings.HasPrefix(r.Stream, prefix) {
				covered++
			}
		}
	}
	if stored != covered || ratings != 0 {
		t.Fatalf("after the cancel, %d rating facts and %d ratings are stored; the checkpoint covers %d facts and no rating", stored, ratings, covered)
	}
	var levels, pending []string
	if err := e.db.Select(&levels, `SELECT DISTINCT level FROM rm_rating_deputies ORDER BY level`); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Select(&pending, `SELECT level FROM rm_rating_pending_levels ORDER BY level`); err != nil {
		t.Fatal(err)
	}
	if len(levels) == 0 || strings.Join(levels, ",") != strings.Join(pending, ",") {
		t.Fatalf("after the cancel, levels %v are indexed and %v pending: want all pending", levels, pending)
	}
	if _, err := projections.CatchUp(context.Background(), e.db, e.store, []projections.Projector{projections.Ratings{}}); err != nil {
		t.Fatal(err)
	}
	resumed := snapshot(t, e, projections.RatingsName, activeGen(t, e, projections.RatingsName))
	if _, err := projections.Rebuild(context.Background(), e.db, e.store, pageOnly{projections.Ratings{}}); err != nil {
		t.Fatal(err)
	}
	sameRows(t, "resumed after a cancel", snapshot(t, e, projections.RatingsName, activeGen(t, e, projections.RatingsName)), resumed)
}

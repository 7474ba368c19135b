package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
)

func ratingsFor(t *testing.T, views []projections.DeputyRatingView, version int, p domain.Period) map[string]projections.DeputyRatingView {
	t.Helper()
	out := map[string]projections.DeputyRatingView{}
	for _, v := range views {
		if v.Version == version && v.Period == p {
			out[v.DeputyID] = v
		}
	}
	return out
}

func liveLevel(t *testing.T, e *env, level string) []projections.DeputyRatingView {
	t.Helper()
	l, err := projections.LeagueTable(context.Background(), e.db, projections.LeagueQuery{Level: level})
	if err != nil {
		t.Fatal(err)
	}
	var all []projections.DeputyRatingView
	for _, v := range l.Versions {
		for _, start := range []domain.Date{domain.NewDate(2021, 1, 1), q2.Start, domain.NewDate(2021, 7, 1)} {
			s := start
			lt, err := projections.LeagueTable(context.Background(), e.db, projections.LeagueQuery{Level: level, Version: v, Period: &s})
			if err != nil {
				continue
			}
			all = append(all, lt.Rows...)
		}
	}
	return all
}

type scoreRank struct {
	score float64
	rank  int
}

func checkScores(t *testing.T, name string, got map[string]projections.DeputyRatingView, want map[string]scoreRank) {
	t.Helper()
	for id, w := range want {
		r, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s: no rating for %s", name, id)
		case w.rank == 0:
			if r.Rated || r.Score != nil {
				t.Errorf("%s %s: rated %v, want not rated", name, id, *r.Score)
			}
		case r.Score == nil || math.Abs(*r.Score-w.score) > 1e-9 || r.RankLevel == nil || *r.RankLevel != w.rank ||
			r.RankAssembly == nil || *r.RankAssembly != w.rank:
			t.Errorf("%s %s: score %v rank %v/%v, want %v rank %d", name, id, r.Score, r.RankLevel, r.RankAssembly, w.score, w.rank)
		}
	}
}

// TestRatingByHand checks the live ratings against the worked example in
// docs/rating.md, under both versions, with the events behind each
// component.
func TestRatingByHand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.loadRatingFixture()
	e.publishV2()
	e.settle(7, councilProjectors...)
	ctx := context.Background()

	v1 := ratingsFor(t, liveLevel(t, e, "district"), 1, q2)
	checkScores(t, "v1 Q2", v1, map[string]scoreRank{"deputy-A": {61.67, 1}, "deputy-C": {50, 2}, "deputy-B": {28, 3}, "deputy-D": {}})
	v2 := ratingsFor(t, liveLevel(t, e, "district"), 2, q2)
	checkScores(t, "v2 Q2", v2, map[string]scoreRank{"deputy-B": {92.5, 1}, "deputy-A": {81.25, 2}, "deputy-C": {12.5, 3}, "deputy-D": {}})
	if !v1["deputy-A"].InForce || v2["deputy-A"].InForce {
		t.Errorf("in force in Q2: v1 %v, v2 %v (v2 applies from 2022)", v1["deputy-A"].InForce, v2["deputy-A"].InForce)
	}

	// A's breakdown names the events behind each number.
	a := v1["deputy-A"]
	byKey := map[string]domain.ComponentScore{}
	for _, c := range a.Components {
		byKey[c.Key] = c
	}
	if c := byKey["receptions"]; c.Raw != 12 || *c.Min != 3 || *c.Max != 12 || c.Normalized != 1 || c.Points != 30 || len(c.Events) != 1 ||
		c.Events[0].String() != fx.reportA {
		t.Errorf("receptions: %+v", c)
	}
	if c := byKey["done"]; c.Numerator != 1 || c.Denominator != 3 || len(c.Events) != 4 {
		// the responsibility, and the last event of I1, I3 and I4 (I2 is cancelled)
		t.Errorf("done: %+v", c)
	}
	ids := byKey["done"].Events
	evs, err := projections.RatingEvents(ctx, e.db, ids)
	if err != nil || len(evs) != len(ids) || evs[0].Type != domain.TypeDeputyResponsibilityAssigned {
		t.Fatalf("events behind 'done': %v %+v", err, evs)
	}

	// Q1: only the done share has data, one component short of v1's minimum.
	q1 := domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2021, 3, 31)}
	if r := ratingsFor(t, liveLevel(t, e, "district"), 1, q1)["deputy-A"]; r.Rated || r.NotRated == "" || r.FactionDays != 76 {
		t.Errorf("Q1: %+v", r)
	}

	// The deputy's own list and the league of the maslikhat agree.
	mine, err := projections.DeputyRatings(ctx, e.db, "deputy-B", projections.RatingQuery{Method: "faction-rating", Version: 2})
	if err != nil || len(mine) != 3 || *mine[1].Score != 92.5 {
		t.Fatalf("deputy-B under v2: %v %+v", err, mine)
	}
	l, err := projections.LeagueTable(ctx, e.db, projections.LeagueQuery{AssemblyID: districtAssembly, Period: &q2.Start})
	if err != nil || l.Version != 1 || !l.InForce || len(l.Rows) != 4 || l.Rows[0].DeputyID != "deputy-A" || l.Rows[3].DeputyID != "deputy-D" {
		t.Fatalf("league: %v %+v", err, l)
	}
}

// TestRatingAsOf: a rating as of a past date ignores later events; as of
// and as known at the time of a past live read, it is exactly what the live
// read model said then.
func TestRatingAsOf(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.loadRatingFixture()
	e.settle(50, councilProjectors...)
	ctx := context.Background()
	then := liveLevel(t, e, "district")
	knownThen := day("2021-07-02").Add(12 * time.Hour) // recorded time of the last event
	cutThen := at9("2021-07-02")                       // its effective time: the live cut

	// Later: v2 is published, A leaves the faction, and A's Q2 report is
	// corrected (the correction takes the report's effective time).
	e.publishV2()
	e.at("2021-08-10")
	mustDo(t)(e.cmd.LeaveFaction.Handle(ctx, commands.LeaveFaction{Header: withReason(admin("2021-08-10"), "mandate ended"), DeputyID: "deputy-A"}))
	e.at("2021-08-20")
	mustDo(t)(e.cmd.CorrectDeputyActivity.Handle(ctx, commands.CorrectDeputyActivity{Header: withReason(admin(""), "two receptions were counted twice"),
		DeputyID: "deputy-A", Corrects: fx.reportA, Counts: domain.ActivityCounts{ReceptionsHeld: 10, PeopleReceived: 80, AppealsHandled: 40,
			Outcomes: domain.AppealOutcomes{Positive: 30, Explained: 6, Rejected: 2, Pending: 2}}}))
	e.settle(50, councilProjectors...)

	// As of the old cut and as known then: exactly the old live read.
	past, err := projections.RatingsAt(ctx, e.db, "district", projections.Axes{AsOf: &cutThen, KnownAt: &knownThen})
	if err != nil {
		t.Fatal(err)
	}
	if !sameRatings(t, then, past) {
		t.Error("the rating as of and as known at a past time differs from what the live model said then")
	}

	// As of 2021-07-15 (effective axis): v2 and the leaving are ignored; the
	// correction is included, because it took effect when the report did.
	mid := at9("2021-07-15")
	asOf, err := projections.RatingsAt(ctx, e.db, "district", projections.Axes{AsOf: &mid})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range asOf {
		if v.Version != 1 {
			t.Fatalf("version %d as of 2021-07-15, before it was published", v.Version)
		}
	}
	q2v1 := ratingsFor(t, asOf, 1, q2)
	// A: receptions 10 → min-max (10−3)/(10−3) = 1, unchanged: 61.67.
	// B: (6−3)/(10−3) = 3/7 → 100 × (3 × 3/7 + 2 × 0.9) / 10 = 30.857… → 30.86.
	checkScores(t, "as of 07-15", q2v1, map[string]scoreRank{"deputy-A": {61.67, 1}, "deputy-B": {30.86, 3}})
	// Q3 as of 07-15 is provisional, and A was still in the faction.
	q3 := domain.Period{Start: domain.NewDate(2021, 7, 1), End: domain.NewDate(2021, 9, 30)}
	if r := ratingsFor(t, asOf, 1, q3)["deputy-A"]; !r.Provisional || r.FactionDays != 15 {
		t.Errorf("Q3 as of 07-15: provisional %v, %d faction days", r.Provisional, r.FactionDays)
	}
	// Live, A left on 08-10: 40 days of Q3.
	if r := ratingsFor(t, liveLevel(t, e, "district"), 1, q3)["deputy-A"]; r.FactionDays != 40 {
		t.Errorf("Q3 live: %d faction days", r.FactionDays)
	}
	// Before the Q2 reports took effect, Q2 had no activity.
	june := at9("2021-06-30")
	early, err := projections.RatingsAt(ctx, e.db, "district", projections.Axes{AsOf: &june})
	if err != nil {
		t.Fatal(err)
	}
	if r := ratingsFor(t, early, 1, q2)["deputy-B"]; r.Rated || !r.Provisional {
		t.Errorf("B in Q2 as of 06-30 (no activity yet): %+v", r)
	}
}

// sameRatings compares two sets of ratings as the API serves them.
func sameRatings(t *testing.T, a, b []projections.DeputyRatingView) bool {
	t.Helper()
	index := func(vs []projections.DeputyRatingView) map[string]string {
		out := map[string]string{}
		for _, v := range vs {
			body, _ := json.Marshal(v)
			out[v.Method+"/"+v.Period.Start.String()+"/"+v.DeputyID+"/"+string(rune('0'+v.Version))] = string(body)
		}
		return out
	}
	ia, ib := index(a), index(b)
	if !reflect.DeepEqual(ia, ib) {
		for k, v := range ia {
			if ib[k] != v {
				t.Logf("%s:\n  a %s\n  b %s", k, v, ib[k])
			}
		}
		for k := range ib {
			if _, ok := ia[k]; !ok {
				t.Logf("%s only in b", k)
			}
		}
		return false
	}
	return len(ia) > 0
}

// TestRatingRebuildEqualsLive: the live read model, built event by event
// or in large batches, equals a rebuild from scratch.
func TestRatingRebuildEqualsLive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadRatingFixture()
	e.publishV2()
	e.settle(1, councilProjectors...)
	ctx := context.Background()
	live := map[string]string{}
	for _, p := range councilProjectors {
		live[p.Name()] = dumpTables(t, e.db, p.Name())
	}
	for _, p := range councilProjectors {
		if _, err := projections.Rebuild(ctx, e.db, e.store, p); err != nil {
			t.Fatal(err)
		}
		e.settle(1000, p) // a rebuild reads only what the store already shows
		if got := dumpTables(t, e.db, p.Name()); got != live[p.Name()] {
			t.Errorf("%s: rebuild differs from the live read model\nlive:\n%s\nrebuilt:\n%s", p.Name(), live[p.Name()], got)
		}
	}
	// The live table equals a computation from scratch on all events.
	all, err := projections.RatingsAt(ctx, e.db, "district", projections.Axes{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameRatings(t, liveLevel(t, e, "district"), all) {
		t.Error("the live read model differs from a fresh computation")
	}
}

// TestNewMethodVersionKeepsOldRatings: publishing v2 leaves every v1
// rating of a closed period as it was, v1 itself unchanged, and every old
// rating reproducible as of its time.
func TestNewMethodVersionKeepsOldRatings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadRatingFixture()
	e.settle(100, councilProjectors...)
	ctx := context.Background()
	before := liveLevel(t, e, "district")
	methodsBefore, err := projections.RatingMethods(ctx, e.db, nil)
	if err != nil || len(methodsBefore) != 1 {
		t.Fatalf("methods: %v %+v", err, methodsBefore)
	}
	e.publishV2()
	e.settle(100, councilProjectors...)
	after := liveLevel(t, e, "district")

	closed := func(vs []projections.DeputyRatingView) []projections.DeputyRatingView {
		var out []projections.DeputyRatingView
		for _, v := range vs {
			if v.Version == 1 && !v.Provisional {
				out = append(out, v)
			}
		}
		return out
	}
	if !sameRatings(t, closed(before), closed(after)) {
		t.Error("publishing v2 changed v1 ratings of closed periods")
	}
	methodsAfter, err := projections.RatingMethods(ctx, e.db, nil)
	if err != nil || len(methodsAfter) != 2 || !reflect.DeepEqual(methodsAfter[0], methodsBefore[0]) {
		t.Fatalf("v1 changed when v2 was published: %+v", methodsAfter)
	}
	cut, known := at9("2021-07-02"), day("2021-07-02").Add(12*time.Hour)
	past, err := projections.RatingsAt(ctx, e.db, "district", projections.Axes{AsOf: &cut, KnownAt: &known})
	if err != nil {
		t.Fatal(err)
	}
	if !sameRatings(t, before, past) {
		t.Error("the ratings before v2 are not reproducible as of their time")
	}
	if _, err := e.cmd.PublishRatingMethod.Handle(ctx, republish(ratingV1, 1)); err == nil {
		t.Fatal("version 1 was published again")
	}
}

func republish(c commands.PublishRatingMethod, version int) commands.PublishRatingMethod {
	c.Version, c.Header = version, admin("")
	return c
}

// TestRatingLiveSettleHoldsNoTransactionIDWhileComputing: on the live path
// the ratings recompute their levels while no transaction of the database
// holds a transaction id (one held for the seconds a level takes held the
// log back from every projector), and a level marked pending again while
// it was computed stays pending and is settled next time, to ratings equal
// to a fresh computation. Not parallel: it sets a package hook.
func TestRatingLiveSettleHoldsNoTransactionIDWhileComputing(t *testing.T) {
	e := newEnv(t)
	e.loadRatingFixture()
	ctx := context.Background()
	calls, remarked := 0, false
	defer projections.SetSettleLiveComputed(func(ctx context.Context, gen int) {
		calls++
		var holding []string
		if err := e.db.SelectContext(ctx, &holding, `SELECT coalesce(query, '') FROM pg_stat_activity
WHERE datname = current_database() AND backend_xid IS NOT NULL`); err != nil {
			t.Error(err)
			return
		}
		if len(holding) > 0 {
			t.Errorf("while the levels were computed, %d transactions held an id: %q", len(holding), holding)
		}
		if !remarked {
			remarked = true
			const mark = `INSERT INTO rm_rating_pending_levels (generation, level) VALUES ($1, 'district')
ON CONFLICT (generation, level) DO UPDATE SET level = EXCLUDED.level`
			if _, err := e.db.ExecContext(ctx, mark, gen); err != nil {
				t.Error(err)
			}
		}
	})()
	e.settle(1000, councilProjectors...)
	if calls == 0 {
		t.Fatal("the live path never settled the ratings outside the batch's transaction")
	}
	var pending []string
	if err := e.db.SelectContext(ctx, &pending, `SELECT level FROM rm_rating_pending_levels`); err != nil {
		t.Fatal(err)
	}
	if !remarked || !slices.Equal(pending, []string{"district"}) {
		t.Fatalf("pending after a level was marked again while it was computed: %q, want [district]", pending)
	}
	if err := projections.Process(ctx, e.db, projections.Ratings{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SelectContext(ctx, &pending, `SELECT level FROM rm_rating_pending_levels`); err != nil || len(pending) != 0 {
		t.Fatalf("pending after the next settle: %q (%v)", pending, err)
	}
	assertLiveIsFresh(t, e, "district")
}

// TestRatingLiveSettleLetsBatchesThroughWhileItWrites: while a live settle
// writes a level's rows, the ratings' handler still stores the next batch
// (it locks the projector's row and marks levels; the settle takes that lock
// only once its rows are written). A settle that locked first held every
// batch back for as long as it wrote. The level the batch marks again stays
// pending, and the next settle gives ratings equal to a fresh computation.
// Not parallel: it sets a package hook.
func TestRatingLiveSettleLetsBatchesThroughWhileItWrites(t *testing.T) {
	e := newEnv(t)
	fx := e.loadRatingFixture()
	e.settle(1000, projections.Ratings{})
	ctx := context.Background()
	gen := activeRatingsGeneration(t, e)
	markPending(t, e, gen, "district")
	head := pgtest.Head(t, e.store)
	mustDo(t)(e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: admin("2021-07-01"), IndicatorID: fx.i1, Done: true,
		Evidence: domain.Evidence{URL: "https://arshaly.example.kz/p"}}))
	batch := pgtest.ReadAll(t, e.store, head, 100)
	if len(batch) == 0 {
		t.Fatal("the new batch is empty")
	}

	written, release := make(chan struct{}), make(chan struct{})
	var first sync.Once
	defer projections.SetSettleLiveSaved(func(ctx context.Context, gen int) {
		first.Do(func() {
			close(written)
			<-release
		})
	})()
	settled := make(chan error, 1)
	go func() {
		_, err := projections.Ratings{}.SettleLive(ctx, e.db)
		settled <- err
	}()
	select {
	case <-written:
	case err := <-settled:
		t.Fatalf("the settle ended before writing: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the settle never wrote the pending level")
	}
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := projections.ProcessDeferred(bctx, e.db, projections.Ratings{}, batch)
	cancel()
	close(release)
	if err != nil {
		t.Fatalf("the batch, while a settle wrote its rows: %v", err)
	}
	if err := <-settled; err != nil {
		t.Fatal(err)
	}
	var pending []string
	if err := e.db.SelectContext(ctx, &pending, `SELECT level FROM rm_rating_pending_levels ORDER BY level`); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pending, "district") {
		t.Fatalf("pending after the settle: %q; the level the batch marked again must stay pending", pending)
	}
	if _, err := (projections.Ratings{}).SettleLive(ctx, e.db); err != nil {
		t.Fatal(err)
	}
	assertLiveIsFresh(t, e, "district")
}

// TestRatingLiveSettleGivesUpALevelSettledMeanwhile: when another settle
// takes a level's mark while this one writes the level's rows, this one may
// hold older ratings: it keeps nothing of its write and says so, and the
// caller (the router) tries again.
func TestRatingLiveSettleGivesUpALevelSettledMeanwhile(t *testing.T) {
	e := newEnv(t)
	e.loadRatingFixture()
	e.settle(1000, projections.Ratings{})
	ctx := context.Background()
	gen := activeRatingsGeneration(t, e)
	// A stored row that differs from what the settle computes: kept if the
	// settle gives up, rewritten if it does not.
	if _, err := e.db.Exec(`UPDATE rm_deputy_ratings SET digest = 'stale' WHERE generation = $1 AND level = 'district'`, gen); err != nil {
		t.Fatal(err)
	}
	before := dumpTables(t, e.db, projections.RatingsName)
	markPending(t, e, gen, "district")
	defer projections.SetSettleLiveSaved(func(ctx context.Context, gen int) {
		if _, err := e.db.ExecContext(ctx, `DELETE FROM rm_rating_pending_levels WHERE generation = $1`, gen); err != nil {
			t.Error(err)
		}
	})()
	_, err := (projections.Ratings{}).SettleLive(ctx, e.db)
	if err == nil || !strings.Contains(err.Error(), "settled by another process meanwhile") {
		t.Fatalf("SettleLive = %v, want it to give up the level", err)
	}
	if after := dumpTables(t, e.db, projections.RatingsName); after != before {
		t.Error("the settle that gave up left a write behind")
	}
}

// TestRatingLiveSettleAndCatchUpSettleDoNotDeadlock: a catch-up's settle
// (which locks the projector's row before it writes a level) that starts
// while a live settle has written its rows (it locks the projector's row
// last) waits for the live settle, through the settle lock both take
// first, instead of deadlocking with it. Both succeed. Without the settle
// lock PostgreSQL finds the deadlock and aborts one of them. Not parallel:
// it sets a package hook.
func TestRatingLiveSettleAndCatchUpSettleDoNotDeadlock(t *testing.T) {
	e := newEnv(t)
	e.loadRatingFixture()
	e.settle(1000, projections.Ratings{})
	ctx := context.Background()
	gen := activeRatingsGeneration(t, e)
	markPending(t, e, gen, "district")
	// Rows both settles rewrite, so that they meet on the rows' locks.
	if _, err := e.db.Exec(`UPDATE rm_deputy_ratings SET digest = 'stale' WHERE generation = $1 AND level = 'district'`, gen); err != nil {
		t.Fatal(err)
	}
	catchUp := make(chan error, 1)
	var first sync.Once
	defer projections.SetSettleLiveSaved(func(ctx context.Context, gen int) {
		first.Do(func() {
			go func() { catchUp <- projections.SettleActive(ctx, e.db, projections.Ratings{}) }()
			// Past deadlock_timeout (1 s): without the settle lock the
			// catch-up's settle now waits for this settle's rows while
			// holding the projector's row.
			time.Sleep(1500 * time.Millisecond)
		})
	})()
	if _, err := (projections.Ratings{}).SettleLive(ctx, e.db); err != nil {
		t.Errorf("live settle: %v", err)
	}
	if err := <-catchUp; err != nil {
		t.Errorf("catch-up settle: %v", err)
	}
	assertLiveIsFresh(t, e, "district")
}

// TestRouterSettlesRatingsApartFromBatches: under the router the ratings
// store each batch's facts and recompute the levels in a loop of their own;
// once it has settled past the last event, the served ratings equal a fresh
// computation and a rebuild from scratch, with nothing left pending.
func TestRouterSettlesRatingsApartFromBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadRatingFixture()
	e.publishV2()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var covered eventstore.Position
	settles := 0
	r, err := projections.NewRouterWithConfig(ctx, projections.RouterConfig{DB: e.db, Store: e.store, Projectors: councilProjectors, MaxBatch: 7,
		Settled: func(name string, pos eventstore.Position) {
			mu.Lock()
			defer mu.Unlock()
			settles++
			if covered.Less(pos) {
				covered = pos
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	head := pgtest.Head(t, e.store)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		through := !covered.Less(head)
		mu.Unlock()
		if through {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ratings never settled through the head of the log %s (covered %s)", head, covered)
		}
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	var pending int
	if err := e.db.Get(&pending, `SELECT count(*) FROM rm_rating_pending_levels`); err != nil || pending != 0 {
		t.Fatalf("%d levels still pending (%v)", pending, err)
	}
	fresh, err := projections.RatingsAt(context.Background(), e.db, "district", projections.Axes{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameRatings(t, liveLevel(t, e, "district"), fresh) {
		t.Error("the ratings settled by the router differ from a fresh computation")
	}
	live := dumpTables(t, e.db, projections.RatingsName)
	if _, err := projections.Rebuild(context.Background(), e.db, e.store, projections.Ratings{}); err != nil {
		t.Fatal(err)
	}
	if got := dumpTables(t, e.db, projections.RatingsName); got != live {
		t.Errorf("rebuild differs from the read model the router settled\nlive:\n%s\nrebuilt:\n%s", live, got)
	}
	t.Logf("%d settles", settles)
}

// activeRatingsGeneration is ratings.v1's active generation.
func activeRatingsGeneration(t *testing.T, e *env) int {
	t.Helper()
	var gen int
	if err := e.db.Get(&gen, `SELECT active_generation FROM projectors WHERE name = $1`, projections.RatingsName); err != nil {
		t.Fatal(err)
	}
	return gen
}

// markPending marks a level of generation gen pending, as a batch does.
func markPending(t *testing.T, e *env, gen int, level string) {
	t.Helper()
	if _, err := e.db.Exec(`INSERT INTO rm_rating_pending_levels (generation, level) VALUES ($1, $2)`, gen, level); err != nil {
		t.Fatal(err)
	}
}

// assertLiveIsFresh checks that the served ratings of a level equal a
// computation from scratch.
func assertLiveIsFresh(t *testing.T, e *env, level string) {
	t.Helper()
	fresh, err := projections.RatingsAt(context.Background(), e.db, level, projections.Axes{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameRatings(t, liveLevel(t, e, level), fresh) {
		t.Error("the live read model differs from a fresh computation")
	}
}

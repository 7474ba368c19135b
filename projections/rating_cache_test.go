package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
)

// ratingRandomRun writes the worked example, then rounds of random
// rating-relevant commands (activity reports, backdated ones and
// corrections, progress on the indicators, faction joins and leaves,
// responsibilities assigned and released, indicators added, deputies
// registered, assessments recorded, replied to and withdrawn, replies to
// ratings, a second method version), applying them live after each round
// in small random batches (each settled by SettleLive, which keeps the
// level in memory between settles). After every round the stored ratings
// are compared with a computation from scratch; it returns the rounds
// where they differed.
func ratingRandomRun(t *testing.T, e *env, seed uint64) (differed []int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	fx := e.loadRatingFixture()
	if seed%2 == 0 {
		e.catchUp(1+rng.IntN(4), projections.Ratings{})
	} else {
		// Or start from a rebuild: the first live settle loads the level.
		ensure(t, e.db, projections.Ratings{})
		if _, err := projections.Rebuild(ctx, e.db, e.store, projections.Ratings{}); err != nil {
			t.Fatal(err)
		}
		e.settle(1000, projections.Ratings{})
	}

	member := func(on time.Time) commands.Header {
		h := commands.Header{Actor: commands.Actor{ID: "member-1", Role: "council"}, EffectiveAt: on}
		return h
	}
	hdr := func(on time.Time) commands.Header {
		return commands.Header{Actor: commands.Actor{ID: "admin-1", Role: "admin"}, EffectiveAt: on}
	}
	e.at("2021-07-03")
	for _, id := range []string{"A", "B"} {
		mustDo(t)(e.cmd.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: admin("2021-07-03"), RoadmapID: fx.roadmap,
			PersonID: "deputy-" + id, Role: domain.RoleDeputy, DisplayName: "Deputy " + id}))
	}
	council := mustDo(t)(e.cmd.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: admin("2021-07-03"), TerritoryKATO: districtKATO,
		Level: domain.CouncilDistrict, Name: text("Arshaly public council")}))
	mustDo(t)(e.cmd.JoinCouncil.Handle(ctx, commands.JoinCouncil{Header: admin("2021-07-03"), CouncilID: council.ID, MemberID: "member-1",
		Role: domain.MemberChair, DisplayName: "Member One"}))

	deputies := []string{"deputy-A", "deputy-B", "deputy-C", "deputy-D"}
	indicators := []string{fx.i1, fx.i3, fx.i4, fx.i5}
	roadmaps := []string{fx.roadmap, fx.roadmap2}
	reports := []string{fx.reportA}
	var assessments []string
	asm := domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: districtKATO, Level: domain.CouncilDistrict}
	now := day("2021-07-03")
	published := false
	quarters := []domain.Period{}
	for y := 2021; y <= 2022; y++ {
		for q := 0; q < 4; q++ {
			start := domain.NewDate(y, time.Month(1+3*q), 1)
			end := domain.DateOf(time.Date(y, time.Month(4+3*q), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1))
			quarters = append(quarters, domain.Period{Start: start, End: end})
		}
	}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	counts := func() domain.ActivityCounts {
		n := rng.IntN(30)
		pos := rng.IntN(n + 1)
		return domain.ActivityCounts{ReceptionsHeld: 1 + rng.IntN(15), PeopleReceived: rng.IntN(90), AppealsHandled: n,
			Outcomes: domain.AppealOutcomes{Positive: pos, Pending: n - pos}}
	}
	accepted := 0
	defer func() { t.Logf("seed %d: %d commands accepted", seed, accepted) }()
	for round := range 16 {
		for range 2 + rng.IntN(6) {
			now = now.Add(time.Duration(6+rng.IntN(24*9)) * time.Hour)
			e.mu.Lock()
			e.now = now
			e.mu.Unlock()
			// Effective up to 150 days back: backdated facts are the point.
			eff := now.Add(-time.Duration(rng.IntN(150*24)) * time.Hour)
			if eff.Before(day("2021-01-16")) {
				eff = day("2021-01-16").Add(time.Duration(rng.IntN(48)) * time.Hour)
			}
			var err error
			var res commands.Result
			op := rng.IntN(15)
			switch op {
			case 0, 1, 2:
				var ps []domain.Period
				for _, q := range quarters[1:] { // the deputies were registered in Q1
					if domain.EndOfPeriod(q).Before(eff) {
						ps = append(ps, q)
					}
				}
				if len(ps) == 0 {
					continue
				}
				res, err = e.cmd.ReportDeputyActivity.Handle(ctx, commands.ReportDeputyActivity{Header: hdr(eff), DeputyID: pick(deputies),
					Period: ps[rng.IntN(len(ps))], Counts: counts()})
				if err == nil {
					reports = append(reports, res.EventIDs[0].String())
				}
			case 3:
				// The deputy of the report is unknown here: try each.
				corrects := pick(reports)
				for _, d := range deputies {
					if res, err = e.cmd.CorrectDeputyActivity.Handle(ctx, commands.CorrectDeputyActivity{Header: withReason(hdr(eff), "typo"),
						DeputyID: d, Corrects: corrects, Counts: counts()}); err == nil {
						reports = append(reports, res.EventIDs[0].String())
						break
					}
				}
			case 4, 5, 6:
				done := rng.IntN(3) == 0
				_, err = e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: hdr(eff), IndicatorID: pick(indicators), Done: done,
					Evidence: domain.Evidence{URL: "https://arshaly.example.kz/p"}})
			case 7:
				_, err = e.cmd.JoinFaction.Handle(ctx, commands.JoinFaction{Header: hdr(eff), DeputyID: pick(deputies), Faction: "nur-otan"})
			case 8:
				_, err = e.cmd.LeaveFaction.Handle(ctx, commands.LeaveFaction{Header: withReason(hdr(eff), "left"), DeputyID: pick(deputies)})
			case 9:
				subject, id := domain.ResponsibleForIndicator, pick(indicators)
				if rng.IntN(2) == 0 {
					subject, id = domain.ResponsibleForRoadmap, pick(roadmaps)
				}
				if rng.IntN(2) == 0 {
					_, err = e.cmd.AssignDeputyResponsibility.Handle(ctx, commands.AssignDeputyResponsibility{Header: hdr(eff), DeputyID: pick(deputies),
						Subject: subject, SubjectID: id})
				} else {
					_, err = e.cmd.ReleaseDeputyResponsibility.Handle(ctx, commands.ReleaseDeputyResponsibility{Header: hdr(eff), DeputyID: pick(deputies),
						Subject: subject, SubjectID: id})
				}
			case 10:
				if rng.IntN(2) == 0 {
					res, err = e.cmd.AddIndicator.Handle(ctx, commands.AddIndicator{Header: hdr(eff), RoadmapID: pick(roadmaps),
						Title: text(fmt.Sprintf("Extra %d", len(indicators))), Kind: domain.KindMilestone, Weight: 1, Deadline: domain.NewDate(2022, 12, 31)})
					if err == nil {
						indicators = append(indicators, res.ID)
					}
				} else {
					id := fmt.Sprintf("deputy-%c", 'E'+len(deputies)-4)
					if _, err = e.cmd.RegisterDeputy.Handle(ctx, commands.RegisterDeputy{Header: hdr(eff), DeputyID: id, DisplayName: "Deputy " + id,
						Assembly: asm}); err == nil {
						deputies = append(deputies, id)
					}
				}
			case 11, 12:
				switch {
				case len(assessments) == 0 || rng.IntN(2) == 0:
					res, err = e.cmd.RecordAssessment.Handle(ctx, commands.RecordAssessment{Header: member(eff), CouncilID: council.ID,
						IndicatorID: fx.i1, Position: domain.PositionDisagree, Comment: "The report does not show the work."})
					if err == nil {
						assessments = append(assessments, res.ID)
					}
				case rng.IntN(3) == 0:
					_, err = e.cmd.WithdrawAssessment.Handle(ctx, commands.WithdrawAssessment{Header: withReason(member(eff), "twice"),
						AssessmentID: pick(assessments)})
				default:
					reply := hdr(eff)
					who := pick([]string{"deputy-A", "deputy-B"})
					reply.Actor = commands.Actor{ID: who, Role: "deputy"}
					_, err = e.cmd.ReplyToAssessment.Handle(ctx, commands.ReplyToAssessment{Header: reply, AssessmentID: pick(assessments),
						RespondentID: who, Reply: "Done in May."})
				}
			case 13:
				reply := hdr(eff)
				who := pick(deputies)
				reply.Actor = commands.Actor{ID: who, Role: "deputy"}
				_, err = e.cmd.ReplyToRating.Handle(ctx, commands.ReplyToRating{Header: reply, DeputyID: who, Method: "faction-rating", Version: 1,
					Period: q2, Reply: "The figures are late."})
			case 14:
				if published {
					continue
				}
				published = true
				v2 := ratingV2
				v2.Header = hdr(eff)
				_, err = e.cmd.PublishRatingMethod.Handle(ctx, v2)
			}
			// A command the domain refuses changes nothing.
			if err == nil {
				accepted++
			}
			if testing.Verbose() {
				t.Logf("round %d op %d at %s eff %s: %v", round, op, now.Format(time.DateTime), eff.Format(time.DateTime), err)
			}
		}
		e.catchUp(1+rng.IntN(3), projections.Ratings{})
		fresh, err := projections.RatingsAt(ctx, e.db, "district", projections.Axes{})
		if err != nil {
			t.Fatal(err)
		}
		live := servedRatings(t, e, "district", quarters)
		if !sameRatingsQuiet(live, fresh) {
			if len(differed) == 0 && testing.Verbose() {
				sameRatings(t, live, fresh)
			}
			differed = append(differed, round)
		}
	}
	return differed
}

// servedRatings reads every rating of a level the league serves, for each
// method version and period.
func servedRatings(t *testing.T, e *env, level string, periods []domain.Period) []projections.DeputyRatingView {
	t.Helper()
	ctx := context.Background()
	var all []projections.DeputyRatingView
	for _, v := range []int{1, 2} {
		for _, p := range periods {
			s := p.Start
			lt, err := projections.LeagueTable(ctx, e.db, projections.LeagueQuery{Level: level, Version: v, Period: &s})
			if err != nil {
				continue // no such version or period (yet)
			}
			all = append(all, lt.Rows...)
		}
	}
	return all
}

// sameRatingsQuiet is sameRatings without the log.
func sameRatingsQuiet(a, b []projections.DeputyRatingView) bool {
	index := func(vs []projections.DeputyRatingView) map[string]string {
		out := map[string]string{}
		for _, v := range vs {
			body, _ := json.Marshal(v)
			out[fmt.Sprintf("%s/%d/%s/%s", v.Method, v.Version, v.Period.Start, v.DeputyID)] = string(body)
		}
		return out
	}
	ia, ib := index(a), index(b)
	if len(ia) != len(ib) || len(ia) == 0 {
		return false
	}
	for k, v := range ia {
		if ib[k] != v {
			return false
		}
	}
	return true
}

// TestRatingIncrementalSettleEqualsRebuild: random rating-relevant events
// applied live in small batches, each settled from the level kept in memory
// (only the periods the new facts can change recomputed), give after every
// round exactly the ratings a computation from scratch gives, and at the
// end the same rm_deputy_ratings as a rebuild.
func TestRatingIncrementalSettleEqualsRebuild(t *testing.T) {
	t.Parallel()
	// The levels computed across goroutines on small data too (the
	// setting is process-wide: the tests beside this one must give the
	// same answers either way).
	t.Cleanup(projections.SetComputeParallel(3, 1))
	folds, _ := projections.RatingCacheCounts()
	t.Cleanup(func() {
		// The counts are process-wide: other tests only add to them.
		if now, loads := projections.RatingCacheCounts(); now-folds < 20 {
			t.Errorf("only %d live settles folded new facts into a kept level (%d loads): the incremental path went untested", now-folds, loads)
		}
	})
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if differed := ratingRandomRun(t, e, seed); len(differed) > 0 {
				t.Fatalf("the live ratings differ from a computation from scratch after rounds %v", differed)
			}
			live := dumpRatings(t, e)
			if _, err := projections.Rebuild(context.Background(), e.db, e.store, projections.Ratings{}); err != nil {
				t.Fatal(err)
			}
			e.settle(1000, projections.Ratings{})
			if got := dumpRatings(t, e); got != live {
				t.Errorf("rebuild differs from the live ratings\nlive:\n%s\nrebuilt:\n%s", live, got)
			}
		})
	}
}

// TestRatingIncrementalMutantIsCaught: the same run with a wrong rule (each
// fact taken to change ratings only from 100 days after it does, so the
// earliest period it changes is skipped) is caught.
func TestRatingIncrementalMutantIsCaught(t *testing.T) {
	// Not parallel: the mutant is process-wide.
	projections.SetRatingCacheMutant(100)
	defer projections.SetRatingCacheMutant(0)
	defer projections.ForgetRatingCache()
	caught := 0
	for seed := range uint64(3) {
		e := newEnv(t)
		if len(ratingRandomRun(t, e, seed)) > 0 {
			caught++
		}
	}
	if caught == 0 {
		t.Fatal("the mutant went unnoticed")
	}
}

// dumpRatings is rm_deputy_ratings of the active generation.
func dumpRatings(t *testing.T, e *env) string {
	t.Helper()
	dump := dumpTables(t, e.db, projections.RatingsName)
	i := strings.Index(dump, "rm_deputy_ratings (")
	if i < 0 {
		t.Fatal("no rm_deputy_ratings in the dump")
	}
	return dump[i:]
}

// TestRatingIncrementalSettleBoundsWhatItReads: when more facts are new
// than factsSince reads at once, a settle loads the level whole instead
// of folding: the ratings are the same, and the kept level is not folded.
func TestRatingIncrementalSettleBoundsWhatItReads(t *testing.T) {
	// Not parallel: the bound is process-wide.
	defer projections.SetRatingFactsSinceMax(0)()
	defer projections.ForgetRatingCache()
	folds, loads := projections.RatingCacheCounts()
	e := newEnv(t)
	if differed := ratingRandomRun(t, e, 1); len(differed) > 0 {
		t.Fatalf("the live ratings differ from a computation from scratch after rounds %v", differed)
	}
	nowFolds, nowLoads := projections.RatingCacheCounts()
	if nowFolds != folds || nowLoads == loads {
		t.Errorf("with nothing read incrementally: %d folds, %d loads; want 0 folds, some loads", nowFolds-folds, nowLoads-loads)
	}
}

// TestRatingCacheWithNoBudgetKeepsNothing: with a budget of 0
// (--ratings-cache-mb 0) the live settle keeps no level between settles:
// every settle loads its level whole, and the ratings are still those of a
// computation from scratch. Not parallel: it sets the package's budget.
func TestRatingCacheWithNoBudgetKeepsNothing(t *testing.T) {
	defer projections.SetRatingsCacheBudget(projections.SetRatingsCacheBudget(0))
	projections.ForgetRatingCache()
	e := newEnv(t)
	fx := e.loadRatingFixture()
	e.settle(1000, projections.Ratings{})
	ctx := context.Background()
	folds, loads := projections.RatingCacheCounts()
	for i, done := range []bool{false, true} {
		head := pgtest.Head(t, e.store)
		mustDo(t)(e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: admin("2021-07-01"), IndicatorID: fx.i1, Done: done,
			Evidence: domain.Evidence{URL: fmt.Sprintf("https://arshaly.example.kz/p/%d", i)}}))
		batch := pgtest.ReadAll(t, e.store, head, 100)
		if err := projections.Process(ctx, e.db, projections.Ratings{}, batch); err != nil {
			t.Fatal(err)
		}
	}
	folds2, loads2 := projections.RatingCacheCounts()
	if folds2 != folds || loads2 < loads+2 {
		t.Errorf("with no budget: %d folds and %d whole loads in two settles, want 0 and at least 2", folds2-folds, loads2-loads)
	}
	fresh, err := projections.RatingsAt(ctx, e.db, "district", projections.Axes{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameRatings(t, liveLevel(t, e, "district"), fresh) {
		t.Error("the live read model differs from a fresh computation")
	}
}

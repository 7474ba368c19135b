package projections_test

import (
	"context"
	"math"
	"testing"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
)

// ratingV3 rates replies to the councils' assessments beside receptions.
var ratingV3 = commands.PublishRatingMethod{Method: "faction-rating", Title: text("Faction rating"),
	Summary: "Replies to the councils, receptions against a target.", EffectiveFrom: domain.NewDate(2022, 1, 1),
	Formula: domain.RatingFormula{
		Period: domain.RatingPeriod{Kind: domain.PeriodQuarter, From: domain.NewDate(2021, 1, 1)},
		Components: []domain.RatingComponent{
			{Key: "replies", Title: text("Replies to councils"), Source: domain.MetricAssessmentReplyShare, Weight: 1,
				Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
			{Key: "receptions", Title: text("Receptions"), Source: domain.MetricReceptionsHeld, Weight: 1,
				Normalization: domain.Normalization{Kind: domain.NormalizeRatioToTarget, Target: f(6)}},
		},
		Minimum: domain.MinimumData{FactionDays: 30, Components: 1, Peers: 2},
	}}

// TestRatingAssessmentReplies: the assessments that name a deputy as a
// respondent feed the reply share (a withdrawn one does not); the live read
// model, built event by event, equals a rebuild and a fresh computation.
//
// A and B answer for roadmap R: a council assesses I1 of R on 05-12 and
// 06-02 (and withdraws a third); A replies to the first. Under v3, Q2: A
// replies 1/2 → 25 + receptions 12/6 → 50 = 75; B 0/2 → 0 + 50 = 50; C
// (no assessment) 3/6 → 25.
func TestRatingAssessmentReplies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.loadRatingFixture()
	ctx := context.Background()
	do := mustDo(t)
	member := func(effective string) commands.Header {
		h := admin(effective)
		h.Actor = commands.Actor{ID: "member-1", Role: "council"}
		return h
	}
	e.at("2021-05-03")
	for _, id := range []string{"A", "B"} {
		do(e.cmd.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: admin("2021-05-03"), RoadmapID: fx.roadmap,
			PersonID: "deputy-" + id, Role: domain.RoleDeputy, DisplayName: "Deputy " + id}))
	}
	council := do(e.cmd.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: admin("2021-05-03"), TerritoryKATO: districtKATO,
		Level: domain.CouncilDistrict, Name: text("Arshaly public council")}))
	do(e.cmd.JoinCouncil.Handle(ctx, commands.JoinCouncil{Header: admin("2021-05-03"), CouncilID: council.ID, MemberID: "member-1",
		Role: domain.MemberChair, DisplayName: "Member One"}))
	var assessments []string
	for _, on := range []string{"2021-05-12", "2021-06-02", "2021-06-10"} {
		e.at(on)
		a := do(e.cmd.RecordAssessment.Handle(ctx, commands.RecordAssessment{Header: member(on), CouncilID: council.ID, IndicatorID: fx.i1,
			Position: domain.PositionDisagree, Comment: "The report does not show the work."}))
		assessments = append(assessments, a.ID)
	}
	e.at("2021-06-11")
	do(e.cmd.WithdrawAssessment.Handle(ctx, commands.WithdrawAssessment{Header: withReason(member("2021-06-11"), "recorded twice"),
		AssessmentID: assessments[2]}))
	e.at("2021-06-20")
	reply := admin("2021-06-20")
	reply.Actor = commands.Actor{ID: "deputy-A", Role: "deputy"}
	do(e.cmd.ReplyToAssessment.Handle(ctx, commands.ReplyToAssessment{Header: reply, AssessmentID: assessments[0], RespondentID: "deputy-A",
		Reply: "The measure was done in May."}))
	e.publishV2()
	v3 := ratingV3
	v3.Header = admin("2021-08-01")
	do(e.cmd.PublishRatingMethod.Handle(ctx, v3))
	e.settle(1, councilProjectors...)

	live := liveLevel(t, e, "district")
	got := ratingsFor(t, live, 3, q2)
	checkScores(t, "v3 Q2", got, map[string]scoreRank{"deputy-A": {75, 1}, "deputy-B": {50, 2}, "deputy-C": {25, 3}, "deputy-D": {}})
	for id, want := range map[string][2]float64{"deputy-A": {1, 2}, "deputy-B": {0, 2}} {
		c := got[id].Components[0]
		if !c.HasData || c.Numerator != want[0] || c.Denominator != want[1] || math.Abs(c.Raw-want[0]/want[1]) > 1e-9 {
			t.Errorf("%s replies: %+v, want %v of %v", id, c, want[0], want[1])
		}
	}
	if c := got["deputy-A"].Components[0]; len(c.Events) != 3 {
		t.Errorf("deputy-A replies: events %v, want both assessments and the reply", c.Events)
	}
	if c := got["deputy-C"].Components[0]; c.HasData {
		t.Errorf("deputy-C replies: %+v, want no data", c)
	}

	all, err := projections.RatingsAt(ctx, e.db, "district", projections.Axes{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameRatings(t, live, all) {
		t.Error("the live read model differs from a fresh computation")
	}
	before := dumpTables(t, e.db, projections.RatingsName)
	if _, err := projections.Rebuild(ctx, e.db, e.store, projections.Ratings{}); err != nil {
		t.Fatal(err)
	}
	e.settle(1000, projections.Ratings{})
	if after := dumpTables(t, e.db, projections.RatingsName); after != before {
		t.Errorf("a rebuild differs from the live read model\nlive:\n%s\nrebuilt:\n%s", before, after)
	}
}

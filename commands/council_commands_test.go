package commands_test

import (
	"context"
	"errors"
	"testing"

	"promiseledger/commands"
	"promiseledger/domain"
)

func as(actor string) commands.Header {
	return commands.Header{Actor: commands.Actor{ID: actor, Role: "council"}}
}

// TestRecommendationThroughHandlers runs a recommendation's whole life
// through the handlers: the council and its members, the draft linked to a
// roadmap, the illegal answer before submission, submission, answer,
// correction, verdict and dissent, and the idempotent retry.
func TestRecommendationThroughHandlers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	roadmap := f.world(t)
	council := must(t)(f.h.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: officer, TerritoryKATO: "110000000",
		Level: domain.CouncilRegional, Name: name}))
	for _, m := range []commands.JoinCouncil{
		{CouncilID: council.ID, MemberID: "member-1", Role: domain.MemberChair, DisplayName: "Айгерим С."},
		{CouncilID: council.ID, MemberID: "member-2", Role: domain.MemberMember, DisplayName: "Ерлан Б."},
	} {
		m.Header = officer
		must(t)(f.h.JoinCouncil.Handle(ctx, m))
	}
	draft := commands.DraftRecommendation{Header: as("member-1"), CouncilID: council.ID, Title: name, Proposal: name,
		Addressee: domain.StateBody{ID: "akimat-110000000", Name: name},
		Links:     domain.RecommendationLinks{RoadmapIDs: []string{roadmap}, Topics: []string{"food_prices"}}}
	byStranger := draft
	byStranger.Header = as("stranger")
	if _, err := f.h.DraftRecommendation.Handle(ctx, byStranger); !errors.Is(err, domain.ErrNotMember) {
		t.Fatalf("a stranger drafts: %v", err)
	}
	rec := must(t)(f.h.DraftRecommendation.Handle(ctx, draft))

	_, err := f.h.AnswerRecommendation.Handle(ctx, commands.AnswerRecommendation{Header: officer, RecommendationID: rec.ID,
		Decision: domain.DecisionAccepted, Reply: "Yes.", Evidence: link})
	var te *domain.TransitionError
	if !errors.As(err, &te) || !errors.Is(err, domain.ErrNotSubmitted) {
		t.Fatalf("answer before submission: %v", err)
	}
	must(t)(f.h.SubmitRecommendation.Handle(ctx, commands.SubmitRecommendation{Header: as("member-2"), RecommendationID: rec.ID}))
	must(t)(f.h.AcknowledgeRecommendation.Handle(ctx, commands.AcknowledgeRecommendation{Header: officer, RecommendationID: rec.ID, Reference: "№ 17"}))
	answer := must(t)(f.h.AnswerRecommendation.Handle(ctx, commands.AnswerRecommendation{Header: officer, RecommendationID: rec.ID,
		Decision: domain.DecisionAccepted, Reply: "Accepted in full.", Evidence: link}))
	must(t)(f.h.CorrectRecommendationAnswer.Handle(ctx, commands.CorrectRecommendationAnswer{Header: because("only partly"), RecommendationID: rec.ID,
		Corrects: answer.EventIDs[0].String(), Decision: domain.DecisionPartiallyAccepted, Reply: "Accepted in part.", Evidence: link}))
	judge := commands.JudgeRecommendation{Header: as("member-1"), RecommendationID: rec.ID, Verdict: domain.VerdictNotImplemented, Comment: "Nothing changed."}
	judge.EventID = answer.EventIDs[0] // reusing another event's id is refused
	if _, err := f.h.JudgeRecommendation.Handle(ctx, judge); err == nil {
		t.Fatal("an event id of another event type was accepted")
	}
	judge.EventID = [16]byte{1}
	first := must(t)(f.h.JudgeRecommendation.Handle(ctx, judge))
	again := must(t)(f.h.JudgeRecommendation.Handle(ctx, judge))
	if !again.Duplicate || again.Version != first.Version {
		t.Fatalf("retry: %+v after %+v", again, first)
	}
	must(t)(f.h.AttachDissent.Handle(ctx, commands.AttachDissent{Header: as("member-2"), RecommendationID: rec.ID, MemberID: "member-2",
		Opinion: "The council asked too little of the akimat."}))

	s, err := domain.FoldRecommendation(f.history(t, domain.RecommendationStream(rec.ID)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != domain.RecommendationNotImplementedStatus || s.Decision() != domain.DecisionPartiallyAccepted ||
		len(s.Dissents) != 1 || s.DraftedBy != "member-1" || s.ResponseDeadline.IsZero() || s.Reference != "№ 17" {
		t.Fatalf("state: %+v", s)
	}
	if _, err := f.h.WithdrawRecommendation.Handle(ctx, commands.WithdrawRecommendation{Header: with(as("member-1"), func(h *commands.Header) { h.Reason = "x" }),
		RecommendationID: rec.ID}); !errors.Is(err, domain.ErrAlreadyAnswered) {
		t.Fatalf("withdraw after the answer: %v", err)
	}
}

func TestAssessmentThroughHandlers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	roadmap := f.world(t)
	indicator := f.indicator(t, roadmap)
	must(t)(f.h.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: officer, RoadmapID: roadmap,
		PersonID: "deputy-1", Role: domain.RoleDeputy, DisplayName: "Айгерим Сейткали"}))
	must(t)(f.h.ReportProgress.Handle(ctx, commands.ReportProgress{Header: officer, IndicatorID: indicator, Value: num(60), Evidence: link}))
	council := must(t)(f.h.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: officer, TerritoryKATO: "110000000",
		Level: domain.CouncilRegional, Name: name}))
	must(t)(f.h.JoinCouncil.Handle(ctx, commands.JoinCouncil{Header: officer, CouncilID: council.ID, MemberID: "member-1",
		Role: domain.MemberMember, DisplayName: "Дана К."}))
	a := must(t)(f.h.RecordAssessment.Handle(ctx, commands.RecordAssessment{Header: as("member-1"), CouncilID: council.ID, IndicatorID: indicator,
		Position: domain.PositionDisagree, Comment: "Only 40 km are built, not 60."}))
	if _, err := f.h.ReplyToAssessment.Handle(ctx, commands.ReplyToAssessment{Header: as("deputy-2"), AssessmentID: a.ID,
		RespondentID: "deputy-2", Reply: "Not mine."}); !errors.Is(err, domain.ErrNotRespondent) {
		t.Fatalf("a stranger replies: %v", err)
	}
	must(t)(f.h.ReplyToAssessment.Handle(ctx, commands.ReplyToAssessment{Header: as("deputy-1"), AssessmentID: a.ID,
		RespondentID: "deputy-1", Reply: "The report counts the 20 km under repair."}))
	s, err := domain.FoldAssessment(f.history(t, domain.AssessmentStream(a.ID)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.ReportedStatus != domain.StatusInProgress || s.ReportID == "" || len(s.Replies) != 1 || s.RoadmapID != roadmap {
		t.Fatalf("assessment: %+v", s)
	}
}

func TestDeputyThroughHandlers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	roadmap := f.world(t)
	asm := domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: "110000000", Level: domain.CouncilRegional}
	must(t)(f.h.RegisterDeputy.Handle(ctx, commands.RegisterDeputy{Header: with(officer, func(h *commands.Header) { h.EffectiveAt = start.AddDate(0, -3, 0) }),
		DeputyID: "deputy-1", DisplayName: "Айгерим Сейткали", Assembly: asm}))
	if _, err := f.h.RegisterDeputy.Handle(ctx, commands.RegisterDeputy{Header: officer, DeputyID: "deputy-2", DisplayName: "X",
		Assembly: domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: "750000000", Level: domain.CouncilRegional}}); !errors.Is(err, domain.ErrUnknownReference) {
		t.Fatalf("an unregistered territory: %v", err)
	}
	must(t)(f.h.JoinFaction.Handle(ctx, commands.JoinFaction{Header: officer, DeputyID: "deputy-1", Faction: "nur-otan"}))
	must(t)(f.h.AssignDeputyResponsibility.Handle(ctx, commands.AssignDeputyResponsibility{Header: officer, DeputyID: "deputy-1",
		Subject: domain.ResponsibleForRoadmap, SubjectID: roadmap}))
	if _, err := f.h.AssignDeputyResponsibility.Handle(ctx, commands.AssignDeputyResponsibility{Header: officer, DeputyID: "deputy-1",
		Subject: domain.ResponsibleForIndicator, SubjectID: roadmap}); !errors.Is(err, domain.ErrUnknownReference) {
		t.Fatalf("a roadmap id as an indicator: %v", err)
	}
	counts := domain.ActivityCounts{ReceptionsHeld: 3, PeopleReceived: 20, AppealsHandled: 10, Outcomes: domain.AppealOutcomes{Positive: 9, Pending: 1}}
	april := must(t)(f.h.ReportDeputyActivity.Handle(ctx, commands.ReportDeputyActivity{Header: officer, DeputyID: "deputy-1",
		Period: domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 4, 30)}, Counts: counts}))
	june := domain.Period{Start: domain.NewDate(2021, 6, 1), End: domain.NewDate(2021, 6, 30)}
	if _, err := f.h.ReportDeputyActivity.Handle(ctx, commands.ReportDeputyActivity{Header: officer, DeputyID: "deputy-1", Period: june, Counts: counts}); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("a period that has not ended (the clock is at 2021-06-01): %v", err)
	}
	counts.ReceptionsHeld = 4
	must(t)(f.h.CorrectDeputyActivity.Handle(ctx, commands.CorrectDeputyActivity{Header: because("one reception missed"), DeputyID: "deputy-1",
		Corrects: april.EventIDs[0].String(), Counts: counts}))
	d, err := domain.FoldDeputy(f.history(t, domain.DeputyStream("deputy-1")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum, events, ok := d.ActivityIn(domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)}); !ok || sum.ReceptionsHeld != 4 || len(events) != 2 {
		t.Fatalf("activity after the correction: %+v %v", sum, events)
	}
	res := must(t)(f.h.PublishRatingMethod.Handle(ctx, commands.PublishRatingMethod{Header: officer, Method: "faction-rating", Title: name,
		Summary: "test", EffectiveFrom: domain.NewDate(2021, 1, 1), Formula: domain.RatingFormula{
			Period:     domain.RatingPeriod{Kind: domain.PeriodQuarter, From: domain.NewDate(2021, 1, 1)},
			Components: []domain.RatingComponent{{Key: "r", Title: name, Source: domain.MetricReceptionsHeld, Weight: 1, Normalization: domain.Normalization{Kind: domain.NormalizeMinMax, Scope: domain.ScopeLevel}}},
			Minimum:    domain.MinimumData{FactionDays: 1, Components: 1, Peers: 1},
		}}))
	if res.Stream != "rating-method-faction-rating" || res.Version != 1 {
		t.Fatalf("publish: %+v", res)
	}
}

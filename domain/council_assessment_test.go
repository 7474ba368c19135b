package domain_test

import (
	"testing"

	"promiseledger/domain"
)

func TestAssessment(t *testing.T) {
	t.Parallel()
	council := councilWith(t)
	stranger := mustRebuild(t, domain.RebuildCouncil, councilRegistered, otherJoined)
	added := numericAdded
	added.ResponsibleID = "official-9"
	report := reported("r1", 50)
	indicator, err := domain.FoldIndicator(history(added, report), nil)
	if err != nil {
		t.Fatal(err)
	}
	deputy := domain.Responsible{PersonID: "deputy-1", Role: domain.RoleDeputy, DisplayName: "Айгерим Сейткали"}
	roadmap := mustRebuild(t, domain.RebuildRoadmap, roadmapRegistered,
		domain.RoadmapResponsibleAssigned{RoadmapID: roadmapID, Responsible: deputy},
		domain.RoadmapResponsibleAssigned{RoadmapID: roadmapID, Responsible: domain.Responsible{PersonID: "official-9", Role: domain.RoleOfficial, DisplayName: "Аким"}})
	input := domain.AssessmentInput{AssessmentID: assessmentID, CouncilID: councilID, IndicatorID: indicatorID,
		Position: domain.PositionDisagree, Comment: "The road is not built: see the photos.", Evidence: domain.Evidence{URL: "https://example.kz/photos"}}
	recorded := domain.AssessmentRecorded{AssessmentID: assessmentID, CouncilID: councilID, IndicatorID: indicatorID, RoadmapID: roadmapID,
		ReportedStatus: domain.StatusInProgress, ReportID: "r1", Position: domain.PositionDisagree, Comment: input.Comment,
		Evidence: input.Evidence, Respondents: []string{"official-9", "deputy-1"}}
	record := func(in domain.AssessmentInput, c *domain.Council, ind domain.IndicatorState) func(*domain.Assessment, domain.Meta) error {
		return func(a *domain.Assessment, m domain.Meta) error { return a.Record(in, c, ind, roadmap, m) }
	}
	with := func(edit func(*domain.AssessmentInput)) domain.AssessmentInput {
		in := input
		edit(&in)
		return in
	}
	reply := func(who, text string) func(*domain.Assessment, domain.Meta) error {
		return func(a *domain.Assessment, m domain.Meta) error { return a.Reply(who, text, domain.Evidence{}, m) }
	}
	withdraw := func(c *domain.Council) func(*domain.Assessment, domain.Meta) error {
		return func(a *domain.Assessment, m domain.Meta) error { return a.Withdraw(c, m) }
	}
	replied := domain.AssessmentReplied{AssessmentID: assessmentID, ReplyID: whenID.String(), RespondentID: "deputy-1", Reply: "Construction resumes in May."}
	withdrawn := domain.AssessmentWithdrawn{AssessmentID: assessmentID}

	runScenarios(t, domain.RebuildAssessment, []scenario[*domain.Assessment]{
		{name: "records a disagreement, snapshotting status and respondents", when: record(input, council, indicator), then: []domain.Event{recorded}},
		{name: "names the report assessed", when: record(with(func(in *domain.AssessmentInput) { in.ReportID = "r1" }), council, indicator), then: []domain.Event{recorded}},
		{name: "an unknown report", when: record(with(func(in *domain.AssessmentInput) { in.ReportID = "r9" }), council, indicator), err: domain.ErrReportNotFound, field: "report_id"},
		{name: "an unknown indicator", when: record(input, council, domain.IndicatorState{}), err: domain.ErrUnknownReference, field: "indicator_id"},
		{name: "only a member assesses", when: record(input, stranger, indicator), err: domain.ErrNotMember},
		{name: "needs a comment", when: record(with(func(in *domain.AssessmentInput) { in.Comment = " " }), council, indicator), field: "comment"},
		{name: "needs a position", when: record(with(func(in *domain.AssessmentInput) { in.Position = "unsure" }), council, indicator), field: "position"},
		{name: "a bad evidence link", when: record(with(func(in *domain.AssessmentInput) { in.Evidence.URL = "photos" }), council, indicator), field: "evidence.url"},
		{name: "the responsible deputy replies", given: history(recorded), when: reply("deputy-1", " Construction resumes in May. "), then: []domain.Event{replied}},
		{name: "someone else may not reply", given: history(recorded), when: reply("deputy-2", "I disagree"), err: domain.ErrNotRespondent},
		{name: "one reply per respondent", given: history(recorded, replied), when: reply("deputy-1", "again"), err: domain.ErrAlreadyExists},
		{name: "a reply needs text", given: history(recorded), when: reply("deputy-1", ""), field: "reply"},
		{name: "withdrawn with a reason", given: history(recorded), reason: "wrong indicator", when: withdraw(council), then: []domain.Event{withdrawn}},
		{name: "withdrawal needs a reason", given: history(recorded), when: withdraw(council), err: domain.ErrReasonRequired},
		{name: "only a member withdraws", given: history(recorded), reason: "x", when: withdraw(stranger), err: domain.ErrNotMember},
		{name: "no reply after withdrawal", given: history(recorded, withdrawn), when: reply("deputy-1", "late"), err: domain.ErrWithdrawn},
	})
}

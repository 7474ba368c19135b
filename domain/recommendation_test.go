package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"promiseledger/domain"
)

var (
	akimat  = domain.StateBody{ID: "akimat-110000000", Name: domain.Text{KK: "Ақмола облысының әкімдігі", RU: "Акимат Акмолинской области", EN: "Akmola Region akimat"}}
	drafted = domain.RecommendationDrafted{
		RecommendationID: recommendationID, CouncilID: councilID,
		Title:     domain.Text{KK: "Мемлекеттік сатып алу", RU: "Госзакупки", EN: "Public procurement"},
		Proposal:  domain.Text{KK: "Конкурстарды ашық өткізу", RU: "Проводить конкурсы открыто", EN: "Hold tenders in the open"},
		Addressee: akimat,
		Links:     domain.RecommendationLinks{RoadmapIDs: []string{roadmapID}, Topics: []string{"public_procurement"}},
	}
	submitted    = domain.RecommendationSubmitted{RecommendationID: recommendationID, ResponseDeadline: domain.NewDate(2021, 4, 1)}
	acknowledged = domain.RecommendationAcknowledged{RecommendationID: recommendationID, Reference: "вх-123"}
	letter       = domain.Evidence{URL: "https://akmola.gov.kz/answers/123.pdf", Description: "the akimat's letter"}
	answered     = domain.RecommendationAnswered{RecommendationID: recommendationID, AnswerID: "a1",
		Answer: domain.Answer{Decision: domain.DecisionPartiallyAccepted, Reply: "Tenders for roads will be open from July.", Evidence: letter}}
	implemented = domain.RecommendationJudged{RecommendationID: recommendationID, Verdict: domain.VerdictImplemented, Comment: "tenders are open"}
	refs        = domain.References{Roadmaps: map[string]bool{roadmapID: true}}
)

func TestRecommendationLifecycle(t *testing.T) {
	t.Parallel()
	council := councilWith(t)
	stranger := mustRebuild(t, domain.RebuildCouncil, councilRegistered, otherJoined)
	draft := func(e domain.RecommendationDrafted, c *domain.Council) func(*domain.Recommendation, domain.Meta) error {
		return func(a *domain.Recommendation, m domain.Meta) error { return a.Draft(e, c, refs, m) }
	}
	with := func(edit func(*domain.RecommendationDrafted)) domain.RecommendationDrafted {
		e := drafted
		e.Links.RoadmapIDs = append([]string(nil), drafted.Links.RoadmapIDs...)
		edit(&e)
		return e
	}
	submit := func(d domain.Date, c *domain.Council) func(*domain.Recommendation, domain.Meta) error {
		return func(a *domain.Recommendation, m domain.Meta) error { return a.Submit(d, c, m) }
	}
	acknowledge := func(a *domain.Recommendation, m domain.Meta) error { return a.Acknowledge(" вх-123 ", m) }
	answer := func(ans domain.Answer) func(*domain.Recommendation, domain.Meta) error {
		return func(a *domain.Recommendation, m domain.Meta) error { return a.Answer(ans, m) }
	}
	judge := func(v domain.Verdict, c *domain.Council) func(*domain.Recommendation, domain.Meta) error {
		return func(a *domain.Recommendation, m domain.Meta) error {
			return a.Judge(domain.Judgement{Verdict: v, Comment: "tenders are open"}, c, m)
		}
	}
	withdraw := func(c *domain.Council) func(*domain.Recommendation, domain.Meta) error {
		return func(a *domain.Recommendation, m domain.Meta) error { return a.Withdraw(c, m) }
	}
	dissent := func(member string, c *domain.Council) func(*domain.Recommendation, domain.Meta) error {
		return func(a *domain.Recommendation, m domain.Meta) error {
			return a.AttachDissent(member, "Open tenders alone will not lower prices.", c, m)
		}
	}
	correct := func(corrects string, ans domain.Answer) func(*domain.Recommendation, domain.Meta) error {
		return func(a *domain.Recommendation, m domain.Meta) error { return a.CorrectAnswer(corrects, ans, m) }
	}
	accepted := answered.Answer
	accepted.Decision = domain.DecisionAccepted
	whenAnswered := domain.RecommendationAnswered{RecommendationID: recommendationID, AnswerID: whenID.String(), Answer: accepted}
	withdrawn := domain.RecommendationWithdrawn{RecommendationID: recommendationID}

	runScenarios(t, domain.RebuildRecommendation, []scenario[*domain.Recommendation]{
		// Drafting.
		{name: "a member drafts", when: draft(drafted, council), then: []domain.Event{drafted}},
		{name: "links are trimmed and deduplicated", when: draft(with(func(e *domain.RecommendationDrafted) {
			e.Links.RoadmapIDs = []string{" " + roadmapID, roadmapID}
			e.Links.Topics = []string{"public_procurement", " public_procurement "}
		}), council), then: []domain.Event{drafted}},
		{name: "only a member drafts", when: draft(drafted, stranger), err: domain.ErrNotMember},
		{name: "council not registered", when: draft(drafted, nil), err: domain.ErrUnknownReference, field: "council_id"},
		{name: "roadmap not registered", when: draft(with(func(e *domain.RecommendationDrafted) { e.Links.RoadmapIDs = []string{otherID} }), council),
			err: domain.ErrUnknownReference, field: "links.roadmap_ids[0]"},
		{name: "topic is a slug", when: draft(with(func(e *domain.RecommendationDrafted) { e.Links.Topics = []string{"Food Prices"} }), council), field: "links.topics[0]"},
		{name: "addressee needs an id", when: draft(with(func(e *domain.RecommendationDrafted) { e.Addressee.ID = "" }), council), field: "addressee.id"},
		{name: "no contact data in the proposal", when: draft(with(func(e *domain.RecommendationDrafted) { e.Proposal.RU = "Пишите на ivanov@mail.kz" }), council),
			field: "proposal.ru"},
		{name: "no national id in the proposal", when: draft(with(func(e *domain.RecommendationDrafted) { e.Proposal.EN = "Applicant IIN 870412300415" }), council),
			field: "proposal.en"},
		{name: "drafted twice", given: history(drafted), when: draft(drafted, council), err: domain.ErrAlreadyExists},

		// Submission.
		{name: "submits with a deadline", given: history(drafted), effective: t0.Add(2 * time.Hour), when: submit(domain.NewDate(2021, 4, 1), council),
			then: []domain.Event{submitted}},
		{name: "default deadline: thirty days", given: history(drafted), when: submit(domain.Date{}, council),
			then: []domain.Event{domain.RecommendationSubmitted{RecommendationID: recommendationID, ResponseDeadline: domain.NewDate(2021, 7, 1)}}},
		{name: "deadline before submission", given: history(drafted), when: submit(domain.NewDate(2021, 5, 31), council), field: "response_deadline"},
		{name: "only a member submits", given: history(drafted), when: submit(domain.Date{}, stranger), err: domain.ErrNotMember},
		{name: "submitted twice", given: history(drafted, submitted), when: submit(domain.Date{}, council), err: domain.ErrInvalidTransition},
		{name: "submit a missing recommendation", when: submit(domain.Date{}, council), err: domain.ErrNotFound},

		// The body's side.
		{name: "acknowledged", given: history(drafted, submitted), when: acknowledge, then: []domain.Event{acknowledged}},
		{name: "no acknowledgement before submission", given: history(drafted), when: acknowledge, err: domain.ErrNotSubmitted},
		{name: "no answer before submission", given: history(drafted), when: answer(accepted), err: domain.ErrNotSubmitted},
		{name: "answers a submitted one", given: history(drafted, submitted), when: answer(accepted), then: []domain.Event{whenAnswered}},
		{name: "answers an acknowledged one", given: history(drafted, submitted, acknowledged), when: answer(accepted), then: []domain.Event{whenAnswered}},
		{name: "answers once", given: history(drafted, submitted, answered), when: answer(accepted), err: domain.ErrAlreadyAnswered},
		{name: "answer needs evidence", given: history(drafted, submitted), when: answer(domain.Answer{Decision: domain.DecisionRejected, Reply: "no"}), field: "evidence"},
		{name: "answer needs a decision", given: history(drafted, submitted), when: answer(domain.Answer{Decision: "maybe", Reply: "no", Evidence: letter}), field: "decision"},
		{name: "answer needs a reply", given: history(drafted, submitted), when: answer(domain.Answer{Decision: domain.DecisionRejected, Evidence: letter}), field: "reply"},
		{name: "corrects an answer", given: history(drafted, submitted, answered), reason: "decision misread", when: correct("a1", accepted),
			then: []domain.Event{domain.RecommendationAnswerCorrected{RecommendationID: recommendationID, AnswerID: whenID.String(), Corrects: "a1", Answer: accepted}}},
		{name: "correction needs a reason", given: history(drafted, submitted, answered), when: correct("a1", accepted), err: domain.ErrReasonRequired},
		{name: "correct an unknown answer", given: history(drafted, submitted, answered), reason: "x", when: correct("zz", accepted), err: domain.ErrReportNotFound, field: "corrects"},
		{name: "no correction before an answer", given: history(drafted, submitted), reason: "x", when: correct("a1", accepted), err: domain.ErrNotAnswered},

		// The council's verdict.
		{name: "judged implemented", given: history(drafted, submitted, answered), when: judge(domain.VerdictImplemented, council), then: []domain.Event{implemented}},
		{name: "no verdict before an answer", given: history(drafted, submitted), when: judge(domain.VerdictImplemented, council), err: domain.ErrNotAnswered},
		{name: "only a member judges", given: history(drafted, submitted, answered), when: judge(domain.VerdictImplemented, stranger), err: domain.ErrNotMember},
		{name: "a revised verdict needs a reason", given: history(drafted, submitted, answered, implemented), when: judge(domain.VerdictNotImplemented, council),
			err: domain.ErrReasonRequired},
		{name: "revised with a reason", given: history(drafted, submitted, answered, implemented), reason: "tenders closed again",
			when: judge(domain.VerdictNotImplemented, council), then: []domain.Event{domain.RecommendationJudged{RecommendationID: recommendationID,
				Verdict: domain.VerdictNotImplemented, Comment: "tenders are open"}}},
		{name: "the same verdict twice", given: history(drafted, submitted, answered, implemented), reason: "x", when: judge(domain.VerdictImplemented, council),
			err: domain.ErrInvalidTransition},

		// Withdrawal and dissent.
		{name: "withdrawn before an answer", given: history(drafted, submitted), reason: "the akimat fixed it", when: withdraw(council), then: []domain.Event{withdrawn}},
		{name: "withdrawal needs a reason", given: history(drafted), when: withdraw(council), err: domain.ErrReasonRequired},
		{name: "no withdrawal after the answer", given: history(drafted, submitted, answered), reason: "x", when: withdraw(council), err: domain.ErrAlreadyAnswered},
		{name: "nothing after withdrawal", given: history(drafted, withdrawn), when: answer(accepted), err: domain.ErrWithdrawn},
		{name: "no dissent after withdrawal", given: history(drafted, withdrawn), when: dissent("member-2", council), err: domain.ErrWithdrawn},
		{name: "a member dissents", given: history(drafted), when: dissent("member-2", council), then: []domain.Event{domain.RecommendationDissentAttached{
			RecommendationID: recommendationID, MemberID: "member-2", Opinion: "Open tenders alone will not lower prices."}}},
		{name: "a non-member cannot dissent", given: history(drafted), when: dissent("member-9", council), err: domain.ErrNotMember},
		{name: "one dissent per member", given: history(drafted, domain.RecommendationDissentAttached{RecommendationID: recommendationID, MemberID: "member-2", Opinion: "no, no, no, no"}),
			when: dissent("member-2", council), err: domain.ErrAlreadyExists},

		// Time.
		{name: "no step before the previous one took effect", given: history(drafted, submitted), effective: t0.Add(30 * time.Minute), when: acknowledge, field: "effective_at"},
	})
}

func TestRecommendationTransitionError(t *testing.T) {
	t.Parallel()
	a := mustRebuild(t, domain.RebuildRecommendation, drafted)
	err := a.Answer(answered.Answer, whenMeta("", time.Time{}))
	var te *domain.TransitionError
	if !errors.As(err, &te) || !errors.Is(err, domain.ErrInvalidTransition) || !errors.Is(err, domain.ErrNotSubmitted) {
		t.Fatalf("answer before submission: %v", err)
	}
	if te.State != "drafted" || te.Action != "answer" || strings.Join(te.Allowed, ",") != "submitted,acknowledged" {
		t.Fatalf("transition error: %+v", te)
	}
	if !strings.Contains(err.Error(), "drafted: cannot answer (only when submitted or acknowledged)") {
		t.Fatalf("message: %v", err)
	}
}

func TestRecommendationCorrectionTakesTheAnswersTime(t *testing.T) {
	t.Parallel()
	a := mustRebuild(t, domain.RebuildRecommendation, drafted, submitted, answered)
	answeredAt := t0.Add(2 * time.Hour)
	if err := a.CorrectAnswer("a1", answered.Answer, whenMeta("typo", time.Time{})); err != nil {
		t.Fatal(err)
	}
	if got := a.Changes()[0].Meta.EffectiveAt; !got.Equal(answeredAt) {
		t.Fatalf("correction effective %s, want the answer's %s", got, answeredAt)
	}
	b := mustRebuild(t, domain.RebuildRecommendation, drafted, submitted, answered)
	if err := b.CorrectAnswer("a1", answered.Answer, whenMeta("typo", now)); err == nil {
		t.Fatal("a correction effective at another time was accepted")
	}
}

// TestRecommendationOverdue: overdue is derived from the deadline and a
// date, and an answer (or a withdrawal) ends it.
func TestRecommendationOverdue(t *testing.T) {
	t.Parallel()
	h := history(drafted, submitted, answered)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d.Add(12 * time.Hour) }
	for _, c := range []struct {
		name string
		keep func(domain.Envelope) bool
		on   string
		want bool
	}{
		{"drafted is never overdue", domain.EffectiveBy(t0), "2022-01-01", false},
		{"on the deadline", domain.EffectiveBy(t0.Add(time.Hour)), "2021-04-01", false},
		{"the day after", domain.EffectiveBy(t0.Add(time.Hour)), "2021-04-02", true},
		{"answered", nil, "2022-01-01", false},
	} {
		s, err := domain.FoldRecommendation(h, c.keep)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Overdue(day(c.on)); got != c.want {
			t.Errorf("%s: Overdue(%s) = %v, want %v (status %s, deadline %s)", c.name, c.on, got, c.want, s.Status, s.ResponseDeadline)
		}
	}
	s, _ := domain.FoldRecommendation(h, nil)
	if s.Decision() != domain.DecisionPartiallyAccepted || s.AnsweredLate(nil) {
		t.Fatalf("answered: %s late=%v", s.Decision(), s.AnsweredLate(nil))
	}
	late := history(drafted, domain.RecommendationSubmitted{RecommendationID: recommendationID, ResponseDeadline: domain.NewDate(2021, 2, 28)}, answered)
	s, _ = domain.FoldRecommendation(late, nil)
	if !s.AnsweredLate(nil) {
		t.Fatal("an answer after the deadline is late")
	}
}

func TestRecommendationFoldSkipsUnseenCorrection(t *testing.T) {
	t.Parallel()
	corrected := domain.RecommendationAnswerCorrected{RecommendationID: recommendationID, AnswerID: "a2", Corrects: "a1",
		Answer: domain.Answer{Decision: domain.DecisionRejected, Reply: "no", Evidence: letter}}
	h := history(drafted, submitted, answered, corrected)
	s, err := domain.FoldRecommendation(h, nil)
	if err != nil || s.Decision() != domain.DecisionRejected {
		t.Fatalf("fold: %v %s", err, s.Decision())
	}
	// A filter that keeps the correction but not the answer skips it.
	s, err = domain.FoldRecommendation(h, func(e domain.Envelope) bool { return e.Event.EventType() != domain.TypeRecommendationAnswered })
	if err != nil || s.Answered() {
		t.Fatalf("fold without the answer: %v %+v", err, s.Answers)
	}
}

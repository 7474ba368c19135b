package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Recommendation is a public council's recommendation to a state body,
// followed until the body answers and the council judges whether it was
// implemented.
type Recommendation struct {
	recorder
	state RecommendationState
}

// RebuildRecommendation folds a recommendation's stored history.
func RebuildRecommendation(history []Envelope) (*Recommendation, error) {
	a := &Recommendation{}
	if err := a.replay(history, a.state.Apply); err != nil {
		return nil, fmt.Errorf("rebuild recommendation: %w", err)
	}
	return a, nil
}

// ID is the recommendation's id ("" before it is drafted).
func (a *Recommendation) ID() string { return a.state.ID }

// CouncilID is the council that drafted it.
func (a *Recommendation) CouncilID() string { return a.state.CouncilID }

// Exists reports whether the recommendation was drafted.
func (a *Recommendation) Exists() bool { return a.state.ID != "" }

// State returns a copy of the folded state.
func (a *Recommendation) State() RecommendationState { return a.state.clone() }

// References are the roadmaps and indicators a caller found registered,
// for the links of a recommendation.
type References struct {
	Roadmaps   map[string]bool
	Indicators map[string]bool
}

// maxLinks bounds each list of links.
const maxLinks = 50

// Draft records a new recommendation of council, drafted by the actor of m,
// who must be a current member. refs says which linked roadmaps and
// indicators exist.
func (a *Recommendation) Draft(e RecommendationDrafted, council *Council, refs References, m Meta) error {
	if a.Exists() {
		return fmt.Errorf("recommendation %s: %w", a.state.ID, ErrAlreadyExists)
	}
	if council != nil && council.Exists() && council.state.ID == e.CouncilID {
		if err := actingMember(council, e.CouncilID, m); err != nil {
			return err
		}
	}
	var v validator
	m = a.stamp(m, &v)
	e = normalizeDrafted(e)
	validateID(&v, "recommendation_id", e.RecommendationID)
	validateID(&v, "council_id", e.CouncilID)
	if council == nil || !council.Exists() || council.state.ID != e.CouncilID {
		v.rule("council_id", ErrUnknownReference, fmt.Sprintf("no council %s is registered", e.CouncilID))
	} else if effectiveOf(m).Before(council.state.RegisteredAt) {
		v.add("effective_at", "is before the council was registered")
	}
	validateLongText(&v, "title", e.Title, false, maxShortText)
	validateLongText(&v, "proposal", e.Proposal, true, maxLongText)
	validateSlug(&v, "addressee.id", e.Addressee.ID)
	validateLongText(&v, "addressee.name", e.Addressee.Name, false, maxShortText)
	validateLinks(&v, e.Links, refs)
	if err := v.err(); err != nil {
		return err
	}
	return a.record(e, m, a.state.Apply)
}

func normalizeDrafted(e RecommendationDrafted) RecommendationDrafted {
	e.Title, e.Proposal = e.Title.trimmed(), e.Proposal.cleaned(true)
	e.Addressee.ID = strings.TrimSpace(e.Addressee.ID)
	e.Addressee.Name = e.Addressee.Name.trimmed()
	e.Links.RoadmapIDs = dedupe(trimAll(e.Links.RoadmapIDs))
	e.Links.IndicatorIDs = dedupe(trimAll(e.Links.IndicatorIDs))
	e.Links.Topics = dedupe(trimAll(e.Links.Topics))
	return e
}

func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// validateLongText checks a cleaned Text: every language given, keeping
// the text rules (at most max characters), no contact data.
func validateLongText(v *validator, field string, t Text, multiline bool, max int) {
	for _, l := range []struct{ lang, name, s string }{{"kk", "Kazakh", t.KK}, {"ru", "Russian", t.RU}, {"en", "English", t.EN}} {
		if l.s == "" {
			v.add(field+"."+l.lang, "is required ("+l.name+")")
			continue
		}
		validateFreeText(v, field+"."+l.lang, l.s, true, multiline, max)
	}
}

func validateLinks(v *validator, l RecommendationLinks, refs References) {
	check := func(field string, ids []string, known map[string]bool, what string) {
		if len(ids) > maxLinks {
			v.addf(field, "at most %d", maxLinks)
			return
		}
		for i, id := range ids {
			f := fmt.Sprintf("%s[%d]", field, i)
			if ValidateID(f, id) != nil {
				validateID(v, f, id)
			} else if !known[id] {
				v.rule(f, ErrUnknownReference, fmt.Sprintf("no %s %s is registered", what, id))
			}
		}
	}
	check("links.roadmap_ids", l.RoadmapIDs, refs.Roadmaps, "roadmap")
	check("links.indicator_ids", l.IndicatorIDs, refs.Indicators, "indicator")
	if len(l.Topics) > maxLinks {
		v.addf("links.topics", "at most %d", maxLinks)
	}
	for i, t := range l.Topics {
		validateSlug(v, fmt.Sprintf("links.topics[%d]", i), t)
	}
}

// Submit sends the recommendation to the body, to be answered by deadline;
// a zero deadline means DefaultResponseDays after the submission's date
// (UTC). The actor must be a current member of the council.
func (a *Recommendation) Submit(deadline Date, council *Council, m Meta) error {
	if err := a.transition("submit", RecommendationDraftedStatus); err != nil {
		return err
	}
	if err := actingMember(council, a.state.CouncilID, m); err != nil {
		return err
	}
	var v validator
	m = a.stamp(m, &v)
	monotonic(&v, m, a.state.last)
	submitted := DateOf(effectiveOf(m).UTC())
	if deadline.IsZero() {
		deadline = DateOf(time.Date(submitted.Year, submitted.Month, submitted.Day+DefaultResponseDays, 0, 0, 0, 0, time.UTC))
	}
	deadline.validate(&v, "response_deadline")
	if deadline.Valid() && deadline.Before(submitted) {
		v.addf("response_deadline", "is before the recommendation is submitted (%s)", submitted)
	}
	if err := v.err(); err != nil {
		return err
	}
	return a.record(RecommendationSubmitted{RecommendationID: a.state.ID, ResponseDeadline: deadline}, m, a.state.Apply)
}

// Acknowledge records that the body registered the recommendation, with
// its incoming number if given.
func (a *Recommendation) Acknowledge(reference string, m Meta) error {
	if err := a.transition("acknowledge", RecommendationSubmittedStatus); err != nil {
		return err
	}
	var v validator
	m = a.stamp(m, &v)
	monotonic(&v, m, a.state.last)
	reference = cleanText(reference, false)
	validateFreeText(&v, "reference", reference, false, false, maxShortText)
	if err := v.err(); err != nil {
		return err
	}
	return a.record(RecommendationAcknowledged{RecommendationID: a.state.ID, Reference: reference}, m, a.state.Apply)
}

// Answer records the body's answer: a decision, its reply text and
// evidence. The answer's id is the event id.
func (a *Recommendation) Answer(ans Answer, m Meta) error {
	if err := a.transition("answer", RecommendationSubmittedStatus, RecommendationAcknowledgedStatus); err != nil {
		return err
	}
	var v validator
	m = a.stamp(m, &v)
	monotonic(&v, m, a.state.last)
	ans = checkAnswer(&v, ans)
	if err := v.err(); err != nil {
		return err
	}
	return a.record(RecommendationAnswered{RecommendationID: a.state.ID, AnswerID: m.EventID.String(), Answer: ans}, m, a.state.Apply)
}

func checkAnswer(v *validator, ans Answer) Answer {
	ans.Reply = cleanText(ans.Reply, true)
	v.check(ans.Decision.Valid(), "decision", `must be "accepted", "partially_accepted" or "rejected"`)
	validateFreeText(v, "reply", ans.Reply, true, true, maxLongText)
	ans.Evidence = evidenceRequired(v, "evidence", ans.Evidence)
	return ans
}

// CorrectAnswer records that the answer corrects (the latest of its chain)
// should have said ans. It needs a reason and takes effect when the answer
// did: an EffectiveAt in m other than zero or that time is refused.
func (a *Recommendation) CorrectAnswer(corrects string, ans Answer, m Meta) error {
	if err := a.transition("correct the answer", RecommendationAnsweredStatus, RecommendationImplementedStatus, RecommendationNotImplementedStatus); err != nil {
		return err
	}
	var v validator
	corrects = strings.TrimSpace(corrects)
	i := a.state.answerIndex(corrects)
	switch {
	case corrects == "":
		v.add("corrects", "name the answer to correct")
	case i < 0:
		v.rule("corrects", ErrReportNotFound, fmt.Sprintf("recommendation %s has no answer %s", a.state.ID, corrects))
	case a.state.Answers[i].CorrectedBy != "":
		v.rule("corrects", ErrAlreadyCorrected, fmt.Sprintf("answer %s was corrected by %s: correct that one instead", corrects, a.state.Answers[i].CorrectedBy))
	default:
		asOf := a.state.Answers[i].AnsweredAt
		if !m.EffectiveAt.IsZero() && !m.EffectiveAt.Equal(asOf) {
			v.addf("effective_at", "a correction takes effect when the answer it corrects did (%s)", asOf.Format(time.RFC3339))
		}
		m.EffectiveAt = asOf
	}
	m = a.stamp(m, &v)
	v.requireReason(m, "say what was wrong with the recorded answer")
	ans = checkAnswer(&v, ans)
	if err := v.err(); err != nil {
		return err
	}
	return a.record(RecommendationAnswerCorrected{RecommendationID: a.state.ID, AnswerID: m.EventID.String(),
		Corrects: corrects, Answer: ans}, m, a.state.Apply)
}

// Judge records the council's verdict on implementation. The actor must be
// a current member. A second verdict revises the first: it needs a reason
// and must differ.
func (a *Recommendation) Judge(j Judgement, council *Council, m Meta) error {
	if err := a.transition("judge implementation", RecommendationAnsweredStatus, RecommendationImplementedStatus, RecommendationNotImplementedStatus); err != nil {
		return err
	}
	if err := actingMember(council, a.state.CouncilID, m); err != nil {
		return err
	}
	var v validator
	m = a.stamp(m, &v)
	monotonic(&v, m, a.state.last)
	j.Comment = cleanText(j.Comment, true)
	v.check(j.Verdict.Valid(), "verdict", `must be "implemented" or "not_implemented"`)
	validateFreeText(&v, "comment", j.Comment, false, true, maxLongText)
	j.Evidence = evidenceOptional(&v, "evidence", j.Evidence)
	if prev := a.state.Verdict(); prev != "" {
		v.requireReason(m, "say why the earlier verdict is revised")
		if prev == j.Verdict {
			return &TransitionError{Aggregate: "recommendation", ID: a.state.ID, State: string(a.state.Status),
				Action: "judge it " + string(j.Verdict) + " again"}
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	return a.record(RecommendationJudged{RecommendationID: a.state.ID, Verdict: j.Verdict, Comment: j.Comment, Evidence: j.Evidence}, m, a.state.Apply)
}

// Withdraw withdraws the recommendation before it is answered; it needs a
// reason and the actor must be a current member.
func (a *Recommendation) Withdraw(council *Council, m Meta) error {
	if err := a.transition("withdraw", RecommendationDraftedStatus, RecommendationSubmittedStatus, RecommendationAcknowledgedStatus); err != nil {
		return err
	}
	if err := actingMember(council, a.state.CouncilID, m); err != nil {
		return err
	}
	var v validator
	m = a.stamp(m, &v)
	monotonic(&v, m, a.state.last)
	v.requireReason(m, "say why the recommendation is withdrawn")
	if err := v.err(); err != nil {
		return err
	}
	return a.record(RecommendationWithdrawn{RecommendationID: a.state.ID}, m, a.state.Apply)
}

// AttachDissent puts a member's dissenting opinion on the record: memberID
// must be a current member of the council, once per recommendation.
func (a *Recommendation) AttachDissent(memberID, opinion string, council *Council, m Meta) error {
	if !a.Exists() {
		return fmt.Errorf("recommendation: %w", ErrNotFound)
	}
	if a.state.Status == RecommendationWithdrawnStatus {
		return a.transitionError("attach a dissenting opinion", nil)
	}
	memberID, opinion = strings.TrimSpace(memberID), cleanText(opinion, true)
	if council == nil || !council.Exists() || council.state.ID != a.state.CouncilID {
		return ValidationErrors{{Field: "council_id", Problem: "the recommendation's council is not registered", Err: ErrUnknownReference}}
	}
	if !council.state.IsMember(memberID) {
		return fmt.Errorf("person %q on council %s: %w", memberID, a.state.CouncilID, ErrNotMember)
	}
	if a.state.HasDissent(memberID) {
		return fmt.Errorf("dissent of %s on recommendation %s: %w", memberID, a.state.ID, ErrAlreadyExists)
	}
	var v validator
	m = a.stamp(m, &v)
	monotonic(&v, m, a.state.last)
	validateFreeText(&v, "opinion", opinion, true, true, maxLongText)
	if utf8.RuneCountInString(opinion) < 10 && opinion != "" {
		v.add("opinion", "say what you disagree with (at least 10 characters)")
	}
	if err := v.err(); err != nil {
		return err
	}
	return a.record(RecommendationDissentAttached{RecommendationID: a.state.ID, MemberID: memberID, Opinion: opinion}, m, a.state.Apply)
}

// transition checks that the recommendation exists and is in one of the
// allowed statuses.
func (a *Recommendation) transition(action string, allowed ...RecommendationStatus) error {
	if !a.Exists() {
		return fmt.Errorf("recommendation: %w", ErrNotFound)
	}
	if slices.Contains(allowed, a.state.Status) {
		return nil
	}
	return a.transitionError(action, allowed)
}

// transitionError explains why the action is not allowed now, with the
// sentinel that names the most useful reason.
func (a *Recommendation) transitionError(action string, allowed []RecommendationStatus) error {
	e := &TransitionError{Aggregate: "recommendation", ID: a.state.ID, State: string(a.state.Status), Action: action}
	lo, hi := 99, -1
	for _, s := range allowed {
		e.Allowed = append(e.Allowed, string(s))
		lo, hi = min(lo, s.rank()), max(hi, s.rank())
	}
	cur := a.state.Status.rank()
	switch {
	case a.state.Status == RecommendationWithdrawnStatus:
		e.Err = ErrWithdrawn
	case cur < lo && lo >= RecommendationAnsweredStatus.rank():
		e.Err = ErrNotAnswered
	case cur < lo:
		e.Err = ErrNotSubmitted
	case cur > hi && cur >= RecommendationAnsweredStatus.rank():
		e.Err = ErrAlreadyAnswered
	}
	return e
}

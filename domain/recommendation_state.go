package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// RecommendationStatus is where a recommendation stands:
//
//	drafted → submitted → acknowledged → answered → implemented | not_implemented
//
// Acknowledgement may be skipped (a body may answer straight away); a
// recommendation may be withdrawn until it is answered. Overdue is not a
// status: it is derived from the response deadline and a date.
type RecommendationStatus string

const (
	RecommendationDraftedStatus        RecommendationStatus = "drafted"
	RecommendationSubmittedStatus      RecommendationStatus = "submitted"
	RecommendationAcknowledgedStatus   RecommendationStatus = "acknowledged"
	RecommendationAnsweredStatus       RecommendationStatus = "answered"
	RecommendationImplementedStatus    RecommendationStatus = "implemented"
	RecommendationNotImplementedStatus RecommendationStatus = "not_implemented"
	RecommendationWithdrawnStatus      RecommendationStatus = "withdrawn"
)

// RecommendationStatuses lists the statuses in lifecycle order.
func RecommendationStatuses() []RecommendationStatus {
	return []RecommendationStatus{RecommendationDraftedStatus, RecommendationSubmittedStatus, RecommendationAcknowledgedStatus,
		RecommendationAnsweredStatus, RecommendationImplementedStatus, RecommendationNotImplementedStatus, RecommendationWithdrawnStatus}
}

// Valid reports whether s is a known status.
func (s RecommendationStatus) Valid() bool { return slices.Contains(RecommendationStatuses(), s) }

// rank orders the lifecycle; withdrawn is outside it.
func (s RecommendationStatus) rank() int {
	switch s {
	case RecommendationDraftedStatus:
		return 0
	case RecommendationSubmittedStatus:
		return 1
	case RecommendationAcknowledgedStatus:
		return 2
	case RecommendationAnsweredStatus:
		return 3
	case RecommendationImplementedStatus, RecommendationNotImplementedStatus:
		return 4
	}
	return -1
}

// DefaultResponseDays is how long a state body has to answer when the
// council sets no deadline: thirty days from submission, the time the law on
// citizens' appeals gives for a substantive answer.
const DefaultResponseDays = 30

// AnswerRecord is an answer or a correction of one, as folded.
type AnswerRecord struct {
	ID          string `json:"id"`
	Corrects    string `json:"corrects,omitempty"`
	CorrectedBy string `json:"corrected_by,omitempty"`
	Answer
	// AnsweredAt is when the body answered (a correction keeps the time of
	// the answer it corrects).
	AnsweredAt time.Time `json:"answered_at"`
	EventID    uuid.UUID `json:"event_id"`
	ActorID    string    `json:"actor_id"`
	Reason     string    `json:"reason,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
}

// Judgement is a council's verdict on implementation.
type Judgement struct {
	Verdict  Verdict   `json:"verdict"`
	Comment  string    `json:"comment,omitempty"`
	Evidence Evidence  `json:"evidence,omitzero"`
	At       time.Time `json:"at"`
	EventID  uuid.UUID `json:"event_id"`
	Reason   string    `json:"reason,omitempty"`
}

// Dissent is a member's dissenting opinion.
type Dissent struct {
	MemberID string    `json:"member_id"`
	Opinion  string    `json:"opinion"`
	At       time.Time `json:"at"`
	EventID  uuid.UUID `json:"event_id"`
}

// RecommendationState is the fold of a recommendation's events. The
// aggregate decides with it and read models reuse it; treat it as read
// only. All times are effective times.
type RecommendationState struct {
	ID               string               `json:"id"`
	CouncilID        string               `json:"council_id"`
	Title            Text                 `json:"title"`
	Proposal         Text                 `json:"proposal"`
	Addressee        StateBody            `json:"addressee"`
	Links            RecommendationLinks  `json:"links"`
	DraftedBy        string               `json:"drafted_by"`
	Status           RecommendationStatus `json:"status"`
	ResponseDeadline Date                 `json:"response_deadline,omitzero"`
	Reference        string               `json:"reference,omitempty"`
	// Answers holds every answer and correction in stream order.
	Answers []AnswerRecord `json:"answers,omitempty"`
	// Judgements holds every verdict, the latest in force.
	Judgements []Judgement `json:"judgements,omitempty"`
	Dissents   []Dissent   `json:"dissents,omitempty"`

	DraftedAt      time.Time `json:"drafted_at"`
	SubmittedAt    time.Time `json:"submitted_at,omitzero"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	AnsweredAt     time.Time `json:"answered_at,omitzero"`
	WithdrawnAt    time.Time `json:"withdrawn_at,omitzero"`

	last time.Time
}

// FoldRecommendation folds the events of history that keep accepts (all
// when keep is nil), in order.
func FoldRecommendation(history []Envelope, keep func(Envelope) bool) (RecommendationState, error) {
	var s RecommendationState
	for _, env := range history {
		if keep != nil && !keep(env) {
			continue
		}
		if err := s.Apply(env.Event, env.Meta); err != nil {
			return RecommendationState{}, err
		}
	}
	return s, nil
}

// Apply folds one event. A correction of an answer it has not seen is
// skipped, as for indicator reports: under a filter the answer may not have
// happened yet.
func (s *RecommendationState) Apply(ev Event, m Meta) error {
	at := effectiveOf(m)
	if e, ok := ev.(RecommendationDrafted); ok {
		if s.ID != "" {
			return invalidHistory("recommendation %s drafted twice", s.ID)
		}
		*s = RecommendationState{ID: e.RecommendationID, CouncilID: e.CouncilID, Title: e.Title, Proposal: e.Proposal,
			Addressee: e.Addressee, Links: e.Links, DraftedBy: m.ActorID, Status: RecommendationDraftedStatus,
			DraftedAt: at, last: at}
		return nil
	}
	e, ok := ev.(interface{ recommendationID() string })
	switch {
	case !ok:
		return invalidHistory("%s does not apply to a recommendation", ev.EventType())
	case s.ID == "":
		return invalidHistory("%s before %s", ev.EventType(), TypeRecommendationDrafted)
	case e.recommendationID() != s.ID:
		return invalidHistory("%s of recommendation %s in the history of recommendation %s", ev.EventType(), e.recommendationID(), s.ID)
	case s.Status == RecommendationWithdrawnStatus:
		return invalidHistory("%s after the recommendation was withdrawn", ev.EventType())
	}
	switch e := ev.(type) {
	case RecommendationSubmitted:
		s.Status, s.ResponseDeadline, s.SubmittedAt = RecommendationSubmittedStatus, e.ResponseDeadline, at
	case RecommendationAcknowledged:
		s.Status, s.Reference, s.AcknowledgedAt = RecommendationAcknowledgedStatus, e.Reference, at
	case RecommendationAnswered:
		if s.answerIndex(e.AnswerID) >= 0 {
			return invalidHistory("answer %s recorded twice", e.AnswerID)
		}
		s.Status, s.AnsweredAt = RecommendationAnsweredStatus, at
		s.Answers = append(s.Answers, AnswerRecord{ID: e.AnswerID, Answer: e.Answer, AnsweredAt: at,
			EventID: m.EventID, ActorID: m.ActorID, Reason: m.Reason, RecordedAt: m.RecordedAt})
	case RecommendationAnswerCorrected:
		i := s.answerIndex(e.Corrects)
		if i < 0 {
			return nil // nothing effective to correct yet
		}
		if s.Answers[i].CorrectedBy != "" {
			return invalidHistory("answer %s corrected twice", e.Corrects)
		}
		s.Answers[i].CorrectedBy = e.AnswerID
		s.Answers = append(s.Answers, AnswerRecord{ID: e.AnswerID, Corrects: e.Corrects, Answer: e.Answer,
			AnsweredAt: s.Answers[i].AnsweredAt, EventID: m.EventID, ActorID: m.ActorID, Reason: m.Reason, RecordedAt: m.RecordedAt})
	case RecommendationJudged:
		s.Judgements = append(s.Judgements, Judgement{Verdict: e.Verdict, Comment: e.Comment, Evidence: e.Evidence,
			At: at, EventID: m.EventID, Reason: m.Reason})
		s.Status = RecommendationNotImplementedStatus
		if e.Verdict == VerdictImplemented {
			s.Status = RecommendationImplementedStatus
		}
	case RecommendationWithdrawn:
		s.Status, s.WithdrawnAt = RecommendationWithdrawnStatus, at
	case RecommendationDissentAttached:
		s.Dissents = append(s.Dissents, Dissent{MemberID: e.MemberID, Opinion: e.Opinion, At: at, EventID: m.EventID})
	}
	if at.After(s.last) {
		s.last = at
	}
	return nil
}

func (s *RecommendationState) answerIndex(id string) int {
	return slices.IndexFunc(s.Answers, func(a AnswerRecord) bool { return a.ID == id })
}

// CurrentAnswer is the answer in force: the body's answer after the
// corrections of it.
func (s RecommendationState) CurrentAnswer() (AnswerRecord, bool) {
	if len(s.Answers) == 0 {
		return AnswerRecord{}, false
	}
	i := 0
	for s.Answers[i].CorrectedBy != "" {
		j := s.answerIndex(s.Answers[i].CorrectedBy)
		if j <= i {
			break
		}
		i = j
	}
	return s.Answers[i], true
}

// Decision is the body's decision in force ("" before an answer).
func (s RecommendationState) Decision() AnswerDecision {
	a, _ := s.CurrentAnswer()
	return a.Decision
}

// Verdict is the council's verdict in force ("" before a judgement).
func (s RecommendationState) Verdict() Verdict {
	if len(s.Judgements) == 0 {
		return ""
	}
	return s.Judgements[len(s.Judgements)-1].Verdict
}

// AwaitingAnswer reports whether the body still owes an answer.
func (s RecommendationState) AwaitingAnswer() bool {
	return s.Status == RecommendationSubmittedStatus || s.Status == RecommendationAcknowledgedStatus
}

// Overdue reports whether the body owes an answer and the deadline is a day
// before on's date (in on's location). Derived, never stored.
func (s RecommendationState) Overdue(on time.Time) bool {
	return s.AwaitingAnswer() && !s.ResponseDeadline.IsZero() && s.ResponseDeadline.Before(DateOf(on))
}

// Answered reports whether the body has answered.
func (s RecommendationState) Answered() bool { return len(s.Answers) > 0 }

// AnsweredLate reports whether the answer came after the deadline (the
// date of AnsweredAt in loc, UTC when nil).
func (s RecommendationState) AnsweredLate(loc *time.Location) bool {
	if !s.Answered() || s.ResponseDeadline.IsZero() {
		return false
	}
	if loc == nil {
		loc = time.UTC
	}
	return DateOf(s.AnsweredAt.In(loc)).After(s.ResponseDeadline)
}

// HasDissent reports whether the member put a dissenting opinion on record.
func (s RecommendationState) HasDissent(memberID string) bool {
	return slices.ContainsFunc(s.Dissents, func(d Dissent) bool { return d.MemberID == memberID })
}

func (s RecommendationState) clone() RecommendationState {
	c := s
	c.Answers = slices.Clone(s.Answers)
	c.Judgements = slices.Clone(s.Judgements)
	c.Dissents = slices.Clone(s.Dissents)
	c.Links.RoadmapIDs = slices.Clone(s.Links.RoadmapIDs)
	c.Links.IndicatorIDs = slices.Clone(s.Links.IndicatorIDs)
	c.Links.Topics = slices.Clone(s.Links.Topics)
	return c
}

package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// AssessmentReply is a respondent's answer to an assessment.
type AssessmentReply struct {
	ID           string    `json:"id"`
	RespondentID string    `json:"respondent_id"`
	Reply        string    `json:"reply"`
	Evidence     Evidence  `json:"evidence,omitzero"`
	At           time.Time `json:"at"`
	EventID      uuid.UUID `json:"event_id"`
}

// AssessmentState is the fold of an assessment's events; treat it as read
// only. Times are effective times.
type AssessmentState struct {
	ID             string             `json:"id"`
	CouncilID      string             `json:"council_id"`
	IndicatorID    string             `json:"indicator_id"`
	RoadmapID      string             `json:"roadmap_id"`
	ReportedStatus IndicatorStatus    `json:"reported_status"`
	ReportID       string             `json:"report_id,omitempty"`
	Position       AssessmentPosition `json:"position"`
	Comment        string             `json:"comment"`
	Evidence       Evidence           `json:"evidence,omitzero"`
	Respondents    []string           `json:"respondents"`
	AssessedBy     string             `json:"assessed_by"`
	AssessedAt     time.Time          `json:"assessed_at"`
	EventID        uuid.UUID          `json:"event_id"`
	Replies        []AssessmentReply  `json:"replies,omitempty"`
	Withdrawn      bool               `json:"withdrawn"`
	WithdrawnAt    time.Time          `json:"withdrawn_at,omitzero"`
	WithdrawReason string             `json:"withdraw_reason,omitempty"`

	last time.Time
}

// FoldAssessment folds the events of history that keep accepts (all when
// keep is nil), in order.
func FoldAssessment(history []Envelope, keep func(Envelope) bool) (AssessmentState, error) {
	var s AssessmentState
	for _, env := range history {
		if keep != nil && !keep(env) {
			continue
		}
		if err := s.Apply(env.Event, env.Meta); err != nil {
			return AssessmentState{}, err
		}
	}
	return s, nil
}

// Apply folds one event.
func (s *AssessmentState) Apply(ev Event, m Meta) error {
	at := effectiveOf(m)
	if e, ok := ev.(AssessmentRecorded); ok {
		if s.ID != "" {
			return invalidHistory("assessment %s recorded twice", s.ID)
		}
		*s = AssessmentState{ID: e.AssessmentID, CouncilID: e.CouncilID, IndicatorID: e.IndicatorID, RoadmapID: e.RoadmapID,
			ReportedStatus: e.ReportedStatus, ReportID: e.ReportID, Position: e.Position, Comment: e.Comment,
			Evidence: e.Evidence, Respondents: slices.Clone(e.Respondents), AssessedBy: m.ActorID, AssessedAt: at,
			EventID: m.EventID, last: at}
		return nil
	}
	e, ok := ev.(interface{ assessmentID() string })
	switch {
	case !ok:
		return invalidHistory("%s does not apply to an assessment", ev.EventType())
	case s.ID == "":
		return invalidHistory("%s before %s", ev.EventType(), TypeAssessmentRecorded)
	case e.assessmentID() != s.ID:
		return invalidHistory("%s of assessment %s in the history of assessment %s", ev.EventType(), e.assessmentID(), s.ID)
	case s.Withdrawn:
		return invalidHistory("%s after the assessment was withdrawn", ev.EventType())
	}
	switch e := ev.(type) {
	case AssessmentReplied:
		s.Replies = append(s.Replies, AssessmentReply{ID: e.ReplyID, RespondentID: e.RespondentID, Reply: e.Reply,
			Evidence: e.Evidence, At: at, EventID: m.EventID})
	case AssessmentWithdrawn:
		s.Withdrawn, s.WithdrawnAt, s.WithdrawReason = true, at, m.Reason
	}
	if at.After(s.last) {
		s.last = at
	}
	return nil
}

// IsRespondent reports whether the person may reply.
func (s AssessmentState) IsRespondent(personID string) bool {
	return slices.Contains(s.Respondents, personID)
}

// Replied reports whether the person has replied.
func (s AssessmentState) Replied(personID string) bool {
	return slices.ContainsFunc(s.Replies, func(r AssessmentReply) bool { return r.RespondentID == personID })
}

// Assessment is a council's assessment of an indicator's reported status,
// with the right of reply of those responsible for it.
type Assessment struct {
	recorder
	state AssessmentState
}

// RebuildAssessment folds an assessment's stored history.
func RebuildAssessment(history []Envelope) (*Assessment, error) {
	a := &Assessment{}
	if err := a.replay(history, a.state.Apply); err != nil {
		return nil, fmt.Errorf("rebuild assessment: %w", err)
	}
	return a, nil
}

// ID is the assessment's id.
func (a *Assessment) ID() string { return a.state.ID }

// CouncilID is the assessing council.
func (a *Assessment) CouncilID() string { return a.state.CouncilID }

// Exists reports whether the assessment was recorded.
func (a *Assessment) Exists() bool { return a.state.ID != "" }

// State returns a copy of the folded state.
func (a *Assessment) State() AssessmentState {
	s := a.state
	s.Respondents = slices.Clone(a.state.Respondents)
	s.Replies = slices.Clone(a.state.Replies)
	return s
}

// AssessmentInput is what a council says about an indicator.
type AssessmentInput struct {
	AssessmentID string
	CouncilID    string
	IndicatorID  string
	// ReportID names the report assessed; empty means the latest reading
	// in force.
	ReportID string
	Position AssessmentPosition
	Comment  string
	Evidence Evidence
}

// Record records a council's assessment of indicator (the state the
// ledger holds now, which the event snapshots). roadmap is the indicator's
// roadmap, whose responsible deputies and officials, with the indicator's
// responsible person, become the respondents. The actor must be a current
// member of the council.
func (a *Assessment) Record(in AssessmentInput, council *Council, indicator IndicatorState, roadmap *Roadmap, m Meta) error {
	if a.Exists() {
		return fmt.Errorf("assessment %s: %w", a.state.ID, ErrAlreadyExists)
	}
	if council != nil && council.Exists() && council.state.ID == in.CouncilID {
		if err := actingMember(council, in.CouncilID, m); err != nil {
			return err
		}
	}
	var v validator
	m = a.stamp(m, &v)
	in.Comment, in.ReportID = cleanText(in.Comment, true), strings.TrimSpace(in.ReportID)
	validateID(&v, "assessment_id", in.AssessmentID)
	validateID(&v, "council_id", in.CouncilID)
	validateID(&v, "indicator_id", in.IndicatorID)
	if council == nil || !council.Exists() || council.state.ID != in.CouncilID {
		v.rule("council_id", ErrUnknownReference, fmt.Sprintf("no council %s is registered", in.CouncilID))
	}
	v.check(in.Position.Valid(), "position", `must be "agree" or "disagree"`)
	validateFreeText(&v, "comment", in.Comment, true, true, maxLongText)
	evidence := evidenceOptional(&v, "evidence", in.Evidence)
	e := AssessmentRecorded{AssessmentID: in.AssessmentID, CouncilID: in.CouncilID, IndicatorID: in.IndicatorID,
		Position: in.Position, Comment: in.Comment, Evidence: evidence}
	if indicator.ID == "" || indicator.ID != in.IndicatorID {
		v.rule("indicator_id", ErrUnknownReference, fmt.Sprintf("no indicator %s is registered", in.IndicatorID))
	} else {
		e.RoadmapID, e.ReportedStatus = indicator.RoadmapID, indicator.Status
		switch rep, ok := indicator.Report(in.ReportID); {
		case in.ReportID == "":
			e.ReportID = latestReport(indicator)
		case !ok:
			v.rule("report_id", ErrReportNotFound, fmt.Sprintf("indicator %s has no report %s", indicator.ID, in.ReportID))
		default:
			e.ReportID = rep.ID
		}
		e.Respondents = respondentsOf(indicator, roadmap)
	}
	if err := v.err(); err != nil {
		return err
	}
	return a.record(e, m, a.state.Apply)
}

// latestReport is the report in force with the latest as-of time.
func latestReport(s IndicatorState) string {
	id, at := "", time.Time{}
	for _, r := range s.Reports {
		if !r.Superseded() && (id == "" || !r.AsOf.Before(at)) {
			id, at = r.ID, r.AsOf
		}
	}
	return id
}

// respondentsOf: the indicator's responsible person, then the roadmap's
// responsible deputies and officials, each once. Never nil.
func respondentsOf(indicator IndicatorState, roadmap *Roadmap) []string {
	out := []string{}
	if indicator.ResponsibleID != "" {
		out = append(out, indicator.ResponsibleID)
	}
	if roadmap != nil && roadmap.id == indicator.RoadmapID {
		for _, p := range roadmap.responsibles {
			if !slices.Contains(out, p.PersonID) {
				out = append(out, p.PersonID)
			}
		}
	}
	return out
}

// Reply records a respondent's answer, once per respondent.
func (a *Assessment) Reply(respondentID, reply string, evidence Evidence, m Meta) error {
	if err := a.open("reply"); err != nil {
		return err
	}
	respondentID, reply = strings.TrimSpace(respondentID), cleanText(reply, true)
	if !a.state.IsRespondent(respondentID) {
		return fmt.Errorf("person %q on assessment %s: %w", respondentID, a.state.ID, ErrNotRespondent)
	}
	if a.state.Replied(respondentID) {
		return fmt.Errorf("reply of %s to assessment %s: %w", respondentID, a.state.ID, ErrAlreadyExists)
	}
	var v validator
	m = a.stamp(m, &v)
	monotonic(&v, m, a.state.last)
	validateFreeText(&v, "reply", reply, true, true, maxLongText)
	evidence = evidenceOptional(&v, "evidence", evidence)
	if err := v.err(); err != nil {
		return err
	}
	return a.record(AssessmentReplied{AssessmentID: a.state.ID, ReplyID: m.EventID.String(), RespondentID: respondentID,
		Reply: reply, Evidence: evidence}, m, a.state.Apply)
}

// Withdraw withdraws the assessment; it needs a reason and the actor must
// be a current member of the council.
func (a *Assessment) Withdraw(council *Council, m Meta) error {
	if err := a.open("withdraw"); err != nil {
		return err
	}
	if err := actingMember(council, a.state.CouncilID, m); err != nil {
		return err
	}
	var v validator
	m = a.stamp(m, &v)
	monotonic(&v, m, a.state.last)
	v.requireReason(m, "say why the assessment is withdrawn")
	if err := v.err(); err != nil {
		return err
	}
	return a.record(AssessmentWithdrawn{AssessmentID: a.state.ID}, m, a.state.Apply)
}

func (a *Assessment) open(action string) error {
	switch {
	case !a.Exists():
		return fmt.Errorf("assessment: %w", ErrNotFound)
	case a.state.Withdrawn:
		return &TransitionError{Aggregate: "assessment", ID: a.state.ID, State: "withdrawn", Action: action, Err: ErrWithdrawn}
	}
	return nil
}

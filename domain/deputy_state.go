package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// FactionPeriod is one period of a deputy's faction membership; times are
// effective, LeftAt zero while it lasts.
type FactionPeriod struct {
	Faction      string    `json:"faction"`
	JoinedAt     time.Time `json:"joined_at"`
	LeftAt       time.Time `json:"left_at,omitzero"`
	JoinEventID  uuid.UUID `json:"join_event_id"`
	LeaveEventID uuid.UUID `json:"leave_event_id,omitzero"`
	LeaveReason  string    `json:"leave_reason,omitempty"`
}

// Responsibility is one period of a deputy answering for a roadmap or an
// indicator.
type Responsibility struct {
	Subject        ResponsibilityKind `json:"subject"`
	SubjectID      string             `json:"subject_id"`
	AssignedAt     time.Time          `json:"assigned_at"`
	ReleasedAt     time.Time          `json:"released_at,omitzero"`
	AssignEventID  uuid.UUID          `json:"assign_event_id"`
	ReleaseEventID uuid.UUID          `json:"release_event_id,omitzero"`
}

// Current reports whether the responsibility has not been released.
func (r Responsibility) Current() bool { return r.ReleasedAt.IsZero() }

// activeAt reports whether the responsibility was in force at t.
func (r Responsibility) activeAt(t time.Time) bool {
	return !r.AssignedAt.After(t) && (r.ReleasedAt.IsZero() || r.ReleasedAt.After(t))
}

// ActivityReport is an activity report or a correction of one, as folded.
type ActivityReport struct {
	ID          string `json:"id"`
	Corrects    string `json:"corrects,omitempty"`
	CorrectedBy string `json:"corrected_by,omitempty"`
	Period      Period `json:"period"`
	ActivityCounts
	EffectiveAt time.Time `json:"effective_at"`
	RecordedAt  time.Time `json:"recorded_at"`
	EventID     uuid.UUID `json:"event_id"`
	ActorID     string    `json:"actor_id"`
	Reason      string    `json:"reason,omitempty"`
}

// Superseded reports whether a later correction replaced the report.
func (r ActivityReport) Superseded() bool { return r.CorrectedBy != "" }

// DeputyState is the fold of a deputy's events; the Deputy aggregate
// decides with it and the rating reuses it. Treat it as read only.
type DeputyState struct {
	ID               string           `json:"id"`
	DisplayName      string           `json:"display_name"`
	Assembly         Assembly         `json:"assembly"`
	RegisteredAt     time.Time        `json:"registered_at"`
	RegisterEventID  uuid.UUID        `json:"register_event_id"`
	Faction          []FactionPeriod  `json:"faction"`
	Responsibilities []Responsibility `json:"responsibilities"`
	// Activity holds every report and correction in stream order.
	Activity []ActivityReport `json:"activity"`
	// RatingReplies are the deputy's replies to their ratings, in order.
	RatingReplies []RatingReply `json:"rating_replies,omitempty"`

	last time.Time // effective time of the latest lifecycle event
}

// FoldDeputy folds the events of history that keep accepts (all when keep
// is nil), in order.
func FoldDeputy(history []Envelope, keep func(Envelope) bool) (DeputyState, error) {
	var s DeputyState
	for _, env := range history {
		if keep != nil && !keep(env) {
			continue
		}
		if err := s.Apply(env.Event, env.Meta); err != nil {
			return DeputyState{}, err
		}
	}
	return s, nil
}

// Apply folds one event. A correction of a report it has not seen is
// skipped (see FoldIndicator).
func (s *DeputyState) Apply(ev Event, m Meta) error {
	at := effectiveOf(m)
	if e, ok := ev.(DeputyRegistered); ok {
		if s.ID != "" {
			return invalidHistory("deputy %s registered twice", s.ID)
		}
		*s = DeputyState{ID: e.DeputyID, DisplayName: e.DisplayName, Assembly: e.Assembly, RegisteredAt: at,
			RegisterEventID: m.EventID, Faction: []FactionPeriod{}, Responsibilities: []Responsibility{},
			Activity: []ActivityReport{}, last: at}
		return nil
	}
	e, ok := ev.(interface{ deputyID() string })
	switch {
	case !ok:
		return invalidHistory("%s does not apply to a deputy", ev.EventType())
	case s.ID == "":
		return invalidHistory("%s before %s", ev.EventType(), TypeDeputyRegistered)
	case e.deputyID() != s.ID:
		return invalidHistory("%s of deputy %s in the history of deputy %s", ev.EventType(), e.deputyID(), s.ID)
	}
	lifecycle := true
	switch e := ev.(type) {
	case DeputyFactionJoined:
		if s.InFaction() {
			return invalidHistory("deputy %s joined the faction twice", s.ID)
		}
		s.Faction = append(s.Faction, FactionPeriod{Faction: e.Faction, JoinedAt: at, JoinEventID: m.EventID})
	case DeputyFactionLeft:
		if !s.InFaction() {
			return invalidHistory("deputy %s left the faction without being in it", s.ID)
		}
		p := &s.Faction[len(s.Faction)-1]
		p.LeftAt, p.LeaveEventID, p.LeaveReason = at, m.EventID, m.Reason
	case DeputyResponsibilityAssigned:
		if s.responsibility(e.Subject, e.SubjectID) >= 0 {
			return invalidHistory("deputy %s assigned %s %s twice", s.ID, e.Subject, e.SubjectID)
		}
		s.Responsibilities = append(s.Responsibilities, Responsibility{Subject: e.Subject, SubjectID: e.SubjectID,
			AssignedAt: at, AssignEventID: m.EventID})
	case DeputyResponsibilityReleased:
		i := s.responsibility(e.Subject, e.SubjectID)
		if i < 0 {
			return invalidHistory("deputy %s released from %s %s not assigned", s.ID, e.Subject, e.SubjectID)
		}
		s.Responsibilities[i].ReleasedAt, s.Responsibilities[i].ReleaseEventID = at, m.EventID
	case DeputyActivityReported:
		lifecycle = false
		if s.reportIndex(e.ReportID) >= 0 {
			return invalidHistory("activity report %s recorded twice", e.ReportID)
		}
		s.Activity = append(s.Activity, ActivityReport{ID: e.ReportID, Period: e.Period, ActivityCounts: e.ActivityCounts,
			EffectiveAt: at, RecordedAt: m.RecordedAt, EventID: m.EventID, ActorID: m.ActorID, Reason: m.Reason})
	case DeputyRatingReplied:
		lifecycle = false
		s.RatingReplies = append(s.RatingReplies, RatingReply{Method: e.Method, Version: e.Version, Period: e.Period, Reply: e.Reply,
			Evidence: e.Evidence, RepliedAt: at, RecordedAt: m.RecordedAt, EventID: m.EventID})
	case DeputyActivityCorrected:
		lifecycle = false
		if s.reportIndex(e.ReportID) >= 0 {
			return invalidHistory("activity report %s recorded twice", e.ReportID)
		}
		i := s.reportIndex(e.Corrects)
		if i < 0 {
			return nil
		}
		if s.Activity[i].Superseded() {
			return invalidHistory("activity report %s corrected twice", e.Corrects)
		}
		s.Activity[i].CorrectedBy = e.ReportID
		s.Activity = append(s.Activity, ActivityReport{ID: e.ReportID, Corrects: e.Corrects, Period: s.Activity[i].Period,
			ActivityCounts: e.ActivityCounts, EffectiveAt: s.Activity[i].EffectiveAt, RecordedAt: m.RecordedAt,
			EventID: m.EventID, ActorID: m.ActorID, Reason: m.Reason})
	}
	if lifecycle && at.After(s.last) {
		s.last = at
	}
	return nil
}

// responsibility finds the current responsibility for a subject.
func (s *DeputyState) responsibility(kind ResponsibilityKind, id string) int {
	return slices.IndexFunc(s.Responsibilities, func(r Responsibility) bool {
		return r.Subject == kind && r.SubjectID == id && r.Current()
	})
}

func (s *DeputyState) reportIndex(id string) int {
	return slices.IndexFunc(s.Activity, func(r ActivityReport) bool { return r.ID == id })
}

// InFaction reports whether the deputy is in the faction now (at the end of
// what was folded).
func (s DeputyState) InFaction() bool {
	return len(s.Faction) > 0 && s.Faction[len(s.Faction)-1].LeftAt.IsZero()
}

// FactionDays counts the days of p, up to and including the date of cut
// (UTC), on which the deputy was a faction member. A day counts when the
// membership began on or before it and had not ended before it.
func (s DeputyState) FactionDays(p Period, cut time.Time) int {
	end := p.End
	if c := DateOf(cut.UTC()); c.Before(end) {
		end = c
	}
	if end.Before(p.Start) {
		return 0
	}
	total := 0
	for _, f := range s.Faction {
		from := DateOf(f.JoinedAt.UTC())
		if from.Before(p.Start) {
			from = p.Start
		}
		to := end
		if !f.LeftAt.IsZero() {
			// The day of leaving does not count.
			left := DateOf(f.LeftAt.UTC().AddDate(0, 0, -1))
			if left.Before(to) {
				to = left
			}
		}
		if !to.Before(from) {
			total += daysBetween(from, to) + 1
		}
	}
	return total
}

func daysBetween(a, b Date) int {
	ta := time.Date(a.Year, a.Month, a.Day, 0, 0, 0, 0, time.UTC)
	tb := time.Date(b.Year, b.Month, b.Day, 0, 0, 0, 0, time.UTC)
	return int(tb.Sub(ta).Hours() / 24)
}

// ActivityIn sums the reports in force whose period ends within p, and
// lists the events that fed the sum (each report's original event and its
// corrections). ok is false when no report falls in p.
func (s DeputyState) ActivityIn(p Period) (sum ActivityCounts, events []uuid.UUID, ok bool) {
	for i, r := range s.Activity {
		if r.Corrects != "" || r.Period.End.Before(p.Start) || r.Period.End.After(p.End) {
			continue
		}
		chain := []uuid.UUID{r.EventID}
		cur := i
		for s.Activity[cur].Superseded() {
			j := s.reportIndex(s.Activity[cur].CorrectedBy)
			if j <= cur {
				break
			}
			cur = j
			chain = append(chain, s.Activity[cur].EventID)
		}
		c := s.Activity[cur].ActivityCounts
		sum.ReceptionsHeld += c.ReceptionsHeld
		sum.PeopleReceived += c.PeopleReceived
		sum.AppealsHandled += c.AppealsHandled
		sum.Outcomes.Positive += c.Outcomes.Positive
		sum.Outcomes.Explained += c.Outcomes.Explained
		sum.Outcomes.Rejected += c.Outcomes.Rejected
		sum.Outcomes.Pending += c.Outcomes.Pending
		events = append(events, chain...)
		ok = true
	}
	return sum, events, ok
}

// ResponsibilitiesAt lists the responsibilities in force at t.
func (s DeputyState) ResponsibilitiesAt(t time.Time) []Responsibility {
	var out []Responsibility
	for _, r := range s.Responsibilities {
		if r.activeAt(t) {
			out = append(out, r)
		}
	}
	return out
}

func (s DeputyState) clone() DeputyState {
	c := s
	c.Faction = slices.Clone(s.Faction)
	c.Responsibilities = slices.Clone(s.Responsibilities)
	c.Activity = slices.Clone(s.Activity)
	c.RatingReplies = slices.Clone(s.RatingReplies)
	return c
}

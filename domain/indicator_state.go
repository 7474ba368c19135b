package domain

import (
	"math"
	"slices"
	"time"

	"github.com/google/uuid"
)

// IndicatorKind: a milestone is done or not; a numeric indicator moves from
// a baseline towards a target.
type IndicatorKind string

const (
	KindMilestone IndicatorKind = "milestone"
	KindNumeric   IndicatorKind = "numeric"
)

// Valid reports whether k is a known kind.
func (k IndicatorKind) Valid() bool { return k == KindMilestone || k == KindNumeric }

// Direction says whether a numeric indicator should grow or shrink.
type Direction string

const (
	DirectionIncrease Direction = "increase"
	DirectionDecrease Direction = "decrease"
)

// directionOf derives the direction from baseline to target; "" when they
// are equal.
func directionOf(baseline, target float64) Direction {
	switch {
	case target > baseline:
		return DirectionIncrease
	case target < baseline:
		return DirectionDecrease
	}
	return ""
}

// IndicatorStatus is where a measure stands. Overdue is not a status: it is
// derived from the deadline and a date (IndicatorState.Overdue).
type IndicatorStatus string

const (
	StatusNotStarted IndicatorStatus = "not_started"
	StatusInProgress IndicatorStatus = "in_progress"
	StatusDone       IndicatorStatus = "done"
	StatusCancelled  IndicatorStatus = "cancelled"
)

// rank orders the statuses a measure moves through; moving to a lower rank
// is moving backwards.
func (s IndicatorStatus) rank() int {
	switch s {
	case StatusNotStarted:
		return 0
	case StatusInProgress:
		return 1
	case StatusDone:
		return 2
	}
	return -1
}

// Report is a progress report or a correction, as folded into an
// IndicatorState. A correction is a report too: Corrects names the report it
// replaces, and that report's CorrectedBy names it back.
type Report struct {
	ID          string    `json:"id" format:"uuid" doc:"The report's id (its event id)."`
	EventID     uuid.UUID `json:"event_id" doc:"The event that recorded it."`
	Corrects    string    `json:"corrects,omitempty" format:"uuid" doc:"Corrections: the report this one corrects."`
	CorrectedBy string    `json:"corrected_by,omitempty" format:"uuid" doc:"The correction that replaced this report."`
	Value       *float64  `json:"value,omitempty" doc:"Numeric indicators: the reading."`
	Done        bool      `json:"done" doc:"Milestones: whether it was done."`
	// AsOf is when the reading was true; a correction's is the AsOf of the
	// report it corrects.
	AsOf       time.Time `json:"as_of" doc:"When the reading was true (a correction's is that of the report it corrects)."`
	Evidence   Evidence  `json:"evidence" doc:"What backs it."`
	ActorID    string    `json:"actor_id" doc:"Who recorded it."`
	Reason     string    `json:"reason,omitempty" doc:"Why (corrections)."`
	RecordedAt time.Time `json:"recorded_at" doc:"When the ledger learned it."`
}

// Superseded reports whether a later correction replaced this report.
func (r Report) Superseded() bool { return r.CorrectedBy != "" }

// IndicatorState is the fold of an indicator's events. The Indicator
// aggregate decides with it, and read models build it with Apply or
// FoldIndicator, so the status rules exist once. Treat its fields as read
// only; they are exported for readers.
//
// The fold tolerates filtered histories: keep only events effective (or
// recorded) up to some time and fold them in stream order, and the result
// is the indicator as it stood (or as it was known) then. See
// docs/events.md for why that holds.
type IndicatorState struct {
	ID            string          `json:"id"`
	RoadmapID     string          `json:"roadmap_id"`
	Title         Text            `json:"title"`
	Kind          IndicatorKind   `json:"kind"`
	Baseline      *float64        `json:"baseline,omitempty"`
	Target        *float64        `json:"target,omitempty"`
	Unit          Text            `json:"unit,omitzero"`
	Direction     Direction       `json:"direction,omitempty"`
	Deadline      Date            `json:"deadline"`
	Weight        float64         `json:"weight"`
	ResponsibleID string          `json:"responsible_id,omitempty"`
	Status        IndicatorStatus `json:"status"`
	// LatestValue and Done are the reading of the report with the latest
	// AsOf (after corrections); LatestAsOf is that AsOf. Reports filed late
	// for an earlier date do not displace a newer reading.
	LatestValue *float64  `json:"latest_value,omitempty"`
	Done        bool      `json:"done"`
	LatestAsOf  time.Time `json:"latest_as_of,omitzero"`
	// Reports holds every report and correction in stream order.
	Reports     []Report  `json:"reports"`
	AddedAt     time.Time `json:"added_at"`              // effective
	CancelledAt time.Time `json:"cancelled_at,omitzero"` // effective; zero unless cancelled

	addedTarget *float64
	steps       []step
	// walk is where settle's walk over steps stopped; idx finds reports by
	// id. Both make folding a history linear in its length: every event
	// used to walk every step and search every report again.
	walk settleWalk
	idx  reportIdx
}

// settleWalk is settle's state after walking steps[:steps].
type settleWalk struct {
	steps  int
	status IndicatorStatus
	target *float64
	latest int
}

// reportIdx maps report ids to their index in Reports[:n]. It belongs to
// the state at owner: a copy of a state (states are values) does not use
// the original's map, which the original may go on filling, and builds
// its own when it next applies an event.
type reportIdx struct {
	owner *IndicatorState
	m     map[string]int
	n     int
}

// A step is an event that moves the status. Status is recomputed from the
// steps after every event, so a correction, which changes what an earlier
// report said, is evaluated as if that report had said the new reading.
type step struct {
	kind   stepKind
	report int      // stepReport: index of the original report in Reports
	target *float64 // stepRetarget
	status IndicatorStatus
}

type stepKind uint8

const (
	stepReport stepKind = iota
	stepRetarget
	stepStatus
	stepCancel
)

// FoldIndicator folds the events of history that keep accepts (all of them
// when keep is nil), in order. With EffectiveBy or RecordedBy it gives the
// indicator as it stood, or as it was known, at a time.
func FoldIndicator(history []Envelope, keep func(Envelope) bool) (IndicatorState, error) {
	var s IndicatorState
	for _, env := range history {
		if keep != nil && !keep(env) {
			continue
		}
		if err := s.Apply(env.Event, env.Meta); err != nil {
			return IndicatorState{}, err
		}
	}
	s.idx = reportIdx{} // the copy returned builds its own when it needs one
	return s, nil
}

// EffectiveBy keeps the events that had taken effect by t: the world as it
// stood at t, as the ledger knows it now (corrections included).
func EffectiveBy(t time.Time) func(Envelope) bool {
	return func(e Envelope) bool { return !e.Meta.EffectiveAt.After(t) }
}

// RecordedBy keeps the events the ledger had recorded by t: what it reported
// at t, before any later correction.
func RecordedBy(t time.Time) func(Envelope) bool {
	return func(e Envelope) bool { return !e.Meta.RecordedAt.After(t) }
}

// Apply folds one event. It fails with ErrInvalidHistory on events that
// cannot follow what was folded so far; a correction of a report it has not
// seen is skipped, because under a time filter that report may simply not
// have happened yet.
func (s *IndicatorState) Apply(ev Event, m Meta) error {
	if e, ok := ev.(IndicatorAdded); ok {
		return s.added(e, m)
	}
	if err := s.owns(ev); err != nil {
		return err
	}
	rewalk := false
	switch e := ev.(type) {
	case ProgressReported:
		if s.reportIndex(e.ReportID) >= 0 {
			return invalidHistory("report %s recorded twice", e.ReportID)
		}
		s.Reports = append(s.Reports, newReport(e.ReportID, "", e.Reading, e.AsOf, e.Evidence, m))
		s.steps = append(s.steps, step{kind: stepReport, report: len(s.Reports) - 1})
	case ReportCorrected:
		if err := s.corrected(e, m); err != nil {
			return err
		}
		// A correction changes what an earlier step read: walk them all.
		rewalk = true
	case IndicatorRetargeted:
		if e.Target != nil {
			s.Target = copyFloat(e.Target)
			s.steps = append(s.steps, step{kind: stepRetarget, target: s.Target})
		}
		if e.Deadline != nil {
			s.Deadline = *e.Deadline
		}
		if e.Weight != nil {
			s.Weight = *e.Weight
		}
	case IndicatorStatusChanged:
		s.steps = append(s.steps, step{kind: stepStatus, status: e.To})
	case IndicatorCancelled:
		s.CancelledAt = m.EffectiveAt
		s.steps = append(s.steps, step{kind: stepCancel})
	case IndicatorResponsibleAssigned:
		s.ResponsibleID = e.PersonID
	}
	if rewalk {
		s.walk = settleWalk{}
	}
	s.settle()
	return nil
}

func (s *IndicatorState) added(e IndicatorAdded, m Meta) error {
	if s.ID != "" {
		return invalidHistory("indicator %s added twice", s.ID)
	}
	*s = IndicatorState{
		ID: e.IndicatorID, RoadmapID: e.RoadmapID, Title: e.Title, Kind: e.Kind,
		Baseline: copyFloat(e.Baseline), Target: copyFloat(e.Target), Unit: e.Unit, Direction: e.Direction,
		Deadline: e.Deadline, Weight: e.Weight, ResponsibleID: e.ResponsibleID,
		Status: StatusNotStarted, AddedAt: m.EffectiveAt, addedTarget: copyFloat(e.Target),
	}
	return nil
}

// owns checks that a non-creation event may follow what was folded so far.
func (s *IndicatorState) owns(ev Event) error {
	e, ok := ev.(interface{ indicatorID() string })
	switch {
	case !ok:
		return invalidHistory("%s does not apply to an indicator", ev.EventType())
	case s.ID == "":
		return invalidHistory("%s before %s", ev.EventType(), TypeIndicatorAdded)
	case e.indicatorID() != s.ID:
		return invalidHistory("%s of indicator %s in the history of indicator %s", ev.EventType(), e.indicatorID(), s.ID)
	case s.Status == StatusCancelled:
		return invalidHistory("%s after the indicator was cancelled", ev.EventType())
	}
	return nil
}

func (s *IndicatorState) corrected(e ReportCorrected, m Meta) error {
	if s.reportIndex(e.ReportID) >= 0 {
		return invalidHistory("report %s recorded twice", e.ReportID)
	}
	i := s.reportIndex(e.Corrects)
	if i < 0 {
		return nil // nothing effective to correct yet: see Apply
	}
	if s.Reports[i].Superseded() {
		return invalidHistory("report %s corrected by both %s and %s", e.Corrects, s.Reports[i].CorrectedBy, e.ReportID)
	}
	s.Reports[i].CorrectedBy = e.ReportID
	s.Reports = append(s.Reports, newReport(e.ReportID, e.Corrects, e.Reading, s.Reports[i].AsOf, e.Evidence, m))
	return nil
}

func newReport(id, corrects string, r Reading, asOf time.Time, ev Evidence, m Meta) Report {
	return Report{
		ID: id, EventID: m.EventID, Corrects: corrects, Value: copyFloat(r.Value), Done: r.Done,
		AsOf: asOf.UTC(), Evidence: ev, ActorID: m.ActorID, Reason: m.Reason, RecordedAt: m.RecordedAt,
	}
}

// settle recomputes the derived fields by walking the steps. Automatic moves
// only go forward: a report moves not_started to in_progress, and to done
// when the latest reading reaches the target in force at that step; a
// re-target can complete an in-progress indicator. Only an explicit status
// change (or a correction, which rewrites an earlier step) moves backwards.
//
// The walk goes on from where the previous settle stopped (s.walk): steps
// only ever get appended, and what an earlier step read changes only with a
// correction, after which Apply starts the walk over.
func (s *IndicatorState) settle() {
	status, target, latest := StatusNotStarted, s.addedTarget, -1
	from := 0
	if w := s.walk; w.steps > 0 && w.steps <= len(s.steps) {
		status, target, latest, from = w.status, w.target, w.latest, w.steps
	}
	for _, st := range s.steps[from:] {
		switch st.kind {
		case stepReport:
			if latest < 0 || !s.Reports[st.report].AsOf.Before(s.Reports[latest].AsOf) {
				latest = st.report
			}
			if status == StatusNotStarted {
				status = StatusInProgress
			}
			if s.reaches(s.current(latest), target) {
				status = StatusDone
			}
		case stepRetarget:
			target = st.target
			if status == StatusInProgress && latest >= 0 && s.reaches(s.current(latest), target) {
				status = StatusDone
			}
		case stepStatus:
			status = st.status
		case stepCancel:
			status = StatusCancelled
		}
	}
	s.walk = settleWalk{steps: len(s.steps), status: status, target: target, latest: latest}
	s.Status = status
	s.LatestValue, s.Done, s.LatestAsOf = nil, false, time.Time{}
	if latest >= 0 {
		r := s.current(latest)
		s.LatestValue, s.Done, s.LatestAsOf = copyFloat(r.Value), r.Done, r.AsOf
	}
}

// current follows a report's chain of corrections to the one in force. It
// ends because report ids are unique and a correction always comes later.
func (s *IndicatorState) current(i int) Report {
	for s.Reports[i].Superseded() {
		j := s.reportIndex(s.Reports[i].CorrectedBy)
		if j <= i {
			break
		}
		i = j
	}
	return s.Reports[i]
}

// reaches reports whether a reading meets target, honouring direction.
func (s *IndicatorState) reaches(r Report, target *float64) bool {
	if s.Kind == KindMilestone {
		return r.Done
	}
	if r.Value == nil || target == nil {
		return false
	}
	if s.Direction == DirectionDecrease {
		return *r.Value <= *target
	}
	return *r.Value >= *target
}

// reportIndex is the index in Reports of the first report with id, or -1.
func (s *IndicatorState) reportIndex(id string) int {
	if s.idx.owner != s || s.idx.n > len(s.Reports) {
		s.idx = reportIdx{owner: s, m: make(map[string]int, len(s.Reports))}
	}
	for ; s.idx.n < len(s.Reports); s.idx.n++ {
		if _, ok := s.idx.m[s.Reports[s.idx.n].ID]; !ok {
			s.idx.m[s.Reports[s.idx.n].ID] = s.idx.n
		}
	}
	if i, ok := s.idx.m[id]; ok && s.Reports[i].ID == id {
		return i
	}
	return -1
}

// Report returns the report with the given id.
func (s IndicatorState) Report(id string) (Report, bool) {
	if i := slices.IndexFunc(s.Reports, func(r Report) bool { return r.ID == id }); i >= 0 {
		return s.Reports[i], true
	}
	return Report{}, false
}

// Completion is the share of the indicator achieved, in [0, 1]: 1 when
// done; for a numeric indicator otherwise (latest − baseline) / (target −
// baseline), clamped, which honours the direction because both differences
// change sign together; 0 for a milestone not done, for a cancelled
// indicator (read models leave those out of their averages) and before any
// report.
func (s IndicatorState) Completion() float64 {
	switch {
	case s.Status == StatusDone:
		return 1
	case s.Status == StatusCancelled || s.Kind != KindNumeric:
		return 0
	case s.LatestValue == nil || s.Baseline == nil || s.Target == nil || *s.Target == *s.Baseline:
		return 0
	}
	n, d := *s.LatestValue-*s.Baseline, *s.Target-*s.Baseline
	if math.IsInf(n, 0) || math.IsInf(d, 0) {
		// Differences of finite values can overflow (a baseline near
		// −MaxFloat64, a target near +MaxFloat64), and Inf/Inf is NaN,
		// which min and max pass on; halves cannot overflow and keep the
		// ratio. Values that do not overflow take the line below
		// unchanged, bit for bit.
		n, d = *s.LatestValue/2-*s.Baseline/2, *s.Target/2-*s.Baseline/2
	}
	return min(max(n/d, 0), 1)
}

// Overdue reports whether the indicator is neither done nor cancelled and
// its deadline is a day before on's date (in on's location).
func (s IndicatorState) Overdue(on time.Time) bool {
	if s.ID == "" || s.Status == StatusDone || s.Status == StatusCancelled {
		return false
	}
	return s.Deadline.Before(DateOf(on))
}

// clone copies everything a caller could mutate, so State() readers cannot
// reach into the aggregate.
func (s IndicatorState) clone() IndicatorState {
	c := s
	c.Baseline, c.Target, c.LatestValue = copyFloat(s.Baseline), copyFloat(s.Target), copyFloat(s.LatestValue)
	c.Reports = slices.Clone(s.Reports)
	for i := range c.Reports {
		c.Reports[i].Value = copyFloat(c.Reports[i].Value)
	}
	c.steps = slices.Clone(s.steps)
	c.idx = reportIdx{}
	return c
}

func copyFloat(f *float64) *float64 {
	if f == nil {
		return nil
	}
	v := *f
	return &v
}

package domain

import (
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"
)

// The rating is computed in two pure steps, so that anyone holding the
// events can recompute it: DeputyMetrics turns one deputy's folded records
// into raw metrics for a period, and RateDeputies turns the metrics of every
// deputy of a level into scores and ranks under one method version.
// docs/rating.md defines every step and works an example by hand.

// EndOfPeriod is the last instant (UTC) of a period's last day.
func EndOfPeriod(p Period) time.Time {
	return time.Date(p.End.Year, p.End.Month, p.End.Day, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1).Add(-time.Nanosecond)
}

// IndicatorSnapshot is an indicator as it stood at a cut, with the id of
// the last event folded into it: the event that settled what it was then.
type IndicatorSnapshot struct {
	State       IndicatorState
	LastEventID uuid.UUID
}

// MetricValue is one raw metric of a deputy in a period. Shares keep their
// numerator and denominator; Events are the events that fed the value.
type MetricValue struct {
	Value       float64     `json:"value"`
	Numerator   float64     `json:"numerator"`
	Denominator float64     `json:"denominator"`
	Has         bool        `json:"has_data"`
	Events      []uuid.UUID `json:"events"`
}

// RatingInputs are what one deputy's metrics in one period come from.
type RatingInputs struct {
	Period Period
	// Cut is the end of the period, or the as-of time if earlier.
	Cut time.Time
	// Deputy as of the as-of time (activity is reported after a period
	// ends, so it is not cut at the period's end).
	Deputy DeputyState
	// Indicators as they stood at Cut, by id. The snapshots are read, never
	// changed (a level shares them among its deputies: as values, each
	// lookup copied a snapshot, and each cut copied every one into the map).
	Indicators map[string]*IndicatorSnapshot
	// RoadmapIndicators lists the indicators of each roadmap.
	RoadmapIndicators map[string][]string
	// Assessments the deputy may reply to, as of the as-of time.
	Assessments []AssessmentState
	// RoadmapSums, if not nil, holds SumIndicators of Indicators over
	// RoadmapIndicators for some roadmaps. A deputy who answers for one
	// roadmap alone takes its sums from there instead of looking up each of
	// its indicators again: every deputy of a roadmap would add up the same
	// indicators in the same order, 76 times over on the republican one.
	// The metrics are the same, bit for bit, either way.
	RoadmapSums map[string]IndicatorSums
}

// IndicatorSums is what a deputy's indicator metrics add up over a list of
// indicators: those in force (added by the cut and not cancelled), in the
// list's order.
type IndicatorSums struct {
	n, done, weight, weighted float64
	events                    []uuid.UUID // each counted indicator's LastEventID
}

// SumIndicators adds up the indicators of ids, sorted and without
// duplicates (ids itself is not changed), as they stand in indicators.
func SumIndicators(indicators map[string]*IndicatorSnapshot, ids []string) IndicatorSums {
	// A level's data keeps each roadmap's indicators sorted: sorting
	// thousands of ids again for every deputy and period was most of a
	// level's computation.
	if !increasing(ids) {
		ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	}
	s := IndicatorSums{events: make([]uuid.UUID, 0, len(ids))}
	for _, id := range ids {
		snap := indicators[id]
		if snap == nil || snap.State.ID == "" || snap.State.Status == StatusCancelled {
			continue
		}
		s.n++
		if snap.State.Status == StatusDone {
			s.done++
		}
		s.weight += snap.State.Weight
		s.weighted += snap.State.Weight * snap.State.Completion()
		s.events = append(s.events, snap.LastEventID)
	}
	return s
}

// DeputyMetrics computes every metric source for one deputy and period.
func DeputyMetrics(in RatingInputs) map[MetricSource]MetricValue {
	out := map[MetricSource]MetricValue{}
	counts, events, ok := in.Deputy.ActivityIn(in.Period)
	if ok {
		count := func(n int) MetricValue {
			return MetricValue{Value: float64(n), Numerator: float64(n), Has: true, Events: events}
		}
		out[MetricReceptionsHeld] = count(counts.ReceptionsHeld)
		out[MetricPeopleReceived] = count(counts.PeopleReceived)
		out[MetricAppealsHandled] = count(counts.AppealsHandled)
		if n := counts.AppealsHandled; n > 0 {
			out[MetricAppealsPositiveShare] = share(float64(counts.Outcomes.Positive), float64(n), events)
			out[MetricAppealsClosedShare] = share(float64(n-counts.Outcomes.Pending), float64(n), events)
		}
	}
	indicatorMetrics(in, out)
	assessmentMetrics(in, out)
	return out
}

func share(num, den float64, events []uuid.UUID) MetricValue {
	return MetricValue{Value: num / den, Numerator: num, Denominator: den, Has: true, Events: events}
}

// indicatorMetrics: the indicators the deputy answers for at the cut —
// each indicator assigned directly, and every indicator of each roadmap
// assigned — added by the cut and not cancelled.
func indicatorMetrics(in RatingInputs, out map[MetricSource]MetricValue) {
	resp := in.Deputy.ResponsibilitiesAt(in.Cut)
	var sums IndicatorSums
	ok := false
	if rm := soleRoadmap(resp); rm != "" {
		sums, ok = in.RoadmapSums[rm]
	}
	if !ok {
		var ids []string
		for _, r := range resp {
			switch r.Subject {
			case ResponsibleForIndicator:
				ids = append(ids, r.SubjectID)
			case ResponsibleForRoadmap:
				ids = append(ids, in.RoadmapIndicators[r.SubjectID]...)
			}
		}
		sums = SumIndicators(in.Indicators, ids)
	}
	if sums.n == 0 {
		return
	}
	// The events are kept (they say why): the assignments, then the
	// indicators' events.
	events := make([]uuid.UUID, len(resp), len(resp)+len(sums.events))
	for i, r := range resp {
		events[i] = r.AssignEventID
	}
	events = append(events, sums.events...)
	out[MetricIndicatorsDoneShare] = share(sums.done, sums.n, events)
	if sums.weight > 0 {
		out[MetricIndicatorsProgress] = share(sums.weighted, sums.weight, events)
	}
}

func increasing(ids []string) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			return false
		}
	}
	return true
}

// soleRoadmap is the roadmap the responsibilities name if they name one
// roadmap and no indicator (the same roadmap may be named twice), or "".
func soleRoadmap(resp []Responsibility) string {
	var id string
	for _, r := range resp {
		switch r.Subject {
		case ResponsibleForIndicator:
			return ""
		case ResponsibleForRoadmap:
			if id != "" && id != r.SubjectID {
				return ""
			}
			id = r.SubjectID
		}
	}
	return id
}

// assessmentMetrics: assessments that name the deputy as a respondent,
// made within the period and not withdrawn; replied if the deputy replied.
func assessmentMetrics(in RatingInputs, out map[MetricSource]MetricValue) {
	var received, replied float64
	var events []uuid.UUID
	start := time.Date(in.Period.Start.Year, in.Period.Start.Month, in.Period.Start.Day, 0, 0, 0, 0, time.UTC)
	byID := func(a, b AssessmentState) int { return cmp.Compare(a.ID, b.ID) }
	list := in.Assessments
	if !slices.IsSortedFunc(list, byID) { // the caller's list is not changed
		list = slices.Clone(list)
		slices.SortFunc(list, byID)
	}
	for _, a := range list {
		if a.Withdrawn || !a.IsRespondent(in.Deputy.ID) || a.AssessedAt.Before(start) || a.AssessedAt.After(EndOfPeriod(in.Period)) {
			continue
		}
		received++
		events = append(events, a.EventID)
		for _, r := range a.Replies {
			if r.RespondentID == in.Deputy.ID {
				replied++
				events = append(events, r.EventID)
				break
			}
		}
	}
	if received > 0 {
		out[MetricAssessmentReplyShare] = share(replied, received, events)
	}
}

// RatingSubject is one deputy's data for RateDeputies.
type RatingSubject struct {
	DeputyID    string
	DisplayName string
	AssemblyID  string
	Level       CouncilLevel
	FactionDays int
	Metrics     map[MetricSource]MetricValue
}

// ComponentScore is one component of a deputy's score.
type ComponentScore struct {
	Key           string        `json:"key"`
	Source        MetricSource  `json:"source"`
	Weight        float64       `json:"weight"`
	Normalization Normalization `json:"normalization"`
	HasData       bool          `json:"has_data"`
	Raw           float64       `json:"raw"`
	Numerator     float64       `json:"numerator"`
	Denominator   float64       `json:"denominator"`
	// Min and Max are the bounds of a min-max normalisation in its scope.
	Min        *float64 `json:"min,omitempty"`
	Max        *float64 `json:"max,omitempty"`
	Normalized float64  `json:"normalized"`
	// Points is this component's part of the score: 100 × weight ÷ (sum
	// of weights) × normalized.
	Points float64     `json:"points"`
	Events []uuid.UUID `json:"events"`
}

// DeputyRating is a deputy's rating in one period under one method version.
type DeputyRating struct {
	Method      string       `json:"method"`
	Version     int          `json:"version"`
	Period      Period       `json:"period"`
	Provisional bool         `json:"provisional"`
	DeputyID    string       `json:"deputy_id"`
	DisplayName string       `json:"display_name"`
	AssemblyID  string       `json:"assembly_id"`
	Level       CouncilLevel `json:"level"`
	FactionDays int          `json:"faction_days"`
	Rated       bool         `json:"rated"`
	// NotRated says which minimum-data rule the deputy missed.
	NotRated string   `json:"not_rated,omitempty"`
	Score    *float64 `json:"score"`
	// Ranks are competition ranks (1, 2, 2, 4) among the rated deputies of
	// the assembly and of the level; nil when the group has fewer rated
	// deputies than the method's minimum of peers.
	RankAssembly  *int             `json:"rank_assembly"`
	AssemblyRated int              `json:"assembly_rated"`
	RankLevel     *int             `json:"rank_level"`
	LevelRated    int              `json:"level_rated"`
	Components    []ComponentScore `json:"components"`
}

// noEvents is the empty list of a component without data: never nil, so
// that it reads as [] and not null.
var noEvents = []uuid.UUID{}

// RateDeputies scores the deputies of one level in one period under one
// method version. Deputies never in the faction during the period are left
// out; the rest are rated when they meet the minimum-data rules. A
// component's events are its metric's list: the ratings and the subjects'
// metrics are read, never changed.
func RateDeputies(method RatingMethodPublished, p Period, cut time.Time, subjects []RatingSubject) []DeputyRating {
	subjects = slices.Clone(subjects)
	slices.SortFunc(subjects, func(a, b RatingSubject) int { return cmp.Compare(a.DeputyID, b.DeputyID) })
	f := method.Formula
	var eligible []RatingSubject
	out := make([]DeputyRating, 0, len(subjects))
	// of[i] is the subject out[i] is scored on: the first with its id.
	of := make([]int, 0, len(subjects))
	first := 0
	for j, s := range subjects {
		if j == 0 || s.DeputyID != subjects[j-1].DeputyID {
			first = j
		}
		if s.FactionDays == 0 {
			continue
		}
		of = append(of, first)
		out = append(out, DeputyRating{Method: method.Method, Version: method.Version, Period: p,
			Provisional: cut.Before(EndOfPeriod(p)), DeputyID: s.DeputyID, DisplayName: s.DisplayName,
			AssemblyID: s.AssemblyID, Level: s.Level, FactionDays: s.FactionDays})
		if s.FactionDays >= f.Minimum.FactionDays {
			eligible = append(eligible, s)
		}
	}
	bounds := minMaxBounds(f, eligible)
	var totalWeight float64
	for _, c := range f.Components {
		totalWeight += c.Weight
	}
	for i := range out {
		r := &out[i]
		s := subjects[of[i]]
		withData := 0
		var score float64
		for _, c := range f.Components {
			cs := ComponentScore{Key: c.Key, Source: c.Source, Weight: c.Weight, Normalization: c.Normalization, Events: noEvents}
			if mv, ok := s.Metrics[c.Source]; ok && mv.Has {
				withData++
				cs.HasData, cs.Raw, cs.Numerator, cs.Denominator = true, mv.Value, mv.Numerator, mv.Denominator
				// The metric's list itself, capped: a rating is read, never
				// changed, and copying every list for every method version
				// was a tenth of a rebuild's allocations.
				if mv.Events != nil {
					cs.Events = slices.Clip(mv.Events)
				}
				cs.Normalized = normalize(c, mv.Value, bounds, s, &cs)
			}
			pts := 100 * c.Weight / totalWeight * cs.Normalized
			score += pts
			cs.Raw, cs.Normalized, cs.Points = roundTo(cs.Raw, 6), roundTo(cs.Normalized, 6), roundTo(pts, 4)
			r.Components = append(r.Components, cs)
		}
		switch {
		case s.FactionDays < f.Minimum.FactionDays:
			r.NotRated = "faction membership shorter than the method's minimum of days in the period"
		case withData < f.Minimum.Components:
			r.NotRated = "fewer components with data than the method's minimum"
		default:
			r.Rated = true
			v := roundTo(score, 2)
			r.Score = &v
		}
	}
	rank(out, f.Minimum.Peers, func(r DeputyRating) string { return r.AssemblyID },
		func(r *DeputyRating, rank, n int) { r.RankAssembly, r.AssemblyRated = intp(rank), n })
	rank(out, f.Minimum.Peers, func(r DeputyRating) string { return string(r.Level) },
		func(r *DeputyRating, rank, n int) { r.RankLevel, r.LevelRated = intp(rank), n })
	return out
}

func intp(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

type boundKey struct {
	component string
	group     string
}

type bound struct{ min, max float64 }

// minMaxBounds finds, for every min-max component, the minimum and maximum
// over the eligible deputies with data in each group of its scope.
func minMaxBounds(f RatingFormula, eligible []RatingSubject) map[boundKey]bound {
	out := map[boundKey]bound{}
	for _, c := range f.Components {
		if c.Normalization.Kind != NormalizeMinMax {
			continue
		}
		for _, s := range eligible {
			mv, ok := s.Metrics[c.Source]
			if !ok || !mv.Has {
				continue
			}
			k := boundKey{c.Key, groupOf(c.Normalization.Scope, s)}
			b, seen := out[k]
			if !seen {
				b = bound{mv.Value, mv.Value}
			}
			b.min, b.max = min(b.min, mv.Value), max(b.max, mv.Value)
			out[k] = b
		}
	}
	return out
}

func groupOf(scope RatingScope, s RatingSubject) string {
	if scope == ScopeAssembly {
		return s.AssemblyID
	}
	return string(s.Level)
}

func normalize(c RatingComponent, x float64, bounds map[boundKey]bound, s RatingSubject, cs *ComponentScore) float64 {
	switch c.Normalization.Kind {
	case NormalizeMinMax:
		b, ok := bounds[boundKey{c.Key, groupOf(c.Normalization.Scope, s)}]
		if !ok {
			// The deputy is not eligible, so not among the bounds: compare
			// with nobody.
			b = bound{x, x}
		}
		lo, hi := b.min, b.max
		cs.Min, cs.Max = &lo, &hi
		switch {
		case hi > lo:
			return min(max((x-lo)/(hi-lo), 0), 1)
		case x > 0:
			return 1
		}
		return 0
	case NormalizeRatioToTarget:
		if c.Normalization.Target == nil || *c.Normalization.Target <= 0 {
			return 0
		}
		return min(max(x / *c.Normalization.Target, 0), 1)
	case NormalizeIdentity:
		return min(max(x, 0), 1)
	}
	return 0
}

// rank gives competition ranks by score, descending, within each group
// that has at least minPeers rated deputies.
func rank(rs []DeputyRating, minPeers int, group func(DeputyRating) string, set func(*DeputyRating, int, int)) {
	groups := map[string][]int{}
	var order []string
	for i, r := range rs {
		if !r.Rated {
			continue
		}
		g := group(r)
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], i)
	}
	for _, g := range order {
		idx := groups[g]
		if len(idx) < minPeers {
			for _, i := range idx {
				set(&rs[i], 0, len(idx))
			}
			continue
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(*rs[b].Score, *rs[a].Score) })
		ranks := make([]int, len(idx))
		for pos, i := range idx {
			ranks[pos] = pos + 1
			if pos > 0 && *rs[idx[pos-1]].Score == *rs[i].Score {
				ranks[pos] = ranks[pos-1]
			}
			set(&rs[i], ranks[pos], len(idx))
		}
	}
	// A row not rated has no rank, but its group's count of rated deputies
	// is a fact about the group, the same on every row (docs/rating.md).
	for i, r := range rs {
		if !r.Rated {
			set(&rs[i], 0, len(groups[group(r)]))
		}
	}
}

package projections

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/domain"
)

// DeputyRatingView is a deputy's rating in one period under one method
// version, as the ratings read model serves it.
type DeputyRatingView struct {
	domain.DeputyRating
	// InForce: this version is the one in force for the period (the latest
	// whose effective_from is on or before the period's start).
	InForce bool `json:"in_force"`
	// Cut is when the period's data is taken: its end, or the time of the
	// latest event (live) or the as-of time, if earlier.
	Cut time.Time `json:"cut"`
}

// levelData is everything a level's ratings are computed from, folded on
// the axes.
type levelData struct {
	deputies          []domain.DeputyState
	methods           map[string][]domain.RatingMethodPublished
	indicators        map[string]*aggregateHistory
	roadmapIndicators map[string][]string
	assessments       []domain.AssessmentState
	cut               time.Time

	// folds folds the indicators as of any cut, by id.
	folds map[string]*indicatorFolds
	// assessmentsOf lists, by person, the assessments naming them as a
	// respondent: the only ones DeputyMetrics counts for them.
	assessmentsOf map[string][]domain.AssessmentState

	// What the level reads, for the live cache (rating_cache.go) to tell
	// which new facts concern it: the deputies listed under the level, the
	// version each deputy's fold reached, the roadmaps and indicators they
	// answer for, and the assessments linked to them.
	ids            map[string]bool
	deputyVersions map[string]int64
	roadmaps       map[string]bool
	direct         map[string]bool
	assessmentIDs  map[string]bool
	// facts counts the events folded, to weigh the level in the cache.
	facts int
}

// computeLevel computes the ratings of every deputy of a level, for every
// method version and period, from the stored events kept by axes. With no
// axes (the live read model), the data is taken up to the latest event
// that feeds the level; with AsOf, up to that time.
func computeLevel(ctx context.Context, q sqlx.QueryerContext, gen int, level string, axes Axes) ([]DeputyRatingView, error) {
	d, err := loadLevel(ctx, q, gen, level, axes)
	if err != nil {
		return nil, err
	}
	var out []DeputyRatingView
	d.each(nil, func(_ periodKey, views []DeputyRatingView) { out = append(out, views...) })
	return out, nil
}

// periodKey names the ratings of one method version in one period.
type periodKey struct {
	method  string
	version int
	period  domain.Period
}

// each computes the ratings of the level for every method version and
// period in order (methods by name, versions, periods), calling f with
// each group's ratings. A group that keep says is known already is not
// computed: f gets nil views for it.
func (d *levelData) each(keep func(periodKey) bool, f func(periodKey, []DeputyRatingView)) {
	if len(d.deputies) == 0 || d.cut.IsZero() {
		return
	}
	metrics := map[domain.Period]map[string]map[domain.MetricSource]domain.MetricValue{}
	snapshots := map[time.Time]map[string]*domain.IndicatorSnapshot{}
	sums := map[time.Time]map[string]domain.IndicatorSums{}
	for _, name := range keysOf(d.methods) {
		versions := d.methods[name]
		for _, v := range versions {
			for _, p := range v.Formula.Periods(domain.DateOf(d.cut.UTC())) {
				key := periodKey{method: name, version: v.Version, period: p}
				if keep != nil && keep(key) {
					f(key, nil)
					continue
				}
				pc := d.periodCut(p)
				if _, ok := snapshots[pc]; !ok {
					snapshots[pc] = d.snapshotsAt(pc)
					sums[pc] = d.roadmapSums(snapshots[pc])
				}
				if _, ok := metrics[p]; !ok {
					metrics[p] = d.metricsIn(p, pc, snapshots[pc], sums[pc])
				}
				f(key, d.rate(versions, v, p, pc, metrics[p]))
			}
		}
	}
}

// periodCut is when period p's data is taken: its end, or the level's
// cut if earlier.
func (d *levelData) periodCut(p domain.Period) time.Time {
	pc := domain.EndOfPeriod(p)
	if d.cut.Before(pc) {
		pc = d.cut
	}
	return pc
}

// rate computes the ratings of method version v (one of versions) in
// period p, its data taken at pc, from the deputies' metrics in p.
func (d *levelData) rate(versions []domain.RatingMethodPublished, v domain.RatingMethodPublished, p domain.Period, pc time.Time,
	metrics map[string]map[domain.MetricSource]domain.MetricValue) []DeputyRatingView {
	var subjects []domain.RatingSubject
	for _, dep := range d.deputies {
		m, ok := metrics[dep.ID]
		if !ok {
			continue
		}
		subjects = append(subjects, domain.RatingSubject{DeputyID: dep.ID, DisplayName: dep.DisplayName,
			AssemblyID: dep.Assembly.ID(), Level: dep.Assembly.Level, FactionDays: dep.FactionDays(p, pc), Metrics: m})
	}
	inForce := domain.VersionInForce(versions, p) == v.Version
	rated := domain.RateDeputies(v, p, pc, subjects)
	views := make([]DeputyRatingView, len(rated))
	for i, r := range rated {
		views[i] = DeputyRatingView{DeputyRating: r, InForce: inForce, Cut: pc.UTC()}
	}
	return views
}

// metricsIn computes the metrics of every deputy registered by the cut.
// The deputies are shared among up to computeWorkers goroutines (the live
// settle recomputes the current periods of every deputy of a level on each
// settle); the map is filled in one.
func (d *levelData) metricsIn(p domain.Period, pc time.Time, snaps map[string]*domain.IndicatorSnapshot,
	sums map[string]domain.IndicatorSums) map[string]map[domain.MetricSource]domain.MetricValue {
	metrics := make([]map[domain.MetricSource]domain.MetricValue, len(d.deputies))
	inParallel(len(d.deputies), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			if dep := d.deputies[j]; !dep.RegisteredAt.After(pc) {
				metrics[j] = domain.DeputyMetrics(domain.RatingInputs{Period: p, Cut: pc, Deputy: dep, Indicators: snaps,
					RoadmapIndicators: d.roadmapIndicators, Assessments: d.assessmentsOf[dep.ID], RoadmapSums: sums})
			}
		}
	})
	out := make(map[string]map[domain.MetricSource]domain.MetricValue, len(d.deputies))
	for j, dep := range d.deputies {
		if !dep.RegisteredAt.After(pc) {
			out[dep.ID] = metrics[j]
		}
	}
	return out
}

// roadmapSums adds up, for each roadmap of the level, its indicators as
// they stand in snaps (domain.RatingInputs.RoadmapSums): once per cut, where
// each of a roadmap's deputies added them up again for every period. The
// roadmaps are shared among up to computeWorkers goroutines.
func (d *levelData) roadmapSums(snaps map[string]*domain.IndicatorSnapshot) map[string]domain.IndicatorSums {
	ids := keysOf(d.roadmapIndicators)
	sums := make([]domain.IndicatorSums, len(ids))
	inParallel(len(ids), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			sums[j] = domain.SumIndicators(snaps, d.roadmapIndicators[ids[j]])
		}
	})
	out := make(map[string]domain.IndicatorSums, len(ids))
	for j, id := range ids {
		out[id] = sums[j]
	}
	return out
}

// snapshotsAt folds every loaded indicator as it stood at t (within the
// axes).
// The indicators are shared among up to computeWorkers goroutines, each
// folding its own (a fold caches what it folded); the map is filled in one.
func (d *levelData) snapshotsAt(t time.Time) map[string]*domain.IndicatorSnapshot {
	ids := make([]string, 0, len(d.folds))
	for id := range d.folds {
		ids = append(ids, id)
	}
	folds := make([]indicatorFold, len(ids))
	inParallel(len(ids), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			folds[j].snap, folds[j].ok = d.folds[ids[j]].at(t)
		}
	})
	out := make(map[string]*domain.IndicatorSnapshot, len(d.indicators))
	for j, id := range ids {
		if folds[j].ok {
			out[id] = &folds[j].snap
		}
	}
	return out
}

// indicatorFolds folds one indicator as it stood at any cut, once for each
// set of events a cut keeps: the events axes keeps that took effect by the
// cut. A later cut keeps a superset, so the number of kept events names the
// set.
type indicatorFolds struct {
	h     *aggregateHistory
	axes  Axes
	times []time.Time // effective times of the events axes keeps, ascending
	folds map[int]indicatorFold
}

// kept is how many of the events axes keeps took effect by t: the key
// of the fold at t.
func (f *indicatorFolds) kept(t time.Time) int {
	n, _ := slices.BinarySearchFunc(f.times, t, func(e, t time.Time) int {
		if e.After(t) {
			return 1
		}
		return -1
	})
	return n
}

type indicatorFold struct {
	snap domain.IndicatorSnapshot
	ok   bool
}

func newIndicatorFolds(h *aggregateHistory, axes Axes) *indicatorFolds {
	f := &indicatorFolds{h: h, axes: axes, folds: map[int]indicatorFold{}}
	for _, e := range h.Events {
		if axes.keep(e) {
			f.times = append(f.times, effective(e))
		}
	}
	slices.SortFunc(f.times, func(a, b time.Time) int { return a.Compare(b) })
	return f
}

// at is the indicator as it stood at t; ok is false when it cannot be
// folded then (it feeds nothing).
func (f *indicatorFolds) at(t time.Time) (domain.IndicatorSnapshot, bool) {
	n := f.kept(t)
	if r, ok := f.folds[n]; ok {
		return r.snap, r.ok
	}
	var last uuid.UUID
	s, err := domain.FoldIndicator(f.h.Events, func(e domain.Envelope) bool {
		ok := f.axes.keep(e) && !effective(e).After(t)
		if ok {
			last = e.Meta.EventID
		}
		return ok
	})
	// An indicator that cannot be folded feeds nothing (the indicators
	// projector reports it).
	r := indicatorFold{snap: domain.IndicatorSnapshot{State: s, LastEventID: last}, ok: err == nil && s.ID != ""}
	f.folds[n] = r
	return r.snap, r.ok
}

func effective(e domain.Envelope) time.Time {
	if e.Meta.EffectiveAt.IsZero() {
		return e.Meta.RecordedAt
	}
	return e.Meta.EffectiveAt
}

// levelSource is where a level's facts and indexes are read from: the
// stored read model (storedLevels), or what a replay holds in memory
// (ratingsReplay). Both answer alike, in the same order, so that a level
// computed from either is the same.
type levelSource interface {
	// levelDeputies lists the ids of the deputies indexed under level,
	// sorted.
	levelDeputies(ctx context.Context, level string) ([]string, error)
	// facts returns the facts of the given aggregates of one kind, by id;
	// allFacts those of every aggregate of the kind.
	facts(ctx context.Context, kind string, ids []string) (map[string]*aggregateHistory, error)
	allFacts(ctx context.Context, kind string) (map[string]*aggregateHistory, error)
	// roadmapIndicators lists the indicators of the given roadmaps as
	// (indicator, roadmap) pairs, sorted by roadmap, then indicator.
	roadmapIndicators(ctx context.Context, roadmaps []string) ([][2]string, error)
	// assessmentsOf lists the assessments naming any of persons as a
	// respondent, sorted, each once.
	assessmentsOf(ctx context.Context, persons []string) ([]string, error)
}

// storedLevels reads a level from generation gen of the read model.
type storedLevels struct {
	q   sqlx.QueryerContext
	gen int
}

func (s storedLevels) levelDeputies(ctx context.Context, level string) ([]string, error) {
	var ids []string
	if err := sqlx.SelectContext(ctx, s.q, &ids, `SELECT deputy_id FROM rm_rating_deputies WHERE generation = $1 AND level = $2 ORDER BY deputy_id`, s.gen, level); err != nil {
		return nil, fmt.Errorf("deputies of the %s level: %w", level, err)
	}
	return ids, nil
}

func (s storedLevels) facts(ctx context.Context, kind string, ids []string) (map[string]*aggregateHistory, error) {
	return loadFacts(ctx, s.q, ratingFacts, s.gen, kind, ids)
}

func (s storedLevels) allFacts(ctx context.Context, kind string) (map[string]*aggregateHistory, error) {
	return loadAllFacts(ctx, s.q, ratingFacts, s.gen, kind)
}

func (s storedLevels) roadmapIndicators(ctx context.Context, roadmaps []string) ([][2]string, error) {
	rows, err := s.q.QueryxContext(ctx, `SELECT indicator_id, roadmap_id FROM rm_rating_indicators WHERE generation = $1 AND roadmap_id = ANY($2)
ORDER BY roadmap_id, indicator_id`, s.gen, pq.StringArray(roadmaps))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var ind, rm string
		if err := rows.Scan(&ind, &rm); err != nil {
			return nil, err
		}
		out = append(out, [2]string{ind, rm})
	}
	return out, rows.Err()
}

func (s storedLevels) assessmentsOf(ctx context.Context, persons []string) ([]string, error) {
	var ids []string
	if err := sqlx.SelectContext(ctx, s.q, &ids, `SELECT DISTINCT subject_id FROM rm_rating_links
WHERE generation = $1 AND subject_kind = 'assessment' AND person_id = ANY($2) ORDER BY subject_id`, s.gen, pq.StringArray(persons)); err != nil {
		return nil, err
	}
	return ids, nil
}

// loadLevel reads and folds what a level's ratings need.
func loadLevel(ctx context.Context, q sqlx.QueryerContext, gen int, level string, axes Axes) (*levelData, error) {
	return loadLevelFrom(ctx, storedLevels{q: q, gen: gen}, level, axes)
}

// loadLevelFrom reads and folds what a level's ratings need from src.
func loadLevelFrom(ctx context.Context, src levelSource, level string, axes Axes) (*levelData, error) {
	ids, err := src.levelDeputies(ctx, level)
	if err != nil {
		return nil, err
	}
	d := &levelData{methods: map[string][]domain.RatingMethodPublished{}, ids: map[string]bool{}, deputyVersions: map[string]int64{},
		assessmentIDs: map[string]bool{}}
	for _, id := range ids {
		d.ids[id] = true
	}
	if len(ids) == 0 {
		return d, nil
	}
	var latest time.Time
	seen := func(e domain.Envelope) bool {
		d.facts++
		if !axes.keep(e) {
			return false
		}
		if t := effective(e); t.After(latest) {
			latest = t
		}
		return true
	}
	hs, err := src.facts(ctx, kindDeputy, ids)
	if err != nil {
		return nil, err
	}
	roadmaps, direct := map[string]bool{}, map[string]bool{}
	for _, id := range ids {
		h := hs[id]
		if h == nil {
			continue
		}
		s, err := domain.FoldDeputy(h.Events, seen)
		if err != nil {
			return nil, fmt.Errorf("fold deputy %s: %w", id, err)
		}
		if s.ID == "" {
			continue
		}
		d.deputyVersions[id] = h.Version
		d.deputies = append(d.deputies, s)
		for _, r := range s.Responsibilities {
			switch r.Subject {
			case domain.ResponsibleForRoadmap:
				roadmaps[r.SubjectID] = true
			case domain.ResponsibleForIndicator:
				direct[r.SubjectID] = true
			}
		}
	}
	methods, err := src.allFacts(ctx, kindMethod)
	if err != nil {
		return nil, err
	}
	for name, h := range methods {
		for _, e := range h.Events {
			if p, ok := e.Event.(domain.RatingMethodPublished); ok && seen(e) {
				d.methods[name] = append(d.methods[name], p)
			}
		}
		slices.SortFunc(d.methods[name], func(a, b domain.RatingMethodPublished) int { return cmp.Compare(a.Version, b.Version) })
	}
	d.roadmapIndicators = map[string][]string{}
	pairs, err := src.roadmapIndicators(ctx, keys(roadmaps))
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		d.roadmapIndicators[p[1]] = append(d.roadmapIndicators[p[1]], p[0])
		direct[p[0]] = true
	}
	if d.indicators, err = src.facts(ctx, kindIndicator, keys(direct)); err != nil {
		return nil, err
	}
	for _, h := range d.indicators {
		for _, e := range h.Events {
			seen(e)
		}
	}
	assessmentIDs, err := src.assessmentsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	as, err := src.facts(ctx, kindAssessment, assessmentIDs)
	if err != nil {
		return nil, err
	}
	for _, id := range assessmentIDs {
		d.assessmentIDs[id] = true
		h := as[id]
		if h == nil {
			continue
		}
		s, err := domain.FoldAssessment(h.Events, seen)
		if err != nil {
			return nil, fmt.Errorf("fold assessment %s: %w", id, err)
		}
		if s.ID != "" {
			d.assessments = append(d.assessments, s)
		}
	}
	d.folds = make(map[string]*indicatorFolds, len(d.indicators))
	for id, h := range d.indicators {
		d.folds[id] = newIndicatorFolds(h, axes)
	}
	d.assessmentsOf = map[string][]domain.AssessmentState{}
	for _, a := range d.assessments {
		for _, person := range slices.Compact(slices.Sorted(slices.Values(a.Respondents))) {
			d.assessmentsOf[person] = append(d.assessmentsOf[person], a)
		}
	}
	// Sorted once here, as DeputyMetrics reads them, so that it need not
	// sort them again for every deputy and period.
	for _, list := range d.assessmentsOf {
		slices.SortFunc(list, func(a, b domain.AssessmentState) int { return cmp.Compare(a.ID, b.ID) })
	}
	for _, list := range d.roadmapIndicators {
		slices.Sort(list)
	}
	d.roadmaps, d.direct = roadmaps, direct
	d.cut = latest
	if axes.AsOf != nil {
		d.cut = axes.AsOf.UTC()
	}
	return d, nil
}

// RatingsAt computes the ratings of a level as they stood on the axes:
// the same computation as the live read model, on the events kept by axes.
func RatingsAt(ctx context.Context, db sqlx.QueryerContext, level string, axes Axes) ([]DeputyRatingView, error) {
	gen, err := activeGeneration(ctx, db, RatingsName)
	if err != nil {
		return nil, err
	}
	return computeLevel(ctx, db, gen, level, axes)
}

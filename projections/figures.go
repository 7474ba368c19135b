package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/domain"
)

// Method is a published, versioned way of turning measures into a
// percentage. docs/methodology.md defines each one; every figure names the
// method and version that produced it.
type Method struct {
	Name        string `json:"name" doc:"The method's name."`
	Version     int    `json:"version" doc:"Its version: a change of rule is a new version beside the old one."`
	Summary     string `json:"summary" doc:"What it computes."`
	Numerator   string `json:"numerator" doc:"What it counts."`
	Denominator string `json:"denominator" doc:"Over what."`
	Since       string `json:"since" format:"date" doc:"The method applies to figures from this date."`
}

// The methods. A change of rule is a new version beside the old one, never
// an edit.
var (
	ShareDone = Method{
		Name: "share-done", Version: 1, Since: "2021-01-01",
		Summary:     "The share of measures done: the method behind the published \"7% republican, 5% regional\".",
		Numerator:   "measures whose status is done",
		Denominator: "measures added and not cancelled",
	}
	WeightedProgress = Method{
		Name: "weighted-progress", Version: 1, Since: "2021-01-01",
		Summary:     "Weighted average completion: numeric measures earn partial credit (reached share of the way from baseline to target, clamped to [0, 1]); milestones count 0 or 1.",
		Numerator:   "sum of weight × completion over measures not cancelled",
		Denominator: "sum of weight over measures not cancelled",
	}
	Methods = []Method{ShareDone, WeightedProgress}
)

// MethodByName finds a method; version 0 means the latest.
func MethodByName(name string, version int) (Method, bool) {
	var found Method
	ok := false
	for _, m := range Methods {
		if m.Name == name && (version == 0 || m.Version == version) && (!ok || m.Version > found.Version) {
			found, ok = m, true
		}
	}
	return found, ok
}

// ScopeKind is what a figure is about.
type ScopeKind string

// Scope kinds.
const (
	ScopeAll       ScopeKind = "all"
	ScopeRoadmap   ScopeKind = "roadmap"
	ScopeTerritory ScopeKind = "territory" // the territory and every territory below it
	ScopeLevel     ScopeKind = "level"     // republican, regional or district (LevelWords)
	ScopeProgram   ScopeKind = "program"
)

// Scope selects roadmaps. ProgramID, when set, narrows any kind to one
// program.
type Scope struct {
	Kind      ScopeKind `json:"kind" enum:"all,roadmap,territory,level,program" doc:"What the figure is about."`
	ID        string    `json:"id,omitempty" doc:"The scope's id: a roadmap's UUID, a KATO code, a level or a program's UUID."`
	ProgramID string    `json:"program_id,omitempty" format:"uuid" doc:"The program the scope is narrowed to."`
}

// ErrUnknownScope: the scope names nothing the ledger knows.
var ErrUnknownScope = errors.New("unknown scope")

// Figure is one implementation percentage.
type Figure struct {
	Scope         Scope     `json:"scope" doc:"What the figure is about."`
	Method        string    `json:"method" doc:"The method that produced it (see /v1/methods)."`
	MethodVersion int       `json:"method_version" doc:"The method's version."`
	Numerator     float64   `json:"numerator" doc:"Exact: the sum of each measure's contribution rounded half-even to 6 decimals (docs/methodology.md)."`
	Denominator   float64   `json:"denominator" doc:"Exact, like the numerator."`
	Percent       *float64  `json:"percent" doc:"A percentage, 0–100: 100 × numerator / denominator computed exactly, rounded half to even to two decimals (13.875 → 13.88, 25.625 → 25.62); null when the denominator is 0."` // null when the denominator is 0
	Roadmaps      int       `json:"roadmaps" doc:"Roadmaps in the scope."`
	Measures      int       `json:"measures" doc:"Indicators added and not cancelled."` // added and not cancelled
	Done          int       `json:"done" doc:"Indicators done."`
	Cancelled     int       `json:"cancelled" doc:"Indicators cancelled (left out of every denominator)."`
	AsOf          *AxisTime `json:"as_of,omitempty" doc:"The effective-time axis, when asked for."`   // effective time axis
	KnownAt       *AxisTime `json:"known_at,omitempty" doc:"The recorded-time axis, when asked for."` // recorded time axis
}

// sums are additive over measures, so figures of any scope are sums of its
// roadmaps' or indicators' contributions. Weights are kept in exact integer
// millionths (decimal.go), so a sum never depends on its order.
type sums struct {
	measures, done, cancelled int
	weightTotal, weightedDone int64 // millionths
}

func (s *sums) add(o sums) {
	s.measures += o.measures
	s.done += o.done
	s.cancelled += o.cancelled
	s.weightTotal += o.weightTotal
	s.weightedDone += o.weightedDone
}

func (s sums) sub(o sums) sums {
	return sums{s.measures - o.measures, s.done - o.done, s.cancelled - o.cancelled, s.weightTotal - o.weightTotal, s.weightedDone - o.weightedDone}
}

func contribution(st domain.IndicatorState) sums {
	switch {
	case st.ID == "":
		return sums{}
	case st.Status == domain.StatusCancelled:
		return sums{cancelled: 1}
	}
	c := sums{measures: 1}
	c.weightTotal, c.weightedDone = weightedMicro(st)
	if st.Status == domain.StatusDone {
		c.done = 1
	}
	return c
}

func (s sums) figures(scope Scope, roadmaps int, asOf, knownAt *time.Time) []Figure {
	// num and den are in the same unit (measures, or millionths of weight).
	mk := func(m Method, num, den int64, unit int64) Figure {
		f := Figure{Scope: scope, Method: m.Name, MethodVersion: m.Version,
			Numerator: float64(num) / float64(unit), Denominator: float64(den) / float64(unit),
			Roadmaps: roadmaps, Measures: s.measures, Done: s.done, Cancelled: s.cancelled, AsOf: AxisTimeOf(asOf), KnownAt: AxisTimeOf(knownAt)}
		if den > 0 {
			p := float64(percentHundredths(num, den)) / 100
			f.Percent = &p
		}
		return f
	}
	return []Figure{
		mk(ShareDone, int64(s.done), int64(s.measures), 1),
		mk(WeightedProgress, s.weightedDone, s.weightTotal, microPerUnit),
	}
}

const (
	catalogGen    = `(SELECT active_generation FROM projectors WHERE name = 'catalog.v1')`
	indicatorsGen = `(SELECT active_generation FROM projectors WHERE name = 'indicators.v1')`
)

// RoadmapsInScope returns the ids of the roadmaps a scope covers.
func RoadmapsInScope(ctx context.Context, db sqlx.QueryerContext, s Scope) ([]string, error) {
	var where string
	args := []any{s.ProgramID}
	switch s.Kind {
	case ScopeAll:
		where = `true`
	case ScopeRoadmap:
		where, args = `roadmap_id = $2`, append(args, s.ID)
	case ScopeLevel:
		switch s.ID {
		case string(domain.LevelRepublican), string(domain.LevelRegional):
			where, args = `level = $2`, append(args, s.ID)
		case LevelDistrict:
			where = `level = '` + string(domain.LevelRegional) + `' AND kato IN ` + districtRank
		default:
			return nil, fmt.Errorf("level %q (want republican, regional or district): %w", s.ID, ErrUnknownScope)
		}
	case ScopeProgram:
		where, args = `program_id = $2`, append(args, s.ID)
	case ScopeTerritory:
		where, args = `kato IN (WITH RECURSIVE t(kato) AS (
	SELECT $2::text UNION SELECT x.kato FROM rm_territories x JOIN t ON x.parent_kato = t.kato WHERE x.generation = `+catalogGen+`
) SELECT kato FROM t)`, append(args, s.ID)
	default:
		return nil, fmt.Errorf("scope kind %q: %w", s.Kind, ErrUnknownScope)
	}
	q := `SELECT roadmap_id FROM rm_roadmaps WHERE generation = ` + catalogGen + ` AND ($1 = '' OR program_id = $1) AND ` + where + ` ORDER BY roadmap_id`
	var ids []string
	if err := sqlx.SelectContext(ctx, db, &ids, q, args...); err != nil {
		return nil, fmt.Errorf("roadmaps in %s %s: %w", s.Kind, s.ID, err)
	}
	if len(ids) == 0 && s.Kind != ScopeAll {
		if ok, err := scopeExists(ctx, db, s); err != nil || !ok {
			return nil, errors.Join(err, fmt.Errorf("%s %q: %w", s.Kind, s.ID, ErrUnknownScope))
		}
	}
	return ids, nil
}

// scopeExists tells an empty scope (a territory without roadmaps yet) from
// one that names nothing.
func scopeExists(ctx context.Context, db sqlx.QueryerContext, s Scope) (bool, error) {
	var q string
	switch s.Kind {
	case ScopeTerritory:
		q = `SELECT EXISTS (SELECT 1 FROM rm_territories WHERE generation = ` + catalogGen + ` AND kato = $1)`
	case ScopeProgram:
		q = `SELECT EXISTS (SELECT 1 FROM rm_programs WHERE generation = ` + catalogGen + ` AND program_id = $1)`
	case ScopeLevel:
		return true, nil
	default:
		return false, nil
	}
	var ok bool
	err := sqlx.GetContext(ctx, db, &ok, q, s.ID)
	return ok, err
}

// CurrentFigures returns both methods' figures for a scope now, from the
// current state of each indicator the indicators projector keeps. It sums
// exact contributions (decimal.go) rather than the projector's float
// per-roadmap sums, so it agrees to the last digit with FiguresAt.
func CurrentFigures(ctx context.Context, db sqlx.QueryerContext, s Scope) ([]Figure, error) {
	ids, err := RoadmapsInScope(ctx, db, s)
	if err != nil {
		return nil, err
	}
	// Baseline and target matter only for a numeric measure in progress
	// with a reading; CASE keeps the (large) state of the others unread.
	const q = `SELECT indicator_id, kind, status, weight, latest_value,
	CASE WHEN kind = 'numeric' AND status NOT IN ('done', 'cancelled') AND latest_value IS NOT NULL
		THEN (state->>'baseline')::float8 END AS baseline,
	CASE WHEN kind = 'numeric' AND status NOT IN ('done', 'cancelled') AND latest_value IS NOT NULL
		THEN (state->>'target')::float8 END AS target
FROM rm_indicators WHERE generation = ` + indicatorsGen + ` AND roadmap_id = ANY($1)`
	rows, err := db.QueryxContext(ctx, q, pq.StringArray(ids))
	if err != nil {
		return nil, fmt.Errorf("current figures: %w", err)
	}
	defer rows.Close()
	var t sums
	for rows.Next() {
		var (
			st                       domain.IndicatorState
			kind, status             string
			latest, baseline, target sql.NullFloat64
		)
		if err := rows.Scan(&st.ID, &kind, &status, &st.Weight, &latest, &baseline, &target); err != nil {
			return nil, fmt.Errorf("current figures: %w", err)
		}
		st.Kind, st.Status = domain.IndicatorKind(kind), domain.IndicatorStatus(status)
		st.LatestValue, st.Baseline, st.Target = nullFloat(latest), nullFloat(baseline), nullFloat(target)
		t.add(contribution(st))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("current figures: %w", err)
	}
	return t.figures(s, len(ids), nil, nil), nil
}

func nullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}

// Axes selects a point on the two time axes; nil means "no limit".
type Axes struct {
	AsOf    *time.Time // keep events effective at or before
	KnownAt *time.Time // keep events recorded at or before
	// Log, when set, keeps only the events the transparency log holds below
	// a tree size: the figures as of that log state (?checkpoint=N). Only
	// the figure functions (FiguresAt, DailySeries) honour it.
	Log *LogCut
}

// LogCut is a state of the transparency log: its first TreeSize leaves.
type LogCut struct {
	TreeSize int64
	Leaves   LogLeaves
}

// LogLeaves tells which events the transparency log holds below a tree
// size. It is declared here, where it is used; package
// projections/provenance implements it over projections/translog (which
// imports this package, so this package cannot import it).
type LogLeaves interface {
	// Logged returns which of the events have a leaf index below size.
	Logged(ctx context.Context, size int64, events []uuid.UUID) (map[uuid.UUID]bool, error)
	// StreamsOfType returns the streams with an event of type typ below
	// size.
	StreamsOfType(ctx context.Context, size int64, typ string) (map[string]bool, error)
}

func (a Axes) keep(env domain.Envelope) bool {
	eff := env.Meta.EffectiveAt
	if eff.IsZero() {
		eff = env.Meta.RecordedAt
	}
	return (a.AsOf == nil || !eff.After(*a.AsOf)) && (a.KnownAt == nil || !env.Meta.RecordedAt.After(*a.KnownAt))
}

// FiguresAt returns both methods' figures for a scope as the measures stood
// at a.AsOf, as the ledger knew them at a.KnownAt, by folding each
// indicator's events with the domain's own rules.
func FiguresAt(ctx context.Context, db sqlx.QueryerContext, s Scope, a Axes) ([]Figure, error) {
	ids, histories, err := scopeHistories(ctx, db, s, a.Log)
	if err != nil {
		return nil, err
	}
	var t sums
	for _, h := range sortedHistories(histories) { // a fixed order keeps float sums reproducible
		st, err := domain.FoldIndicator(h.Events, a.keep)
		if err != nil {
			return nil, fmt.Errorf("fold indicator %s: %w", h.IndicatorID, err)
		}
		t.add(contribution(st))
	}
	return t.figures(s, len(ids), a.AsOf, a.KnownAt), nil
}

func scopeHistories(ctx context.Context, db sqlx.QueryerContext, s Scope, cut *LogCut) ([]string, map[string]*History, error) {
	ids, err := RoadmapsInScope(ctx, db, s)
	if err != nil {
		return nil, nil, err
	}
	if cut != nil {
		// A roadmap registered after the log state is not in its scope yet.
		logged, err := cut.Leaves.StreamsOfType(ctx, cut.TreeSize, domain.TypeRoadmapRegistered)
		if err != nil {
			return nil, nil, err
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return !logged["roadmap-"+id] })
	}
	var indicators []string
	q := `SELECT indicator_id FROM rm_indicators WHERE generation = ` + indicatorsGen + ` AND roadmap_id = ANY($1)`
	if err := sqlx.SelectContext(ctx, db, &indicators, q, pq.StringArray(ids)); err != nil {
		return nil, nil, fmt.Errorf("indicators in scope: %w", err)
	}
	var gen int
	if err := sqlx.GetContext(ctx, db, &gen, `SELECT `+indicatorsGen); err != nil {
		return nil, nil, err
	}
	if cut != nil {
		h, err := loadHistoriesBelow(ctx, db, gen, indicators, cut)
		return ids, h, err
	}
	h, err := loadHistories(ctx, db, gen, indicators)
	return ids, h, err
}

// loadHistoriesBelow reads the stored events of the given indicators that
// the log holds below cut.TreeSize: a fact's place in the log is its
// event's leaf, found by event id.
func loadHistoriesBelow(ctx context.Context, db sqlx.QueryerContext, gen int, ids []string, cut *LogCut) (map[string]*History, error) {
	type factRow struct {
		IndicatorID string    `db:"indicator_id"`
		Version     int64     `db:"version"`
		EventID     uuid.UUID `db:"event_id"`
		Type        string    `db:"type"`
		Data        []byte    `db:"data"`
		Metadata    []byte    `db:"metadata"`
	}
	var rows []factRow
	const q = `SELECT indicator_id, version, event_id, type, data, metadata FROM rm_indicator_events
WHERE generation = $1 AND indicator_id = ANY($2) ORDER BY indicator_id, version`
	if err := sqlx.SelectContext(ctx, db, &rows, q, gen, pq.StringArray(ids)); err != nil {
		return nil, fmt.Errorf("load indicator histories: %w", err)
	}
	events := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		events[i] = r.EventID
	}
	logged, err := cut.Leaves.Logged(ctx, cut.TreeSize, events)
	if err != nil {
		return nil, err
	}
	out := map[string]*History{}
	for _, r := range rows {
		if !logged[r.EventID] {
			continue
		}
		ev, m, err := decodeFact(r.Type, r.Data, r.Metadata)
		if err != nil {
			return nil, fmt.Errorf("indicator %s version %d: %w", r.IndicatorID, r.Version, err)
		}
		h := out[r.IndicatorID]
		if h == nil {
			h = &History{IndicatorID: r.IndicatorID}
			out[r.IndicatorID] = h
		}
		h.Version = r.Version
		h.Events = append(h.Events, domain.Envelope{Event: ev, Meta: m})
	}
	return out, nil
}

// Point is one day of a series: both methods as the measures stood at the
// end of that day (UTC).
type Point struct {
	Date    string   `json:"date" format:"date" doc:"The day (the figures stand at its end, UTC)."`
	Figures []Figure `json:"figures" doc:"One figure per method."`
}

// EndOfDay is the last instant of d's date in UTC: "as of 2021-06-01"
// includes everything effective on that day.
func EndOfDay(d domain.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1).Add(-time.Nanosecond)
}

// MaxSeriesDays caps a daily series.
const MaxSeriesDays = 3700

// DailySeries returns, for every day from..to, the figures of a scope at the
// end of the day, optionally as known at knownAt. Each indicator is folded
// once per day on which one of its events took effect, and the day-to-day
// differences are summed, so the cost grows with events, not days ×
// indicators.
func DailySeries(ctx context.Context, db sqlx.QueryerContext, s Scope, from, to domain.Date, knownAt *time.Time) ([]Point, error) {
	return DailySeriesAt(ctx, db, s, from, to, knownAt, nil)
}

// DailySeriesAt is DailySeries on the events the log holds below cut (all
// of them when cut is nil).
func DailySeriesAt(ctx context.Context, db sqlx.QueryerContext, s Scope, from, to domain.Date, knownAt *time.Time, cut *LogCut) ([]Point, error) {
	if to.Before(from) {
		return nil, fmt.Errorf("series from %s to %s: the end is before the start", from, to)
	}
	start, end := EndOfDay(from), EndOfDay(to)
	days := int(end.Sub(start).Hours()/24) + 1
	if days > MaxSeriesDays {
		return nil, fmt.Errorf("series of %d days: at most %d", days, MaxSeriesDays)
	}
	ids, histories, err := scopeHistories(ctx, db, s, cut)
	if err != nil {
		return nil, err
	}
	deltas := make([]sums, days) // deltas[0] carries everything up to from
	for _, h := range sortedHistories(histories) {
		if err := indicatorDeltas(h, start, end, knownAt, deltas); err != nil {
			return nil, err
		}
	}
	out := make([]Point, days)
	var running sums
	for i := range days {
		running.add(deltas[i])
		at := start.AddDate(0, 0, i)
		out[i] = Point{Date: at.Format(time.DateOnly), Figures: running.figures(s, len(ids), &at, knownAt)}
	}
	return out, nil
}

func indicatorDeltas(h *History, start, end time.Time, knownAt *time.Time, deltas []sums) error {
	var changeDays []time.Time
	for _, env := range h.Events {
		if knownAt != nil && env.Meta.RecordedAt.After(*knownAt) {
			continue
		}
		eff := env.Meta.EffectiveAt
		if eff.IsZero() {
			eff = env.Meta.RecordedAt
		}
		day := EndOfDay(domain.DateOf(eff.UTC()))
		if day.Before(start) {
			day = start
		}
		if day.After(end) {
			continue
		}
		if !slices.Contains(changeDays, day) {
			changeDays = append(changeDays, day)
		}
	}
	slices.SortFunc(changeDays, func(a, b time.Time) int { return a.Compare(b) })
	var prev sums
	for _, day := range changeDays {
		st, err := domain.FoldIndicator(h.Events, Axes{AsOf: &day, KnownAt: knownAt}.keep)
		if err != nil {
			return fmt.Errorf("fold indicator %s: %w", h.IndicatorID, err)
		}
		c := contribution(st)
		i := int(day.Sub(start).Hours() / 24)
		deltas[i].add(c.sub(prev))
		prev = c
	}
	return nil
}

func sortedHistories(m map[string]*History) []*History {
	out := make([]*History, 0, len(m))
	for _, h := range m {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b *History) int { return strings.Compare(a.IndicatorID, b.IndicatorID) })
	return out
}

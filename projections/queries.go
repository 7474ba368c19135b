package projections

// Read-model queries for the API: lists with filters and keyset paging, and
// single rows. Every query reads the active generation of the projector that
// wrote the table (catalogGen, indicatorsGen), so a rebuild in progress is
// invisible until it switches.

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/domain"
)

// ErrInvalidCursor: a page cursor that this package did not issue for this
// list (tampered with, truncated, or taken from another list).
var ErrInvalidCursor = errors.New("invalid page cursor")

// RoadmapSummary is a roadmap as the catalog projector knows it, with the
// measure counts the indicators projector keeps for it.
type RoadmapSummary struct {
	ID            string               `json:"id" format:"uuid" doc:"The roadmap's id."`
	ProgramID     string               `json:"program_id" format:"uuid" doc:"The program it implements."`
	TerritoryKATO string               `json:"territory_kato" doc:"Its territory's KATO code."`
	Level         domain.RoadmapLevel  `json:"level" doc:"republican for the republic's roadmap; regional for every other (a region's, a city's or a district's)."`
	Title         domain.Text          `json:"title" doc:"Its title."`
	Status        domain.RoadmapStatus `json:"status" doc:"registered, then active, then closed."`
	Period        domain.Period        `json:"period" doc:"The days it covers."`
	Responsibles  []domain.Responsible `json:"responsibles" doc:"The persons answerable for it, in order of assignment."`
	// Version is the roadmap stream's version as projected: pass it back in
	// If-Match to pin a write to what was read.
	Version      int64     `json:"version" doc:"The roadmap stream's version: send it back in If-Match to pin a write to what you read."`
	RegisteredAt time.Time `json:"registered_at" doc:"When it was registered."`
	UpdatedAt    time.Time `json:"updated_at" doc:"When its last event was recorded."`
	// Measures are the indicators added and not cancelled; Done and
	// Cancelled count by status.
	Measures  int `json:"measures" doc:"Indicators added and not cancelled."`
	Done      int `json:"done" doc:"Indicators done."`
	Cancelled int `json:"cancelled" doc:"Indicators cancelled."`
}

// RoadmapFilter selects roadmaps. Empty fields do not filter.
type RoadmapFilter struct {
	Level         string // republican or regional
	Status        string // registered, active or closed
	ProgramID     string
	TerritoryKATO string // exactly this territory
	WithinKATO    string // this territory and every territory below it
	// Cursor continues a listing from RoadmapPage.NextCursor.
	Cursor string
	// Limit caps the page; zero or less means no cap.
	Limit int
}

// RoadmapPage is one page of roadmaps, ordered by territory code, then id.
// NextCursor is empty on the last page.
type RoadmapPage struct {
	Items      []RoadmapSummary
	NextCursor string
}

type roadmapRow struct {
	ID           string         `db:"roadmap_id"`
	ProgramID    string         `db:"program_id"`
	KATO         string         `db:"kato"`
	Level        string         `db:"level"`
	Title        []byte         `db:"title"`
	Status       string         `db:"status"`
	PeriodStart  sql.NullString `db:"period_start"`
	PeriodEnd    sql.NullString `db:"period_end"`
	Responsibles []byte         `db:"responsibles"`
	Version      int64          `db:"version"`
	RegisteredAt time.Time      `db:"registered_at"`
	UpdatedAt    time.Time      `db:"updated_at"`
	Measures     int            `db:"measures"`
	Done         int            `db:"done"`
	Cancelled    int            `db:"cancelled"`
}

const roadmapSelect = `SELECT r.roadmap_id, r.program_id, r.kato, r.level, r.title, r.status,
	to_char(r.period_start, 'YYYY-MM-DD') AS period_start, to_char(r.period_end, 'YYYY-MM-DD') AS period_end,
	r.responsibles, r.version, r.registered_at, r.updated_at,
	COALESCE(f.measures, 0) AS measures, COALESCE(f.done, 0) AS done, COALESCE(f.cancelled, 0) AS cancelled
FROM rm_roadmaps r
LEFT JOIN rm_roadmap_figures f ON f.generation = ` + indicatorsGen + ` AND f.roadmap_id = r.roadmap_id
WHERE r.generation = ` + catalogGen

// LevelDistrict is the level word of the roadmaps of territories of
// district rank (districts, cities of regional significance, city
// districts): their stored level is regional, like every roadmap below the
// republic, and district is the word the councils and the league use for
// that rank, so roadmap lists and figures take it too.
const LevelDistrict = "district"

// LevelWords are the levels a roadmap list or a figure's scope takes.
var LevelWords = []string{string(domain.LevelRepublican), string(domain.LevelRegional), LevelDistrict}

// districtRank is the set of codes of the territories of district rank.
var districtRank = `(SELECT kato FROM rm_territories WHERE generation = ` + catalogGen + ` AND kind IN ('` +
	string(domain.TerritoryDistrict) + `', '` + string(domain.TerritoryCityOfRegionalSignificance) + `', '` + string(domain.TerritoryCityDistrict) + `'))`

// withinTerritory is the set of a territory's code and every code below it.
func withinTerritory(param string) string {
	return `(WITH RECURSIVE t(kato) AS (
	SELECT ` + param + `::text
	UNION SELECT x.kato FROM rm_territories x JOIN t ON x.parent_kato = t.kato WHERE x.generation = ` + catalogGen + `
) SELECT kato FROM t)`
}

// ListRoadmaps returns one page of the roadmaps f selects.
func ListRoadmaps(ctx context.Context, db sqlx.QueryerContext, f RoadmapFilter) (RoadmapPage, error) {
	var w sqlWhere
	if f.Level == LevelDistrict {
		w.eq("r.level", string(domain.LevelRegional))
		w.add("r.kato IN " + districtRank)
	} else {
		w.eq("r.level", f.Level)
	}
	w.eq("r.status", f.Status)
	w.eq("r.program_id", f.ProgramID)
	w.eq("r.kato", f.TerritoryKATO)
	if f.WithinKATO != "" {
		w.add("r.kato IN " + withinTerritory(w.arg(f.WithinKATO)))
	}
	if f.Cursor != "" {
		key, err := decodeCursor("roadmaps", f.Cursor, 2)
		if err != nil {
			return RoadmapPage{}, err
		}
		w.add("(r.kato, r.roadmap_id) > (" + w.arg(key[0]) + ", " + w.arg(key[1]) + ")")
	}
	q := roadmapSelect + w.and() + ` ORDER BY r.kato, r.roadmap_id` + w.limit(f.Limit)
	var rows []roadmapRow
	if err := sqlx.SelectContext(ctx, db, &rows, q, w.args...); err != nil {
		return RoadmapPage{}, fmt.Errorf("list roadmaps: %w", err)
	}
	var page RoadmapPage
	if f.Limit > 0 && len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		page.NextCursor = encodeCursor("roadmaps", last.KATO, last.ID)
	}
	page.Items = make([]RoadmapSummary, 0, len(rows))
	for _, r := range rows {
		s, err := r.summary()
		if err != nil {
			return RoadmapPage{}, err
		}
		page.Items = append(page.Items, s)
	}
	return page, nil
}

// GetRoadmap returns one roadmap, or an error matching domain.ErrNotFound.
func GetRoadmap(ctx context.Context, db sqlx.QueryerContext, id string) (RoadmapSummary, error) {
	var r roadmapRow
	err := sqlx.GetContext(ctx, db, &r, roadmapSelect+` AND r.roadmap_id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return RoadmapSummary{}, fmt.Errorf("roadmap %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return RoadmapSummary{}, fmt.Errorf("get roadmap %s: %w", id, err)
	}
	return r.summary()
}

func (r roadmapRow) summary() (RoadmapSummary, error) {
	s := RoadmapSummary{
		ID: r.ID, ProgramID: r.ProgramID, TerritoryKATO: r.KATO, Level: domain.RoadmapLevel(r.Level),
		Status: domain.RoadmapStatus(r.Status), Version: r.Version,
		RegisteredAt: r.RegisteredAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Measures: r.Measures, Done: r.Done, Cancelled: r.Cancelled,
		Responsibles: []domain.Responsible{},
	}
	var err error
	if s.Period, err = periodOf(r.PeriodStart, r.PeriodEnd); err != nil {
		return s, fmt.Errorf("roadmap %s: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.Title, &s.Title); err != nil {
		return s, fmt.Errorf("roadmap %s title: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.Responsibles, &s.Responsibles); err != nil {
		return s, fmt.Errorf("roadmap %s responsibles: %w", r.ID, err)
	}
	if s.Responsibles == nil {
		s.Responsibles = []domain.Responsible{}
	}
	return s, nil
}

func periodOf(start, end sql.NullString) (domain.Period, error) {
	var p domain.Period
	if start.Valid {
		if err := p.Start.UnmarshalText([]byte(start.String)); err != nil {
			return p, err
		}
	}
	if end.Valid {
		if err := p.End.UnmarshalText([]byte(end.String)); err != nil {
			return p, err
		}
	}
	return p, nil
}

// IndicatorSummary is an indicator's current state without its reports.
type IndicatorSummary struct {
	ID        string                 `json:"id" format:"uuid" doc:"The indicator's id."`
	RoadmapID string                 `json:"roadmap_id" format:"uuid" doc:"Its roadmap."`
	Title     domain.Text            `json:"title" doc:"The measure."`
	Kind      domain.IndicatorKind   `json:"kind" doc:"milestone (done or not) or numeric (from baseline to target)."`
	Status    domain.IndicatorStatus `json:"status" doc:"Derived from reports, re-targets and explicit changes."`
	// Overdue is derived against the date the query was given: neither done
	// nor cancelled, and the deadline is before that date.
	Overdue    bool             `json:"overdue" doc:"Neither done nor cancelled, and the deadline is before today (in Kazakhstan)."`
	Deadline   domain.Date      `json:"deadline" doc:"When it is due."`
	Weight     float64          `json:"weight" doc:"Its weight in weighted-progress."`
	Completion float64          `json:"completion" doc:"Share achieved, 0 to 1: 1 when done; for numeric indicators (latest − baseline)/(target − baseline), clamped."`
	Baseline   *float64         `json:"baseline,omitempty" doc:"Numeric indicators only: where the measure starts."`
	Target     *float64         `json:"target,omitempty" doc:"Numeric indicators only: the target in force."`
	Unit       domain.Text      `json:"unit,omitzero" doc:"Numeric indicators only: the unit."`
	Direction  domain.Direction `json:"direction,omitempty" doc:"Numeric indicators only: derived from baseline and target."`
	// LatestValue and LatestAsOf are the reading of the report with the
	// latest as_of, after corrections.
	LatestValue   *float64   `json:"latest_value,omitempty" doc:"The reading of the report with the latest as_of, after corrections."`
	LatestAsOf    *time.Time `json:"latest_as_of,omitempty" doc:"The as_of of that report."`
	ResponsibleID string     `json:"responsible_id,omitempty" doc:"The indicator's responsible person."`
	// ReportCount counts original reports, CorrectionCount corrections.
	ReportCount     int  `json:"report_count" doc:"Original reports."`
	CorrectionCount int  `json:"correction_count" doc:"Corrections."`
	HasEvidence     bool `json:"has_evidence" doc:"A report in force carries evidence."`
	// Version is the indicator stream's version as projected.
	Version   int64     `json:"version" doc:"The indicator stream's version: send it back in If-Match."`
	UpdatedAt time.Time `json:"updated_at" doc:"When its last event was recorded."`
}

// IndicatorDetail is an indicator with every report and correction, in
// stream order; a correction names the report it corrects (corrects) and
// that report names it back (corrected_by).
type IndicatorDetail struct {
	IndicatorSummary
	Reports     []domain.Report `json:"reports" doc:"Every report and correction, in the order recorded."`
	AddedAt     time.Time       `json:"added_at" doc:"When the indicator took effect."`
	CancelledAt *time.Time      `json:"cancelled_at,omitempty" doc:"When it was cancelled, if it was."`
}

// IndicatorFilter selects indicators. Empty fields do not filter.
type IndicatorFilter struct {
	RoadmapID string
	Status    string // not_started, in_progress, done or cancelled
	// ResponsibleID: the indicator's own responsible person.
	ResponsibleID string
	// RoadmapResponsibleID: indicators of roadmaps this person is assigned to.
	RoadmapResponsibleID string
	// Overdue, when set, keeps only overdue (true) or only not overdue
	// (false) indicators as of Today.
	Overdue *bool
	// NoEvidence keeps indicators, not cancelled, without a report in force
	// that carries evidence.
	NoEvidence bool
	// Today is the date overdue is judged against, for the filter and for
	// IndicatorSummary.Overdue. Required.
	Today domain.Date
	// Cursor continues a listing from IndicatorPage.NextCursor.
	Cursor string
	// Limit caps the page; zero or less means no cap.
	Limit int
}

// IndicatorPage is one page of indicators, ordered by deadline, then id.
// NextCursor is empty on the last page.
type IndicatorPage struct {
	Items      []IndicatorSummary
	NextCursor string
}

type indicatorRow struct {
	ID              string          `db:"indicator_id"`
	RoadmapID       string          `db:"roadmap_id"`
	Version         int64           `db:"version"`
	Status          string          `db:"status"`
	Completion      float64         `db:"completion"`
	Deadline        string          `db:"deadline"`
	ReportCount     int             `db:"reports"`
	CorrectionCount int             `db:"corrections"`
	HasEvidence     bool            `db:"has_evidence"`
	State           []byte          `db:"state"`
	UpdatedAt       time.Time       `db:"updated_at"`
	LatestValue     sql.NullFloat64 `db:"latest_value"`
}

// indicatorSelect reads indicators' rows. The stored state has no reports
// (storedState); rows written before it did, and "i.state - 'reports'"
// leaves them out of those too.
const indicatorSelect = `SELECT i.indicator_id, i.roadmap_id, i.version, i.status, i.completion,
	to_char(i.deadline, 'YYYY-MM-DD') AS deadline, i.reports, i.corrections, i.has_evidence,
	i.state - 'reports' AS state, i.updated_at, i.latest_value
FROM rm_indicators i WHERE i.generation = ` + indicatorsGen

const overdueSQL = `(i.status NOT IN ('done', 'cancelled') AND i.deadline < %s::date)`

// ListIndicators returns one page of the indicators f selects.
func ListIndicators(ctx context.Context, db sqlx.QueryerContext, f IndicatorFilter) (IndicatorPage, error) {
	if !f.Today.Valid() {
		return IndicatorPage{}, fmt.Errorf("list indicators: Today %q is not a date", f.Today)
	}
	var w sqlWhere
	w.eq("i.roadmap_id", f.RoadmapID)
	w.eq("i.status", f.Status)
	w.eq("i.responsible_id", f.ResponsibleID)
	if f.RoadmapResponsibleID != "" {
		w.add(`i.roadmap_id IN (SELECT roadmap_id FROM rm_roadmaps WHERE generation = ` + catalogGen +
			` AND responsibles @> jsonb_build_array(jsonb_build_object('person_id', ` + w.arg(f.RoadmapResponsibleID) + `::text)))`)
	}
	if f.Overdue != nil {
		cond := fmt.Sprintf(overdueSQL, w.arg(f.Today.String()))
		if !*f.Overdue {
			cond = "NOT " + cond
		}
		w.add(cond)
	}
	if f.NoEvidence {
		w.add(`NOT i.has_evidence AND i.status <> 'cancelled'`)
	}
	if f.Cursor != "" {
		key, err := decodeCursor("indicators", f.Cursor, 2)
		if err != nil {
			return IndicatorPage{}, err
		}
		if _, err := domain.ParseDate(key[0]); err != nil {
			return IndicatorPage{}, fmt.Errorf("cursor: %w", ErrInvalidCursor)
		}
		w.add("(i.deadline, i.indicator_id) > (" + w.arg(key[0]) + "::date, " + w.arg(key[1]) + ")")
	}
	q := indicatorSelect + w.and() + ` ORDER BY i.deadline, i.indicator_id` + w.limit(f.Limit)
	var rows []indicatorRow
	if err := sqlx.SelectContext(ctx, db, &rows, q, w.args...); err != nil {
		return IndicatorPage{}, fmt.Errorf("list indicators: %w", err)
	}
	var page IndicatorPage
	if f.Limit > 0 && len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		page.NextCursor = encodeCursor("indicators", last.Deadline, last.ID)
	}
	page.Items = make([]IndicatorSummary, 0, len(rows))
	for _, r := range rows {
		_, s, err := r.decode(f.Today)
		if err != nil {
			return IndicatorPage{}, err
		}
		page.Items = append(page.Items, s)
	}
	return page, nil
}

// GetIndicator returns one indicator with its reports, or an error matching
// domain.ErrNotFound. today is the date overdue is judged against.
func GetIndicator(ctx context.Context, db sqlx.QueryerContext, id string, today domain.Date) (IndicatorDetail, error) {
	var r indicatorRow
	err := sqlx.GetContext(ctx, db, &r, indicatorSelect+` AND i.indicator_id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return IndicatorDetail{}, fmt.Errorf("indicator %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return IndicatorDetail{}, fmt.Errorf("get indicator %s: %w", id, err)
	}
	st, s, err := r.decode(today)
	if err != nil {
		return IndicatorDetail{}, err
	}
	reports, err := reportsUpTo(ctx, db, id, r.Version)
	if err != nil {
		return IndicatorDetail{}, err
	}
	d := IndicatorDetail{IndicatorSummary: s, Reports: reports, AddedAt: st.AddedAt.UTC()}
	if d.Reports == nil {
		d.Reports = []domain.Report{}
	}
	if !st.CancelledAt.IsZero() {
		t := st.CancelledAt.UTC()
		d.CancelledAt = &t
	}
	return d, nil
}

// reportsUpTo folds an indicator's stored events up to version (the
// version of the row read, so that a batch stored since cannot show
// reports the row does not count) and returns its reports. Events are
// never changed once stored, and every generation stores the same ones.
func reportsUpTo(ctx context.Context, db sqlx.QueryerContext, id string, version int64) ([]domain.Report, error) {
	const q = `SELECT type, data, metadata FROM rm_indicator_events
WHERE generation = ` + indicatorsGen + ` AND indicator_id = $1 AND version <= $2 ORDER BY version`
	rows, err := db.QueryxContext(ctx, q, id, version)
	if err != nil {
		return nil, fmt.Errorf("indicator %s reports: %w", id, err)
	}
	defer rows.Close()
	var st domain.IndicatorState
	for rows.Next() {
		var typ string
		var data, meta []byte
		if err := rows.Scan(&typ, &data, &meta); err != nil {
			return nil, fmt.Errorf("indicator %s reports: %w", id, err)
		}
		ev, m, err := decodeFact(typ, data, meta)
		if err != nil {
			return nil, fmt.Errorf("indicator %s reports: %w", id, err)
		}
		if err := st.Apply(ev, m); err != nil {
			return nil, fmt.Errorf("indicator %s reports: %w", id, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("indicator %s reports: %w", id, err)
	}
	return st.Reports, nil
}

func (r indicatorRow) decode(today domain.Date) (domain.IndicatorState, IndicatorSummary, error) {
	var st domain.IndicatorState
	if err := json.Unmarshal(r.State, &st); err != nil {
		return st, IndicatorSummary{}, fmt.Errorf("indicator %s state: %w", r.ID, err)
	}
	deadline, err := domain.ParseDate(r.Deadline)
	if err != nil {
		return st, IndicatorSummary{}, fmt.Errorf("indicator %s: %w", r.ID, err)
	}
	status := domain.IndicatorStatus(r.Status)
	s := IndicatorSummary{
		ID: r.ID, RoadmapID: r.RoadmapID, Title: st.Title, Kind: st.Kind, Status: status,
		Overdue:  status != domain.StatusDone && status != domain.StatusCancelled && deadline.Before(today),
		Deadline: deadline, Weight: st.Weight, Completion: r.Completion,
		Baseline: st.Baseline, Target: st.Target, Unit: st.Unit, Direction: st.Direction,
		ResponsibleID: st.ResponsibleID, ReportCount: r.ReportCount, CorrectionCount: r.CorrectionCount,
		HasEvidence: r.HasEvidence, Version: r.Version, UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.LatestValue.Valid {
		v := r.LatestValue.Float64
		s.LatestValue = &v
	}
	if !st.LatestAsOf.IsZero() {
		t := st.LatestAsOf.UTC()
		s.LatestAsOf = &t
	}
	return st, s, nil
}

// RoadmapIndicatorIDs returns the ids of a roadmap's indicators, sorted.
func RoadmapIndicatorIDs(ctx context.Context, db sqlx.QueryerContext, roadmapID string) ([]string, error) {
	q := `SELECT indicator_id FROM rm_indicators WHERE generation = ` + indicatorsGen + ` AND roadmap_id = $1 ORDER BY indicator_id`
	ids := []string{}
	if err := sqlx.SelectContext(ctx, db, &ids, q, roadmapID); err != nil {
		return nil, fmt.Errorf("indicators of roadmap %s: %w", roadmapID, err)
	}
	return ids, nil
}

// TerritoryInfo is a registered territory.
type TerritoryInfo struct {
	KATO       string      `json:"kato" doc:"KATO code: nine digits, or 0 for the republic."`
	Name       domain.Text `json:"name" doc:"Its name."`
	Kind       string      `json:"kind" doc:"republic, region, city_of_republican_significance, district, city_of_regional_significance or city_district."`
	ParentKATO string      `json:"parent_kato,omitempty" doc:"The unit it belongs to; absent for the republic."`
}

type territoryRow struct {
	KATO   string `db:"kato"`
	Name   []byte `db:"name"`
	Kind   string `db:"kind"`
	Parent string `db:"parent_kato"`
}

func (r territoryRow) info() (TerritoryInfo, error) {
	t := TerritoryInfo{KATO: r.KATO, Kind: r.Kind, ParentKATO: r.Parent}
	if err := json.Unmarshal(r.Name, &t.Name); err != nil {
		return t, fmt.Errorf("territory %s name: %w", r.KATO, err)
	}
	return t, nil
}

func territoryInfos(rows []territoryRow) ([]TerritoryInfo, error) {
	out := make([]TerritoryInfo, 0, len(rows))
	for _, r := range rows {
		t, err := r.info()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// ListTerritories returns the registered territories ordered by code; with
// parent set, only its direct children.
func ListTerritories(ctx context.Context, db sqlx.QueryerContext, parent string) ([]TerritoryInfo, error) {
	var w sqlWhere
	w.eq("parent_kato", parent)
	q := `SELECT kato, name, kind, COALESCE(parent_kato, '') AS parent_kato FROM rm_territories WHERE generation = ` +
		catalogGen + w.and() + ` ORDER BY kato`
	var rows []territoryRow
	if err := sqlx.SelectContext(ctx, db, &rows, q, w.args...); err != nil {
		return nil, fmt.Errorf("list territories: %w", err)
	}
	return territoryInfos(rows)
}

// TerritoryChain returns a territory and every territory above it, nearest
// first (a district, its region, the republic). It is empty when the
// territory is not registered.
func TerritoryChain(ctx context.Context, db sqlx.QueryerContext, kato string) ([]TerritoryInfo, error) {
	q := `WITH RECURSIVE up(kato, depth) AS (
	SELECT $1::text, 0
	UNION ALL SELECT x.parent_kato, up.depth + 1 FROM rm_territories x JOIN up ON x.kato = up.kato
	WHERE x.generation = ` + catalogGen + ` AND x.parent_kato IS NOT NULL AND up.depth < 16
)
SELECT t.kato, t.name, t.kind, COALESCE(t.parent_kato, '') AS parent_kato
FROM up JOIN rm_territories t ON t.kato = up.kato AND t.generation = ` + catalogGen + `
ORDER BY up.depth`
	var rows []territoryRow
	if err := sqlx.SelectContext(ctx, db, &rows, q, kato); err != nil {
		return nil, fmt.Errorf("territory chain of %s: %w", kato, err)
	}
	return territoryInfos(rows)
}

// ProgramInfo is a registered election program.
type ProgramInfo struct {
	ID     string        `json:"id" format:"uuid" doc:"The program's id."`
	Name   domain.Text   `json:"name" doc:"Its name."`
	Kind   string        `json:"kind" enum:"main,youth" doc:"The main program or the youth program."`
	Period domain.Period `json:"period" doc:"The days it covers."`
}

// ListPrograms returns every registered program, ordered by the start of its
// period, then id.
func ListPrograms(ctx context.Context, db sqlx.QueryerContext) ([]ProgramInfo, error) {
	q := `SELECT program_id, name, kind, to_char(period_start, 'YYYY-MM-DD') AS period_start,
	to_char(period_end, 'YYYY-MM-DD') AS period_end
FROM rm_programs WHERE generation = ` + catalogGen + ` ORDER BY period_start, program_id`
	var rows []struct {
		ID    string         `db:"program_id"`
		Name  []byte         `db:"name"`
		Kind  string         `db:"kind"`
		Start sql.NullString `db:"period_start"`
		End   sql.NullString `db:"period_end"`
	}
	if err := sqlx.SelectContext(ctx, db, &rows, q); err != nil {
		return nil, fmt.Errorf("list programs: %w", err)
	}
	out := make([]ProgramInfo, 0, len(rows))
	for _, r := range rows {
		p := ProgramInfo{ID: r.ID, Kind: r.Kind}
		if err := json.Unmarshal(r.Name, &p.Name); err != nil {
			return nil, fmt.Errorf("program %s name: %w", r.ID, err)
		}
		var err error
		if p.Period, err = periodOf(r.Start, r.End); err != nil {
			return nil, fmt.Errorf("program %s: %w", r.ID, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// sqlWhere collects the conditions and arguments of a filtered query; the
// generation condition is already in the query's base.
type sqlWhere struct {
	conds []string
	args  []any
}

// arg adds a bind argument and returns its placeholder.
func (w *sqlWhere) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *sqlWhere) add(cond string) { w.conds = append(w.conds, cond) }

// eq filters column = value unless value is empty.
func (w *sqlWhere) eq(column, value string) {
	if value != "" {
		w.add(column + " = " + w.arg(value))
	}
}

func (w *sqlWhere) and() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " AND " + strings.Join(w.conds, " AND ")
}

// limit asks for one row more than the page, to know whether another page
// follows.
func (w *sqlWhere) limit(n int) string {
	if n <= 0 {
		return ""
	}
	return " LIMIT " + w.arg(n+1)
}

// A cursor is the sort key of the last row of a page, with the list's name
// so that one list's cursor is refused by another. It is opaque to clients.
type pageCursor struct {
	List string   `json:"l"`
	Key  []string `json:"k"`
}

func encodeCursor(list string, key ...string) string {
	b, _ := json.Marshal(pageCursor{List: list, Key: key}) // strings always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(list, s string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("cursor: %w", ErrInvalidCursor)
	}
	var c pageCursor
	if err := json.Unmarshal(b, &c); err != nil || c.List != list || len(c.Key) != n {
		return nil, fmt.Errorf("cursor: %w", ErrInvalidCursor)
	}
	// A cursor is client input: a key PostgreSQL cannot take as text (a
	// NUL escaped inside the JSON) was not issued by this list.
	for _, k := range c.Key {
		if strings.ContainsRune(k, 0) {
			return nil, fmt.Errorf("cursor: %w", ErrInvalidCursor)
		}
	}
	return c.Key, nil
}

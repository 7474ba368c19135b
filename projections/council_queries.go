package projections

// Read-model queries of the councils projector: councils and their
// members, recommendations (by council, state body and status, overdue
// ones), the answer and acceptance rates of state bodies, and assessments.
// Current answers read the state tables; answers "as of" a past time fold
// the stored events with the domain's own rules.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/domain"
)

const councilsGen = `(SELECT active_generation FROM projectors WHERE name = 'councils.v1')`

// CouncilSummary is a public council as the councils projector knows it.
type CouncilSummary struct {
	ID            string              `json:"id"`
	TerritoryKATO string              `json:"territory_kato"`
	Level         domain.CouncilLevel `json:"level"`
	Name          domain.Text         `json:"name"`
	Members       int                 `json:"members"`
	Version       int64               `json:"version"`
	RegisteredAt  time.Time           `json:"registered_at"`
	UpdatedAt     time.Time           `json:"updated_at"`
}

// CouncilFilter selects councils; empty fields do not filter.
type CouncilFilter struct {
	Level         string
	TerritoryKATO string
	WithinKATO    string // this territory and every one below it
	Cursor        string
	Limit         int
}

// CouncilPage is one page of councils, ordered by territory code, then id.
type CouncilPage struct {
	Items      []CouncilSummary
	NextCursor string
}

type councilRow struct {
	ID           string    `db:"council_id"`
	KATO         string    `db:"kato"`
	Level        string    `db:"level"`
	Name         []byte    `db:"name"`
	Members      int       `db:"members"`
	Version      int64     `db:"version"`
	RegisteredAt time.Time `db:"registered_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

func (r councilRow) summary() (CouncilSummary, error) {
	s := CouncilSummary{ID: r.ID, TerritoryKATO: r.KATO, Level: domain.CouncilLevel(r.Level), Members: r.Members,
		Version: r.Version, RegisteredAt: r.RegisteredAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	return s, json.Unmarshal(r.Name, &s.Name)
}

const councilSelect = `SELECT council_id, kato, level, name, members, version, registered_at, updated_at FROM rm_councils WHERE generation = ` + councilsGen

// ListCouncils returns one page of the councils f selects.
func ListCouncils(ctx context.Context, db sqlx.QueryerContext, f CouncilFilter) (CouncilPage, error) {
	var w sqlWhere
	w.eq("level", f.Level)
	w.eq("kato", f.TerritoryKATO)
	if f.WithinKATO != "" {
		w.add("kato IN " + withinTerritory(w.arg(f.WithinKATO)))
	}
	if f.Cursor != "" {
		key, err := decodeCursor("councils", f.Cursor, 2)
		if err != nil {
			return CouncilPage{}, err
		}
		w.add("(kato, council_id) > (" + w.arg(key[0]) + ", " + w.arg(key[1]) + ")")
	}
	q := councilSelect + w.and() + ` ORDER BY kato, council_id` + w.limit(f.Limit)
	var rows []councilRow
	if err := sqlx.SelectContext(ctx, db, &rows, q, w.args...); err != nil {
		return CouncilPage{}, fmt.Errorf("list councils: %w", err)
	}
	var page CouncilPage
	if f.Limit > 0 && len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		page.NextCursor = encodeCursor("councils", last.KATO, last.ID)
	}
	page.Items = make([]CouncilSummary, 0, len(rows))
	for _, r := range rows {
		s, err := r.summary()
		if err != nil {
			return CouncilPage{}, err
		}
		page.Items = append(page.Items, s)
	}
	return page, nil
}

// ErrNoSuchRecord: the read model has no record with that id.
var ErrNoSuchRecord = errors.New("no such record")

// GetCouncil returns one council.
func GetCouncil(ctx context.Context, db sqlx.QueryerContext, id string) (CouncilSummary, error) {
	var r councilRow
	err := sqlx.GetContext(ctx, db, &r, councilSelect+` AND council_id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return CouncilSummary{}, fmt.Errorf("council %s: %w", id, ErrNoSuchRecord)
	}
	if err != nil {
		return CouncilSummary{}, fmt.Errorf("council %s: %w", id, err)
	}
	return r.summary()
}

// CouncilMemberView is one membership period.
type CouncilMemberView struct {
	MemberID    string                   `json:"member_id"`
	Role        domain.CouncilMemberRole `json:"role"`
	DisplayName string                   `json:"display_name"`
	JoinedAt    time.Time                `json:"joined_at"`
	LeftAt      *time.Time               `json:"left_at"`
}

// CouncilMembers lists a council's members as of a time (nil: now), in
// order of joining; with former, the memberships that had ended by then too.
func CouncilMembers(ctx context.Context, db sqlx.QueryerContext, councilID string, asOf *time.Time, former bool) ([]CouncilMemberView, error) {
	q := `SELECT member_id, role, display_name, joined_at, left_at FROM rm_council_members
WHERE generation = ` + councilsGen + ` AND council_id = $1 AND ($2::timestamptz IS NULL OR joined_at <= $2)
	AND ($3 OR left_at IS NULL OR ($2::timestamptz IS NOT NULL AND left_at > $2))
ORDER BY seq`
	var at any
	if asOf != nil {
		at = asOf.UTC()
	}
	rows, err := db.QueryxContext(ctx, q, councilID, at, former)
	if err != nil {
		return nil, fmt.Errorf("members of council %s: %w", councilID, err)
	}
	defer rows.Close()
	out := []CouncilMemberView{}
	for rows.Next() {
		var m CouncilMemberView
		var left sql.NullTime
		if err := rows.Scan(&m.MemberID, &m.Role, &m.DisplayName, &m.JoinedAt, &left); err != nil {
			return nil, err
		}
		m.JoinedAt = m.JoinedAt.UTC()
		if left.Valid && (asOf == nil || !left.Time.After(*asOf)) {
			t := left.Time.UTC()
			m.LeftAt = &t
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// IsCouncilMember reports whether the person is a current member of the
// council, as the read model knows it.
func IsCouncilMember(ctx context.Context, db sqlx.QueryerContext, councilID, personID string) (bool, error) {
	var ok bool
	err := sqlx.GetContext(ctx, db, &ok, `SELECT EXISTS (SELECT 1 FROM rm_council_members WHERE generation = `+councilsGen+`
	AND council_id = $1 AND member_id = $2 AND left_at IS NULL)`, councilID, personID)
	return ok, err
}

// RecommendationView is a recommendation with what is derived from it.
type RecommendationView struct {
	domain.RecommendationState
	Decision     domain.AnswerDecision `json:"decision,omitempty"`
	Verdict      domain.Verdict        `json:"verdict,omitempty"`
	Overdue      bool                  `json:"overdue"`
	AnsweredLate bool                  `json:"answered_late"`
	// Version is the stream's version as projected (now) or folded (as of).
	Version int64 `json:"version"`
}

func viewOf(s domain.RecommendationState, version int64, on time.Time) RecommendationView {
	return RecommendationView{RecommendationState: s, Decision: s.Decision(), Verdict: s.Verdict(),
		Overdue: s.Overdue(on), AnsweredLate: s.AnsweredLate(on.Location()), Version: version}
}

// RecommendationFilter selects recommendations; empty fields do not
// filter.
type RecommendationFilter struct {
	CouncilID string
	BodyID    string
	Status    string
	// OverdueOnly keeps those whose answer is overdue on On.
	OverdueOnly bool
	// On is "today" for overdue (its date in its location).
	On time.Time
	// Axes, when set, folds the events as of a time (and as known at a
	// time) instead of reading the current state.
	Axes   *Axes
	Cursor string
	Limit  int
}

// RecommendationPage is one page, newest draft first.
type RecommendationPage struct {
	Items      []RecommendationView
	NextCursor string
}

// ListRecommendations returns one page of the recommendations f selects.
func ListRecommendations(ctx context.Context, db sqlx.QueryerContext, f RecommendationFilter) (RecommendationPage, error) {
	all, err := recommendations(ctx, db, f)
	if err != nil {
		return RecommendationPage{}, err
	}
	slices.SortFunc(all, func(a, b RecommendationView) int {
		if c := b.DraftedAt.Compare(a.DraftedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if f.Cursor != "" {
		key, err := decodeCursor("recommendations", f.Cursor, 2)
		if err != nil {
			return RecommendationPage{}, err
		}
		at, err := time.Parse(time.RFC3339Nano, key[0])
		if err != nil {
			return RecommendationPage{}, fmt.Errorf("cursor: %w", ErrInvalidCursor)
		}
		i := slices.IndexFunc(all, func(v RecommendationView) bool {
			return v.DraftedAt.Before(at) || (v.DraftedAt.Equal(at) && v.ID > key[1])
		})
		if i < 0 {
			i = len(all)
		}
		all = all[i:]
	}
	var page RecommendationPage
	if f.Limit > 0 && len(all) > f.Limit {
		all = all[:f.Limit]
		last := all[len(all)-1]
		page.NextCursor = encodeCursor("recommendations", last.DraftedAt.Format(time.RFC3339Nano), last.ID)
	}
	page.Items = all
	return page, nil
}

// recommendations loads every recommendation f selects, unpaged.
func recommendations(ctx context.Context, db sqlx.QueryerContext, f RecommendationFilter) ([]RecommendationView, error) {
	keep := func(v RecommendationView) bool {
		return (f.CouncilID == "" || v.CouncilID == f.CouncilID) && (f.BodyID == "" || v.Addressee.ID == f.BodyID) &&
			(f.Status == "" || string(v.Status) == f.Status) && (!f.OverdueOnly || v.Overdue)
	}
	out := []RecommendationView{}
	if f.Axes != nil {
		gen, err := activeGeneration(ctx, db, CouncilsName)
		if err != nil {
			return nil, err
		}
		hs, err := loadAllFacts(ctx, db, councilFacts, gen, kindRecommendation)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			s, n, err := foldRecommendationAt(h, *f.Axes)
			if err != nil {
				return nil, err
			}
			if s.ID == "" {
				continue
			}
			if v := viewOf(s, n, f.On); keep(v) {
				out = append(out, v)
			}
		}
		return out, nil
	}
	var w sqlWhere
	w.eq("council_id", f.CouncilID)
	w.eq("body_id", f.BodyID)
	w.eq("status", f.Status)
	if f.OverdueOnly {
		w.add(`status IN ('submitted', 'acknowledged') AND response_deadline < ` + w.arg(domain.DateOf(f.On).String()) + `::date`)
	}
	q := `SELECT state, version FROM rm_recommendations WHERE generation = ` + councilsGen + w.and()
	rows, err := db.QueryxContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list recommendations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state []byte
		var version int64
		if err := rows.Scan(&state, &version); err != nil {
			return nil, err
		}
		var s domain.RecommendationState
		if err := json.Unmarshal(state, &s); err != nil {
			return nil, err
		}
		if v := viewOf(s, version, f.On); keep(v) {
			out = append(out, v)
		}
	}
	return out, rows.Err()
}

// foldRecommendationAt folds a stored history on the two axes and returns
// the number of events kept.
func foldRecommendationAt(h *aggregateHistory, a Axes) (domain.RecommendationState, int64, error) {
	var n int64
	s, err := domain.FoldRecommendation(h.Events, func(e domain.Envelope) bool {
		ok := a.keep(e)
		if ok {
			n++
		}
		return ok
	})
	if err != nil {
		return s, 0, fmt.Errorf("fold recommendation %s: %w", h.ID, err)
	}
	return s, n, nil
}

// GetRecommendation returns one recommendation, now or on the axes.
func GetRecommendation(ctx context.Context, db sqlx.QueryerContext, id string, axes *Axes, on time.Time) (RecommendationView, error) {
	if axes == nil {
		var state []byte
		var version int64
		err := db.QueryRowxContext(ctx, `SELECT state, version FROM rm_recommendations WHERE generation = `+councilsGen+` AND recommendation_id = $1`, id).
			Scan(&state, &version)
		if errors.Is(err, sql.ErrNoRows) {
			return RecommendationView{}, fmt.Errorf("recommendation %s: %w", id, ErrNoSuchRecord)
		}
		if err != nil {
			return RecommendationView{}, err
		}
		var s domain.RecommendationState
		if err := json.Unmarshal(state, &s); err != nil {
			return RecommendationView{}, err
		}
		return viewOf(s, version, on), nil
	}
	gen, err := activeGeneration(ctx, db, CouncilsName)
	if err != nil {
		return RecommendationView{}, err
	}
	hs, err := loadFacts(ctx, db, councilFacts, gen, kindRecommendation, []string{id})
	if err != nil {
		return RecommendationView{}, err
	}
	h := hs[id]
	if h == nil {
		return RecommendationView{}, fmt.Errorf("recommendation %s: %w", id, ErrNoSuchRecord)
	}
	s, n, err := foldRecommendationAt(h, *axes)
	if err != nil {
		return RecommendationView{}, err
	}
	if s.ID == "" {
		return RecommendationView{}, fmt.Errorf("recommendation %s did not exist yet: %w", id, ErrNoSuchRecord)
	}
	return viewOf(s, n, on), nil
}

// BodyRates are a state body's answer and acceptance figures. Counts are
// given with every rate, so anyone can recompute it.
type BodyRates struct {
	BodyID string      `json:"body_id"`
	Name   domain.Text `json:"name"`
	// Submitted: recommendations submitted to the body and not withdrawn.
	Submitted int `json:"submitted"`
	// Due: submitted ones whose deadline has passed, or that were answered.
	Due            int `json:"due"`
	Answered       int `json:"answered"`
	AnsweredOnTime int `json:"answered_on_time"`
	Overdue        int `json:"overdue"`
	Accepted       int `json:"accepted"`
	Partially      int `json:"partially_accepted"`
	Rejected       int `json:"rejected"`
	Implemented    int `json:"implemented"`
	NotImplemented int `json:"not_implemented"`
	// The rates are percentages, 0–100, like every figure of the ledger:
	// 100 × numerator ÷ denominator computed exactly and rounded half to
	// even to two decimals (decimal.go); null when the denominator is 0.
	AnswerPercent         *float64 `json:"answer_percent" doc:"100 × answered ÷ due, two decimals; null when nothing is due."`
	OnTimePercent         *float64 `json:"on_time_percent" doc:"100 × answered on time ÷ due, two decimals; null when nothing is due."`
	AcceptancePercent     *float64 `json:"acceptance_percent" doc:"100 × (accepted + partially accepted) ÷ answered, two decimals; null when nothing was answered."`
	ImplementationPercent *float64 `json:"implementation_percent" doc:"100 × implemented ÷ judged, two decimals; null when nothing was judged."`
}

// ComputeBodyRates sums recommendations per state body, judging deadlines
// on on's date (in on's location). Bodies are ordered by id.
func ComputeBodyRates(views []RecommendationView, on time.Time) []BodyRates {
	by := map[string]*BodyRates{}
	for _, v := range views {
		if v.SubmittedAt.IsZero() || v.Status == domain.RecommendationWithdrawnStatus {
			continue
		}
		b := by[v.Addressee.ID]
		if b == nil {
			b = &BodyRates{BodyID: v.Addressee.ID, Name: v.Addressee.Name}
			by[v.Addressee.ID] = b
		}
		b.Submitted++
		overdue := v.RecommendationState.Overdue(on)
		if v.Answered() || overdue {
			b.Due++
		}
		if overdue {
			b.Overdue++
		}
		if v.Answered() {
			b.Answered++
			if !v.RecommendationState.AnsweredLate(on.Location()) {
				b.AnsweredOnTime++
			}
			switch v.RecommendationState.Decision() {
			case domain.DecisionAccepted:
				b.Accepted++
			case domain.DecisionPartiallyAccepted:
				b.Partially++
			case domain.DecisionRejected:
				b.Rejected++
			}
		}
		switch v.RecommendationState.Verdict() {
		case domain.VerdictImplemented:
			b.Implemented++
		case domain.VerdictNotImplemented:
			b.NotImplemented++
		}
	}
	out := make([]BodyRates, 0, len(by))
	for _, id := range keysOf(by) {
		b := *by[id]
		b.AnswerPercent = ratePercent(b.Answered, b.Due)
		b.OnTimePercent = ratePercent(b.AnsweredOnTime, b.Due)
		b.AcceptancePercent = ratePercent(b.Accepted+b.Partially, b.Answered)
		b.ImplementationPercent = ratePercent(b.Implemented, b.Implemented+b.NotImplemented)
		out = append(out, b)
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func ratePercent(num, den int) *float64 {
	if den == 0 {
		return nil
	}
	r := roundRatio(100*int64(num), int64(den), 2) // exact, half-even, as figures' percent (docs/methodology.md)
	return &r
}

// StateBodyRates returns every state body's rates, now or on the axes,
// with deadlines judged on on.
func StateBodyRates(ctx context.Context, db sqlx.QueryerContext, axes *Axes, on time.Time) ([]BodyRates, error) {
	views, err := recommendations(ctx, db, RecommendationFilter{Axes: axes, On: on})
	if err != nil {
		return nil, err
	}
	return ComputeBodyRates(views, on), nil
}

// AssessmentFilter selects assessments; empty fields do not filter.
type AssessmentFilter struct {
	CouncilID    string
	IndicatorID  string
	RespondentID string
	Limit        int
}

// ListAssessments returns the assessments f selects, newest first (at most
// Limit when it is positive).
func ListAssessments(ctx context.Context, db sqlx.QueryerContext, f AssessmentFilter) ([]domain.AssessmentState, error) {
	var w sqlWhere
	w.eq("council_id", f.CouncilID)
	w.eq("indicator_id", f.IndicatorID)
	if f.RespondentID != "" {
		w.add(w.arg(f.RespondentID) + " = ANY(respondents)")
	}
	q := `SELECT state FROM rm_assessments WHERE generation = ` + councilsGen + w.and() + ` ORDER BY assessed_at DESC, assessment_id`
	if f.Limit > 0 {
		q += ` LIMIT ` + w.arg(f.Limit)
	}
	var states [][]byte
	if err := sqlx.SelectContext(ctx, db, &states, q, w.args...); err != nil {
		return nil, fmt.Errorf("list assessments: %w", err)
	}
	out := make([]domain.AssessmentState, len(states))
	for i, b := range states {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetAssessment returns one assessment as it stands now.
func GetAssessment(ctx context.Context, db sqlx.QueryerContext, id string) (domain.AssessmentState, int64, error) {
	var state []byte
	var version int64
	err := db.QueryRowxContext(ctx, `SELECT state, version FROM rm_assessments WHERE generation = `+councilsGen+` AND assessment_id = $1`, id).
		Scan(&state, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.AssessmentState{}, 0, fmt.Errorf("assessment %s: %w", id, ErrNoSuchRecord)
	}
	if err != nil {
		return domain.AssessmentState{}, 0, err
	}
	var s domain.AssessmentState
	return s, version, json.Unmarshal(state, &s)
}

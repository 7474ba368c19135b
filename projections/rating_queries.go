package projections

// Read-model queries of the ratings projector: deputies, their ratings
// (live or as of a past time), league tables, the published methods, and
// the stored events behind every component.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/domain"
)

const ratingsGen = `(SELECT active_generation FROM projectors WHERE name = 'ratings.v1')`

// DeputySummary is a deputy as the ratings projector knows them.
type DeputySummary struct {
	ID          string              `json:"id"`
	DisplayName string              `json:"display_name"`
	AssemblyID  string              `json:"assembly_id"`
	Level       domain.CouncilLevel `json:"level"`
	Version     int64               `json:"version"`
	InFaction   bool                `json:"in_faction"`
	State       domain.DeputyState  `json:"state"`
}

// DeputyFilter selects deputies; empty fields do not filter.
type DeputyFilter struct {
	Level      string
	AssemblyID string
	Cursor     string
	Limit      int
}

// DeputyPage is one page of deputies, ordered by id.
type DeputyPage struct {
	Items      []DeputySummary
	NextCursor string
}

type deputyRow struct {
	ID       string `db:"deputy_id"`
	Name     string `db:"display_name"`
	Assembly string `db:"assembly_id"`
	Level    string `db:"level"`
	Version  int64  `db:"version"`
	State    []byte `db:"state"`
}

func (r deputyRow) summary() (DeputySummary, error) {
	s := DeputySummary{ID: r.ID, DisplayName: r.Name, AssemblyID: r.Assembly, Level: domain.CouncilLevel(r.Level), Version: r.Version}
	if err := json.Unmarshal(r.State, &s.State); err != nil {
		return s, err
	}
	s.InFaction = s.State.InFaction()
	return s, nil
}

const deputySelect = `SELECT deputy_id, display_name, assembly_id, level, version, state FROM rm_rating_deputies WHERE generation = ` + ratingsGen

// ListDeputies returns one page of the deputies f selects.
func ListDeputies(ctx context.Context, db sqlx.QueryerContext, f DeputyFilter) (DeputyPage, error) {
	var w sqlWhere
	w.eq("level", f.Level)
	w.eq("assembly_id", f.AssemblyID)
	if f.Cursor != "" {
		key, err := decodeCursor("deputies", f.Cursor, 1)
		if err != nil {
			return DeputyPage{}, err
		}
		w.add("deputy_id > " + w.arg(key[0]))
	}
	var rows []deputyRow
	if err := sqlx.SelectContext(ctx, db, &rows, deputySelect+w.and()+` ORDER BY deputy_id`+w.limit(f.Limit), w.args...); err != nil {
		return DeputyPage{}, fmt.Errorf("list deputies: %w", err)
	}
	var page DeputyPage
	if f.Limit > 0 && len(rows) > f.Limit {
		rows = rows[:f.Limit]
		page.NextCursor = encodeCursor("deputies", rows[len(rows)-1].ID)
	}
	page.Items = make([]DeputySummary, 0, len(rows))
	for _, r := range rows {
		s, err := r.summary()
		if err != nil {
			return DeputyPage{}, err
		}
		page.Items = append(page.Items, s)
	}
	return page, nil
}

// GetDeputy returns one deputy.
func GetDeputy(ctx context.Context, db sqlx.QueryerContext, id string) (DeputySummary, error) {
	var r deputyRow
	err := sqlx.GetContext(ctx, db, &r, deputySelect+` AND deputy_id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return DeputySummary{}, fmt.Errorf("deputy %s: %w", id, ErrNoSuchRecord)
	}
	if err != nil {
		return DeputySummary{}, err
	}
	return r.summary()
}

// RatingQuery narrows ratings; empty fields do not filter. Axes, when
// set, computes the ratings as they stood then instead of reading the live
// read model.
type RatingQuery struct {
	Method  string
	Version int
	Axes    *Axes
}

func (q RatingQuery) keep(v DeputyRatingView) bool {
	return (q.Method == "" || v.Method == q.Method) && (q.Version == 0 || v.Version == q.Version)
}

func sortViews(vs []DeputyRatingView) {
	slices.SortFunc(vs, func(a, b DeputyRatingView) int {
		return cmp.Or(cmp.Compare(a.Method, b.Method), cmp.Compare(a.Version, b.Version), a.Period.Start.Compare(b.Period.Start),
			cmp.Compare(a.DeputyID, b.DeputyID))
	})
}

// DeputyRatings returns a deputy's ratings for every period, by method and
// version.
func DeputyRatings(ctx context.Context, db sqlx.QueryerContext, deputyID string, rq RatingQuery) ([]DeputyRatingView, error) {
	d, err := GetDeputy(ctx, db, deputyID)
	if err != nil {
		return nil, err
	}
	if rq.Axes != nil {
		all, err := RatingsAt(ctx, db, string(d.Level), *rq.Axes)
		if err != nil {
			return nil, err
		}
		var out []DeputyRatingView
		for _, v := range all {
			if v.DeputyID == deputyID && rq.keep(v) {
				out = append(out, v)
			}
		}
		sortViews(out)
		return out, nil
	}
	var w sqlWhere
	w.add("deputy_id = " + w.arg(deputyID))
	w.eq("method", rq.Method)
	if rq.Version != 0 {
		w.add("version = " + w.arg(rq.Version))
	}
	return selectRatings(ctx, db, `SELECT `+ratingColumns+` FROM rm_deputy_ratings WHERE generation = `+ratingsGen+w.and()+
		` ORDER BY method, version, period_start`, w.args...)
}

// ratingColumns are what selectRatings reads of a stored rating: its
// record (body), or for a row an older version wrote, its jsonb rating.
const ratingColumns = `body, rating`

// selectRatings runs q, which selects ratingColumns, and decodes the
// ratings.
func selectRatings(ctx context.Context, db sqlx.QueryerContext, q string, args ...any) ([]DeputyRatingView, error) {
	rows, err := db.QueryxContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("ratings: %w", err)
	}
	defer rows.Close()
	var out []DeputyRatingView
	for rows.Next() {
		var body, doc []byte
		if err := rows.Scan(&body, &doc); err != nil {
			return nil, fmt.Errorf("ratings: %w", err)
		}
		v, err := storedRating(body, doc)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ratings: %w", err)
	}
	if out == nil {
		out = []DeputyRatingView{}
	}
	return out, nil
}

// storedRating decodes a stored rating: its record, or the jsonb document
// of a row written before the record existed (migration 0008), which
// reads back as it always did.
func storedRating(body, doc []byte) (DeputyRatingView, error) {
	if body != nil {
		return decodeRating(body)
	}
	var v DeputyRatingView
	if doc == nil {
		return v, fmt.Errorf("%w: neither a record nor a document", errRatingBody)
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		return v, fmt.Errorf("%w: %w", errRatingBody, err)
	}
	return v, nil
}

// LeagueQuery selects a league table: a level, or one assembly of it.
type LeagueQuery struct {
	Level      string
	AssemblyID string
	// Method defaults to the first published method (by name); Version to
	// the one in force for the period; Period (its start) to LatestPeriod.
	Method  string
	Version int
	Period  *domain.Date
	Axes    *Axes
}

// League is a ranked table of deputies for one period and method version.
type League struct {
	Method      string              `json:"method"`
	Version     int                 `json:"version"`
	InForce     bool                `json:"in_force"`
	Period      domain.Period       `json:"period"`
	Provisional bool                `json:"provisional"`
	Level       domain.CouncilLevel `json:"level"`
	AssemblyID  string              `json:"assembly_id,omitempty"`
	Versions    []int               `json:"versions"`
	Rows        []DeputyRatingView  `json:"rows"`
}

// ErrNoRatings: nothing is rated for the selection (no method, no period,
// no deputy).
var ErrNoRatings = errors.New("no ratings for this selection")

// LeagueTable returns the deputies of a level or an assembly ranked for
// one period under one method version: rated deputies by rank, then the
// rest.
func LeagueTable(ctx context.Context, db sqlx.QueryerContext, lq LeagueQuery) (League, error) {
	if lq.AssemblyID != "" {
		var level string
		err := sqlx.GetContext(ctx, db, &level, `SELECT level FROM rm_rating_deputies WHERE generation = `+ratingsGen+` AND assembly_id = $1 LIMIT 1`, lq.AssemblyID)
		if errors.Is(err, sql.ErrNoRows) {
			return League{}, fmt.Errorf("assembly %s has no deputies: %w", lq.AssemblyID, ErrNoSuchRecord)
		}
		if err != nil {
			return League{}, err
		}
		lq.Level = level
	}
	// Which method, period and version: from the computed ratings (as of)
	// or from a summary of the stored ones (live), so that only the rows of
	// one table are read.
	var computed []DeputyRatingView
	var keys []DeputyRatingView
	if lq.Axes != nil {
		all, err := RatingsAt(ctx, db, lq.Level, *lq.Axes)
		if err != nil {
			return League{}, err
		}
		for _, v := range all {
			if lq.AssemblyID == "" || v.AssemblyID == lq.AssemblyID {
				computed = append(computed, v)
			}
		}
		keys = computed
	} else {
		var w sqlWhere
		w.add("level = " + w.arg(lq.Level))
		w.eq("assembly_id", lq.AssemblyID)
		q := `SELECT method, version, to_char(period_start, 'YYYY-MM-DD'), to_char(period_end, 'YYYY-MM-DD'), bool_or(in_force), bool_and(provisional)
FROM rm_deputy_ratings WHERE generation = ` + ratingsGen + w.and() + ` GROUP BY method, version, period_start, period_end`
		rows, err := db.QueryxContext(ctx, q, w.args...)
		if err != nil {
			return League{}, fmt.Errorf("league keys: %w", err)
		}
		for rows.Next() {
			var k DeputyRatingView
			var ps, pe string
			if err := rows.Scan(&k.Method, &k.Version, &ps, &pe, &k.InForce, &k.Provisional); err != nil {
				rows.Close()
				return League{}, err
			}
			k.Period.Start, _ = domain.ParseDate(ps)
			k.Period.End, _ = domain.ParseDate(pe)
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return League{}, err
		}
	}
	if len(keys) == 0 {
		return League{}, fmt.Errorf("level %q: %w", lq.Level, ErrNoRatings)
	}
	if lq.Method == "" {
		lq.Method = slices.MinFunc(keys, func(a, b DeputyRatingView) int { return cmp.Compare(a.Method, b.Method) }).Method
	}
	keys = slices.DeleteFunc(slices.Clone(keys), func(v DeputyRatingView) bool { return v.Method != lq.Method })
	if len(keys) == 0 {
		return League{}, fmt.Errorf("method %q: %w", lq.Method, ErrNoRatings)
	}
	start := LatestPeriod(keys).Start
	if lq.Period != nil {
		start = *lq.Period
	}
	keys = slices.DeleteFunc(keys, func(v DeputyRatingView) bool { return v.Period.Start != start })
	if len(keys) == 0 {
		return League{}, fmt.Errorf("period starting %s: %w", start, ErrNoRatings)
	}
	l := League{Method: lq.Method, Period: keys[0].Period, Level: domain.CouncilLevel(lq.Level), AssemblyID: lq.AssemblyID, Rows: []DeputyRatingView{}}
	for _, v := range keys {
		if !slices.Contains(l.Versions, v.Version) {
			l.Versions = append(l.Versions, v.Version)
		}
		if lq.Version == 0 && v.InForce {
			lq.Version = v.Version
		}
	}
	slices.Sort(l.Versions)
	if lq.Version == 0 {
		lq.Version = l.Versions[len(l.Versions)-1]
	}
	l.Version = lq.Version
	if lq.Axes != nil {
		for _, v := range computed {
			if v.Method == lq.Method && v.Version == lq.Version && v.Period.Start == start {
				l.Rows = append(l.Rows, v)
			}
		}
	} else {
		var w sqlWhere
		w.add("level = " + w.arg(lq.Level))
		w.eq("assembly_id", lq.AssemblyID)
		w.add("method = " + w.arg(lq.Method))
		w.add("version = " + w.arg(lq.Version))
		w.add("period_start = " + w.arg(start.String()) + "::date")
		rows, err := selectRatings(ctx, db, `SELECT `+ratingColumns+` FROM rm_deputy_ratings WHERE generation = `+ratingsGen+w.and(), w.args...)
		if err != nil {
			return League{}, err
		}
		l.Rows = append(l.Rows, rows...)
	}
	if len(l.Rows) == 0 {
		return League{}, fmt.Errorf("version %d: %w", lq.Version, ErrNoRatings)
	}
	l.InForce, l.Provisional = l.Rows[0].InForce, l.Rows[0].Provisional
	rankOf := func(v DeputyRatingView) int {
		r := v.RankLevel
		if lq.AssemblyID != "" {
			r = v.RankAssembly
		}
		if r == nil {
			return 1 << 30
		}
		return *r
	}
	slices.SortFunc(l.Rows, func(a, b DeputyRatingView) int {
		sa, sb := -1.0, -1.0
		if a.Score != nil {
			sa = *a.Score
		}
		if b.Score != nil {
			sb = *b.Score
		}
		return cmp.Or(cmp.Compare(rankOf(a), rankOf(b)), cmp.Compare(sb, sa), cmp.Compare(a.DeputyID, b.DeputyID))
	})
	return l, nil
}

// PublishedMethod is a rating method version with when it was published.
type PublishedMethod struct {
	domain.RatingMethodPublished
	PublishedAt time.Time `json:"published_at"`
	EventID     uuid.UUID `json:"event_id"`
}

// RatingMethods lists every published method version (on the axes, when
// given), by method and version.
func RatingMethods(ctx context.Context, db sqlx.QueryerContext, axes *Axes) ([]PublishedMethod, error) {
	gen, err := activeGeneration(ctx, db, RatingsName)
	if err != nil {
		return nil, err
	}
	hs, err := loadAllFacts(ctx, db, ratingFacts, gen, kindMethod)
	if err != nil {
		return nil, err
	}
	out := []PublishedMethod{}
	for _, name := range keysOf(hs) {
		for _, e := range hs[name].Events {
			p, ok := e.Event.(domain.RatingMethodPublished)
			if !ok || (axes != nil && !axes.keep(e)) {
				continue
			}
			out = append(out, PublishedMethod{RatingMethodPublished: p, PublishedAt: effective(e).UTC(), EventID: e.Meta.EventID})
		}
	}
	return out, nil
}

// RatingEvents returns the stored events with the given ids, as the
// ratings projector keeps them, in the order asked (unknown ids are left
// out).
func RatingEvents(ctx context.Context, db sqlx.QueryerContext, ids []uuid.UUID) ([]StoredEvent, error) {
	if len(ids) == 0 {
		return []StoredEvent{}, nil
	}
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = id.String()
	}
	rows, err := db.QueryxContext(ctx, `SELECT event_id, stream, version, type, data, metadata FROM rm_rating_events
WHERE generation = `+ratingsGen+` AND event_id = ANY($1::uuid[])`, pq.StringArray(strs))
	if err != nil {
		return nil, fmt.Errorf("rating events: %w", err)
	}
	defer rows.Close()
	by := map[uuid.UUID]StoredEvent{}
	for rows.Next() {
		var e StoredEvent
		var data, meta []byte
		if err := rows.Scan(&e.EventID, &e.Stream, &e.Version, &e.Type, &data, &meta); err != nil {
			return nil, err
		}
		_, m, err := decodeFact(e.Type, data, meta)
		if err != nil {
			return nil, err
		}
		e.Data = json.RawMessage(readableJSON(data))
		e.ActorID, e.Reason, e.EffectiveAt, e.RecordedAt = m.ActorID, m.Reason, effective(domain.Envelope{Meta: m}).UTC(), m.RecordedAt.UTC()
		by[e.EventID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]StoredEvent, 0, len(by))
	for _, id := range ids {
		if e, ok := by[id]; ok {
			out = append(out, e)
			delete(by, id)
		}
	}
	return out, nil
}

// LatestPeriod is the latest period that had ended at its cut, or the
// latest period when none had: the period a rating is quoted for by
// default.
func LatestPeriod(vs []DeputyRatingView) domain.Period {
	var latest, latestClosed domain.Period
	for _, v := range vs {
		if v.Period.Start.After(latest.Start) || latest.Start.IsZero() {
			latest = v.Period
		}
		if !v.Provisional && (v.Period.Start.After(latestClosed.Start) || latestClosed.Start.IsZero()) {
			latestClosed = v.Period
		}
	}
	if !latestClosed.Start.IsZero() {
		return latestClosed
	}
	return latest
}

package projections

// Queries the public pages need beyond the API's: the measure timeline
// folded on the two axes, the roadmaps a person answers for, overdue
// counts per roadmap, and the log position the read models stand at.

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"promiseledger/domain"
)

// IndicatorTimeline is an indicator's stored events in stream order and its
// state folded on the axes (all events when both are nil).
type IndicatorTimeline struct {
	Events []domain.Envelope
	// Kept tells, per event, whether the axes keep it.
	Kept  []bool
	State domain.IndicatorState
}

// IndicatorTimelineAt reads an indicator's events from the indicators read
// model and folds them on a with the domain's rules; domain.ErrNotFound
// when the indicator has no events.
func IndicatorTimelineAt(ctx context.Context, db sqlx.QueryerContext, id string, a Axes) (IndicatorTimeline, error) {
	var gen int
	if err := sqlx.GetContext(ctx, db, &gen, `SELECT `+indicatorsGen); err != nil {
		return IndicatorTimeline{}, fmt.Errorf("indicator %s timeline: %w", id, err)
	}
	hs, err := loadHistories(ctx, db, gen, []string{id})
	if err != nil {
		return IndicatorTimeline{}, err
	}
	h := hs[id]
	if h == nil {
		return IndicatorTimeline{}, fmt.Errorf("indicator %s: %w", id, domain.ErrNotFound)
	}
	t := IndicatorTimeline{Events: h.Events, Kept: make([]bool, len(h.Events))}
	for i, e := range h.Events {
		t.Kept[i] = a.keep(e)
	}
	if t.State, err = domain.FoldIndicator(h.Events, a.keep); err != nil {
		return IndicatorTimeline{}, fmt.Errorf("fold indicator %s: %w", id, err)
	}
	return t, nil
}

// RoadmapsOfPerson returns the roadmaps a person is currently assigned
// to, ordered by territory code.
func RoadmapsOfPerson(ctx context.Context, db sqlx.QueryerContext, personID string) ([]RoadmapSummary, error) {
	q := roadmapSelect + ` AND r.responsibles @> jsonb_build_array(jsonb_build_object('person_id', $1::text)) ORDER BY r.kato, r.roadmap_id`
	var rows []roadmapRow
	if err := sqlx.SelectContext(ctx, db, &rows, q, personID); err != nil {
		return nil, fmt.Errorf("roadmaps of %s: %w", personID, err)
	}
	out := make([]RoadmapSummary, 0, len(rows))
	for _, r := range rows {
		s, err := r.summary()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// OverdueByRoadmap counts, per roadmap, the measures overdue on today (the
// same rule as IndicatorSummary.Overdue); roadmaps without any are left out.
func OverdueByRoadmap(ctx context.Context, db sqlx.QueryerContext, today domain.Date) (map[string]int, error) {
	if !today.Valid() {
		return nil, fmt.Errorf("overdue by roadmap: %q is not a date", today)
	}
	q := `SELECT i.roadmap_id, count(*) FROM rm_indicators i WHERE i.generation = ` + indicatorsGen +
		` AND ` + fmt.Sprintf(overdueSQL, "$1") + ` GROUP BY i.roadmap_id`
	rows, err := db.QueryxContext(ctx, q, today.String())
	if err != nil {
		return nil, fmt.Errorf("overdue by roadmap: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// IndicatorsPosition is how far the indicators read model has applied the
// global log (its checkpoint, as an opaque string): what every figure is
// read from changes only when it moves, so it keys caches of figures.
func IndicatorsPosition(ctx context.Context, db sqlx.QueryerContext) (string, error) {
	var pos string
	err := sqlx.GetContext(ctx, db, &pos, `SELECT p.active_generation::text || ':' || COALESCE(c.events_total, 0)::text || ':' ||
	COALESCE(c.position_commit, 0)::text || ':' || COALESCE(c.position_prepare, 0)::text
FROM projectors p LEFT JOIN projector_checkpoints c ON c.name = p.name AND c.generation = p.active_generation
WHERE p.name = $1`, IndicatorsName)
	if err != nil {
		return "", fmt.Errorf("indicators position: %w", err)
	}
	return pos, nil
}

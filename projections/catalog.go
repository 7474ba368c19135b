package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"promiseledger/domain"
	"promiseledger/eventstore"
)

// CatalogName is the permanent name of the catalog projector.
const CatalogName = "catalog.v1"

// Catalog projects programs, territories and roadmaps.
type Catalog struct{}

// Name implements Projector.
func (Catalog) Name() string { return CatalogName }

// Reset implements Projector.
func (Catalog) Reset(ctx context.Context, tx *sqlx.Tx, gen int) error {
	for _, t := range []string{"rm_programs", "rm_territories", "rm_roadmaps"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE generation = $1`, gen); err != nil {
			return fmt.Errorf("reset %s: %w", t, err)
		}
	}
	return nil
}

// Apply implements Projector.
func (c Catalog) Apply(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error {
	for _, r := range events {
		if !catalogStream(r.Stream) {
			continue
		}
		r, ev, meta, err := decodeRecorded(r)
		if err != nil {
			return err
		}
		if err := c.apply(ctx, tx, gen, r, ev, meta); err != nil {
			return &EventError{Event: r, Err: err}
		}
	}
	return nil
}

// catalogStream reports whether a stream holds events the catalog reads:
// it does not decode (nor stop on) the events of other aggregates.
func catalogStream(s string) bool {
	for _, p := range []string{domain.ProgramStream(""), domain.TerritoryStream(""), domain.RoadmapStream("")} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func dateOrNil(d domain.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

func jsonOf(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only domain value types reach here; they always marshal
	}
	return b
}

func (Catalog) apply(ctx context.Context, tx *sqlx.Tx, gen int, r eventstore.Recorded, ev domain.Event, m domain.Meta) error {
	var err error
	switch e := ev.(type) {
	case domain.ProgramRegistered:
		_, err = tx.ExecContext(ctx, `INSERT INTO rm_programs (generation, program_id, name, kind, period_start, period_end)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			gen, e.ProgramID, jsonOf(e.Name), e.Kind, dateOrNil(e.Period.Start), dateOrNil(e.Period.End))
	case domain.TerritoryRegistered:
		_, err = tx.ExecContext(ctx, `INSERT INTO rm_territories (generation, kato, name, kind, parent_kato)
VALUES ($1, $2, $3, $4, NULLIF($5, '')) ON CONFLICT DO NOTHING`,
			gen, e.KATO, jsonOf(e.Name), e.Kind, e.ParentKATO)
	case domain.RoadmapRegistered:
		_, err = tx.ExecContext(ctx, `INSERT INTO rm_roadmaps (generation, roadmap_id, program_id, kato, level, title, status,
	period_start, period_end, version, registered_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT DO NOTHING`,
			gen, e.RoadmapID, e.ProgramID, e.TerritoryKATO, e.Level, jsonOf(e.Title), domain.RoadmapStatusRegistered,
			dateOrNil(e.Period.Start), dateOrNil(e.Period.End), r.Version, m.RecordedAt)
	case domain.RoadmapActivated:
		err = setRoadmap(ctx, tx, gen, r, m, e.RoadmapID, `status = 'active'`)
	case domain.RoadmapClosed:
		err = setRoadmap(ctx, tx, gen, r, m, e.RoadmapID, `status = 'closed'`)
	case domain.RoadmapResponsibleAssigned:
		err = setRoadmap(ctx, tx, gen, r, m, e.RoadmapID, `responsibles = responsibles || jsonb_build_array($5::jsonb)`, jsonOf(e.Responsible))
	case domain.RoadmapResponsibleUnassigned:
		err = setRoadmap(ctx, tx, gen, r, m, e.RoadmapID, `responsibles = (SELECT COALESCE(jsonb_agg(x), '[]') FROM jsonb_array_elements(responsibles) x WHERE x->>'person_id' <> $5)`, e.PersonID)
	}
	return err
}

func setRoadmap(ctx context.Context, tx *sqlx.Tx, gen int, r eventstore.Recorded, m domain.Meta, id, set string, args ...any) error {
	q := `UPDATE rm_roadmaps SET ` + set + `, version = $3, updated_at = $4 WHERE generation = $1 AND roadmap_id = $2`
	_, err := tx.ExecContext(ctx, q, append([]any{gen, id, r.Version, m.RecordedAt}, args...)...)
	return err
}

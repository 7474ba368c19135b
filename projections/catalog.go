package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

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

// NewReplay implements Replayer: the replay keeps the roadmaps in memory,
// applies a page's events to them there and writes the page's new
// programs and territories; a run writes the roadmaps it touched, as they
// stand at its end.
func (Catalog) NewReplay(gen int) Replay {
	return &catalogReplay{gen: gen, programs: map[string]bool{}, territories: map[string]bool{}, roadmaps: map[string]*replayRoadmap{}}
}

type catalogReplay struct {
	gen         int
	programs    map[string]bool
	territories map[string]bool
	roadmaps    map[string]*replayRoadmap
	touched     []string        // roadmaps touched since the last Flush, in order
	dirty       map[string]bool // the same, as a set
}

// replayRoadmap is a row of rm_roadmaps as the page path's statements leave it.
type replayRoadmap struct {
	program, kato, level, status string
	title                        []byte
	start, end                   any
	responsibles                 []domain.Responsible
	version                      int64
	registered, updated          time.Time
}

// decodes implements aheadDecoder: the catalog's streams.
func (*catalogReplay) decodes(stream string) bool { return catalogStream(stream) }

func (r *catalogReplay) Apply(ctx context.Context, tx *sqlx.Tx, events []eventstore.Recorded) error {
	var (
		pIDs, pKinds             []string
		pNames                   [][]byte
		pStarts, pEnds           []any
		tKATOs, tKinds, tParents []string
		tNames                   [][]byte
	)
	if r.dirty == nil {
		r.dirty = map[string]bool{}
	}
	dirty := r.dirty
	decode := decoderIn(ctx)
	for _, rec := range events {
		if !catalogStream(rec.Stream) {
			continue
		}
		rec, ev, m, err := decode(rec)
		if err != nil {
			return err
		}
		var row *replayRoadmap
		switch e := ev.(type) {
		case domain.ProgramRegistered:
			if !r.programs[e.ProgramID] {
				r.programs[e.ProgramID] = true
				pIDs, pKinds, pNames = append(pIDs, e.ProgramID), append(pKinds, string(e.Kind)), append(pNames, jsonOf(e.Name))
				pStarts, pEnds = append(pStarts, dateOrNil(e.Period.Start)), append(pEnds, dateOrNil(e.Period.End))
			}
		case domain.TerritoryRegistered:
			if !r.territories[e.KATO] {
				r.territories[e.KATO] = true
				tKATOs, tKinds, tNames = append(tKATOs, e.KATO), append(tKinds, string(e.Kind)), append(tNames, jsonOf(e.Name))
				tParents = append(tParents, e.ParentKATO)
			}
		case domain.RoadmapRegistered:
			if r.roadmaps[e.RoadmapID] == nil {
				r.roadmaps[e.RoadmapID] = &replayRoadmap{program: e.ProgramID, kato: e.TerritoryKATO, level: string(e.Level), title: jsonOf(e.Title),
					status: string(domain.RoadmapStatusRegistered), start: dateOrNil(e.Period.Start), end: dateOrNil(e.Period.End),
					version: rec.Version, registered: m.RecordedAt, updated: m.RecordedAt}
				if !dirty[e.RoadmapID] {
					dirty[e.RoadmapID] = true
					r.touched = append(r.touched, e.RoadmapID)
				}
			}
		case domain.RoadmapActivated:
			if row = r.roadmaps[e.RoadmapID]; row != nil {
				row.status = "active"
			}
		case domain.RoadmapClosed:
			if row = r.roadmaps[e.RoadmapID]; row != nil {
				row.status = "closed"
			}
		case domain.RoadmapResponsibleAssigned:
			if row = r.roadmaps[e.RoadmapID]; row != nil {
				row.responsibles = append(row.responsibles, e.Responsible)
			}
		case domain.RoadmapResponsibleUnassigned:
			if row = r.roadmaps[e.RoadmapID]; row != nil {
				row.responsibles = slices.DeleteFunc(row.responsibles, func(x domain.Responsible) bool { return x.PersonID == e.PersonID })
			}
		}
		if row != nil {
			row.version, row.updated = rec.Version, m.RecordedAt
			if id := roadmapIDOf(ev); !dirty[id] {
				dirty[id] = true
				r.touched = append(r.touched, id)
			}
		}
	}
	if len(pIDs) > 0 {
		const q = `INSERT INTO rm_programs (generation, program_id, name, kind, period_start, period_end)
SELECT $1, u.id, convert_from(u.name, 'UTF8')::jsonb, u.kind, u.ps, u.pe
FROM unnest($2::text[], $3::bytea[], $4::text[], $5::date[], $6::date[]) AS u(id, name, kind, ps, pe) ON CONFLICT DO NOTHING`
		if _, err := tx.ExecContext(ctx, q, r.gen, pq.StringArray(pIDs), pq.ByteaArray(pNames), pq.StringArray(pKinds),
			pq.GenericArray{A: pStarts}, pq.GenericArray{A: pEnds}); err != nil {
			return fmt.Errorf("store programs: %w", err)
		}
	}
	if len(tKATOs) > 0 {
		const q = `INSERT INTO rm_territories (generation, kato, name, kind, parent_kato)
SELECT $1, u.kato, convert_from(u.name, 'UTF8')::jsonb, u.kind, NULLIF(u.parent, '')
FROM unnest($2::text[], $3::bytea[], $4::text[], $5::text[]) AS u(kato, name, kind, parent) ON CONFLICT DO NOTHING`
		if _, err := tx.ExecContext(ctx, q, r.gen, pq.StringArray(tKATOs), pq.ByteaArray(tNames), pq.StringArray(tKinds), pq.StringArray(tParents)); err != nil {
			return fmt.Errorf("store territories: %w", err)
		}
	}
	return nil
}

// Flush implements Replay: it writes the roadmaps touched since the last
// Flush as they stand.
func (r *catalogReplay) Flush(ctx context.Context, tx *sqlx.Tx) error {
	touched := r.touched
	if len(touched) == 0 {
		return nil
	}
	n := len(touched)
	programs, katos, levels, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	titles, responsibles := make([][]byte, n), make([][]byte, n)
	starts, ends := make([]any, n), make([]any, n)
	versions := make([]int64, n)
	registered, updated := make([]string, n), make([]string, n)
	for i, id := range touched {
		row := r.roadmaps[id]
		programs[i], katos[i], levels[i], statuses[i] = row.program, row.kato, row.level, row.status
		titles[i], starts[i], ends[i], versions[i] = row.title, row.start, row.end, row.version
		registered[i], updated[i] = row.registered.UTC().Format(time.RFC3339Nano), row.updated.UTC().Format(time.RFC3339Nano)
		list := make([]json.RawMessage, len(row.responsibles))
		for j, x := range row.responsibles {
			list[j] = jsonOf(x)
		}
		responsibles[i] = jsonOf(list)
	}
	const q = `INSERT INTO rm_roadmaps (generation, roadmap_id, program_id, kato, level, title, status, period_start, period_end,
	responsibles, version, registered_at, updated_at)
SELECT $1, u.id, u.program, u.kato, u.level, convert_from(u.title, 'UTF8')::jsonb, u.status, u.ps, u.pe,
	convert_from(u.resp, 'UTF8')::jsonb, u.version, u.reg, u.upd
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[], $8::date[], $9::date[], $10::bytea[],
	$11::bigint[], $12::timestamptz[], $13::timestamptz[]) AS u(id, program, kato, level, title, status, ps, pe, resp, version, reg, upd)
ON CONFLICT (generation, roadmap_id) DO UPDATE SET status = EXCLUDED.status, responsibles = EXCLUDED.responsibles,
	version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`
	if _, err := tx.ExecContext(ctx, q, r.gen, pq.StringArray(touched), pq.StringArray(programs), pq.StringArray(katos), pq.StringArray(levels),
		pq.ByteaArray(titles), pq.StringArray(statuses), pq.GenericArray{A: starts}, pq.GenericArray{A: ends}, pq.ByteaArray(responsibles),
		pq.Int64Array(versions), pq.StringArray(registered), pq.StringArray(updated)); err != nil {
		return fmt.Errorf("store roadmaps: %w", err)
	}
	r.touched, r.dirty = nil, nil
	return nil
}

// roadmapIDOf is the roadmap a roadmap event is about.
func roadmapIDOf(ev domain.Event) string {
	switch e := ev.(type) {
	case domain.RoadmapActivated:
		return e.RoadmapID
	case domain.RoadmapClosed:
		return e.RoadmapID
	case domain.RoadmapResponsibleAssigned:
		return e.RoadmapID
	case domain.RoadmapResponsibleUnassigned:
		return e.RoadmapID
	}
	return ""
}

package projections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/domain"
	"promiseledger/eventstore"
)

// RatingsName is the permanent name of the ratings projector.
const RatingsName = "ratings.v1"

// Kinds of rating facts, by stream prefix.
const (
	kindDeputy    = "deputy"
	kindMethod    = "method"
	kindIndicator = "indicator"
)

var ratingStreamKinds = []struct{ prefix, kind string }{
	{"deputy-", kindDeputy},
	{"rating-method-", kindMethod},
	{"indicator-", kindIndicator},
	{"assessment-", kindAssessment},
}

// Ratings projects the public rating of deputies: for every level, every
// published method version and every period, each faction member's score,
// ranks and breakdown, recomputed from the stored events whenever an event
// that feeds the level arrives. The same computation, on events filtered by
// time, gives the rating as it stood on any past date (RatingsAt).
type Ratings struct{}

// Name implements Projector.
func (Ratings) Name() string { return RatingsName }

var ratingTables = []string{"rm_rating_events", "rm_rating_deputies", "rm_rating_links", "rm_rating_indicators", "rm_deputy_ratings"}

// Reset implements Projector.
func (Ratings) Reset(ctx context.Context, tx *sqlx.Tx, gen int) error {
	for _, t := range ratingTables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE generation = $1`, gen); err != nil {
			return fmt.Errorf("reset %s: %w", t, err)
		}
	}
	return nil
}

type ratingBatch struct {
	facts             []fact
	deputies          map[string]bool
	indicators        map[string]bool
	assessments       map[string]bool
	allLevels         bool
	links             [][3]string // person, subject kind, subject id
	indicatorRoadmaps [][2]string
	registered        []domain.DeputyRegistered
}

// Apply implements Projector: store the batch's events and the indexes
// they add, refresh the deputies they touch, and recompute the ratings of
// every level they feed.
func (Ratings) Apply(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error {
	b := ratingBatch{deputies: map[string]bool{}, indicators: map[string]bool{}, assessments: map[string]bool{}}
	for _, r := range events {
		kind, id := "", ""
		for _, k := range ratingStreamKinds {
			if rest, ok := strings.CutPrefix(r.Stream, k.prefix); ok {
				kind, id = k.kind, rest
				break
			}
		}
		if kind == "" {
			continue
		}
		ev, m, err := domain.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			return &EventError{Event: r, Err: err}
		}
		b.facts = append(b.facts, fact{rec: r, kind: kind, id: id, ev: ev, meta: m})
		switch e := ev.(type) {
		case domain.DeputyRegistered:
			b.registered = append(b.registered, e)
		case domain.DeputyResponsibilityAssigned:
			b.links = append(b.links, [3]string{e.DeputyID, string(e.Subject), e.SubjectID})
		case domain.IndicatorAdded:
			b.indicatorRoadmaps = append(b.indicatorRoadmaps, [2]string{e.IndicatorID, e.RoadmapID})
		case domain.AssessmentRecorded:
			for _, p := range e.Respondents {
				b.links = append(b.links, [3]string{p, kindAssessment, e.AssessmentID})
			}
		}
		switch kind {
		case kindDeputy:
			b.deputies[id] = true
		case kindMethod:
			b.allLevels = true
		case kindIndicator:
			b.indicators[id] = true
		case kindAssessment:
			b.assessments[id] = true
		}
	}
	if len(b.facts) == 0 {
		return nil
	}
	if err := storeFacts(ctx, tx, ratingFacts, gen, b.facts); err != nil {
		return err
	}
	if err := b.saveIndexes(ctx, tx, gen); err != nil {
		return err
	}
	if err := refreshDeputies(ctx, tx, gen, keys(b.deputies)); err != nil {
		return err
	}
	levels, err := b.levels(ctx, tx, gen)
	if err != nil {
		return err
	}
	for _, level := range levels {
		views, err := computeLevel(ctx, tx, gen, level, Axes{})
		if err != nil {
			return fmt.Errorf("ratings of the %s level: %w", level, err)
		}
		if err := saveLevel(ctx, tx, gen, level, views); err != nil {
			return fmt.Errorf("save ratings of the %s level: %w", level, err)
		}
	}
	return nil
}

func (b ratingBatch) saveIndexes(ctx context.Context, tx *sqlx.Tx, gen int) error {
	if n := len(b.registered); n > 0 {
		ids, names, assemblies, levels := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, e := range b.registered {
			ids[i], names[i], assemblies[i], levels[i] = e.DeputyID, e.DisplayName, e.Assembly.ID(), string(e.Assembly.Level)
		}
		const q = `INSERT INTO rm_rating_deputies (generation, deputy_id, display_name, assembly_id, level, version, state)
SELECT $1, u.*, 0, '{}' FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u ON CONFLICT DO NOTHING`
		if _, err := tx.ExecContext(ctx, q, gen, pq.StringArray(ids), pq.StringArray(names), pq.StringArray(assemblies), pq.StringArray(levels)); err != nil {
			return fmt.Errorf("index deputies: %w", err)
		}
	}
	if n := len(b.links); n > 0 {
		persons, kinds, subjects := make([]string, n), make([]string, n), make([]string, n)
		for i, l := range b.links {
			persons[i], kinds[i], subjects[i] = l[0], l[1], l[2]
		}
		const q = `INSERT INTO rm_rating_links (generation, person_id, subject_kind, subject_id)
SELECT $1, u.* FROM unnest($2::text[], $3::text[], $4::text[]) AS u ON CONFLICT DO NOTHING`
		if _, err := tx.ExecContext(ctx, q, gen, pq.StringArray(persons), pq.StringArray(kinds), pq.StringArray(subjects)); err != nil {
			return fmt.Errorf("index links: %w", err)
		}
	}
	if n := len(b.indicatorRoadmaps); n > 0 {
		ids, roadmaps := make([]string, n), make([]string, n)
		for i, l := range b.indicatorRoadmaps {
			ids[i], roadmaps[i] = l[0], l[1]
		}
		const q = `INSERT INTO rm_rating_indicators (generation, indicator_id, roadmap_id)
SELECT $1, u.* FROM unnest($2::text[], $3::text[]) AS u ON CONFLICT DO NOTHING`
		if _, err := tx.ExecContext(ctx, q, gen, pq.StringArray(ids), pq.StringArray(roadmaps)); err != nil {
			return fmt.Errorf("index indicators: %w", err)
		}
	}
	return nil
}

// refreshDeputies refolds the current state of the given deputies.
func refreshDeputies(ctx context.Context, tx *sqlx.Tx, gen int, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	hs, err := loadFacts(ctx, tx, ratingFacts, gen, kindDeputy, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		h := hs[id]
		if h == nil {
			continue
		}
		s, err := domain.FoldDeputy(h.Events, nil)
		if err != nil {
			return fmt.Errorf("fold deputy %s: %w", id, err)
		}
		if s.ID == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rm_rating_deputies SET version = $3, state = $4 WHERE generation = $1 AND deputy_id = $2`,
			gen, id, h.Version, jsonOf(s)); err != nil {
			return err
		}
	}
	return nil
}

// levels lists the levels whose ratings the batch may change: a new method
// version changes all; a deputy's event changes the deputy's level; an
// indicator's or assessment's event changes the levels of the deputies
// linked to it.
func (b ratingBatch) levels(ctx context.Context, tx *sqlx.Tx, gen int) ([]string, error) {
	var levels []string
	if b.allLevels {
		err := sqlx.SelectContext(ctx, tx, &levels, `SELECT DISTINCT level FROM rm_rating_deputies WHERE generation = $1 ORDER BY level`, gen)
		return levels, err
	}
	const q = `SELECT DISTINCT level FROM rm_rating_deputies d WHERE d.generation = $1 AND (
	d.deputy_id = ANY($2)
	OR d.deputy_id IN (SELECT l.person_id FROM rm_rating_links l WHERE l.generation = $1 AND (
		(l.subject_kind = 'indicator' AND l.subject_id = ANY($3))
		OR (l.subject_kind = 'roadmap' AND l.subject_id IN (SELECT roadmap_id FROM rm_rating_indicators WHERE generation = $1 AND indicator_id = ANY($3)))
		OR (l.subject_kind = 'assessment' AND l.subject_id = ANY($4))))
) ORDER BY level`
	err := sqlx.SelectContext(ctx, tx, &levels, q, gen, pq.StringArray(keys(b.deputies)), pq.StringArray(keys(b.indicators)), pq.StringArray(keys(b.assessments)))
	return levels, err
}

type ratingKey struct {
	method  string
	version int
	start   string
	deputy  string
}

// saveLevel makes the stored ratings of a level equal views, rewriting
// only the rows whose content changed.
func saveLevel(ctx context.Context, tx *sqlx.Tx, gen int, level string, views []DeputyRatingView) error {
	rows, err := tx.QueryxContext(ctx, `SELECT method, version, to_char(period_start, 'YYYY-MM-DD'), deputy_id, digest
FROM rm_deputy_ratings WHERE generation = $1 AND level = $2`, gen, level)
	if err != nil {
		return err
	}
	old := map[ratingKey]string{}
	for rows.Next() {
		var k ratingKey
		var digest string
		if err := rows.Scan(&k.method, &k.version, &k.start, &k.deputy, &digest); err != nil {
			rows.Close()
			return err
		}
		old[k] = digest
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var (
		methods, starts, ends, deputies, assemblies, ratings, digests []string
		versions, rankA, rankL                                        []any
		rated, inForce, provisional                                   []bool
		scores                                                        []any
	)
	for _, v := range views {
		k := ratingKey{v.Method, v.Version, v.Period.Start.String(), v.DeputyID}
		body := jsonOf(v)
		sum := sha256.Sum256(body)
		digest := hex.EncodeToString(sum[:])
		prev, seen := old[k]
		delete(old, k)
		if seen && prev == digest {
			continue
		}
		methods, starts, ends = append(methods, v.Method), append(starts, v.Period.Start.String()), append(ends, v.Period.End.String())
		deputies, assemblies = append(deputies, v.DeputyID), append(assemblies, v.AssemblyID)
		ratings, digests = append(ratings, string(body)), append(digests, digest)
		versions = append(versions, v.Version)
		rated, inForce, provisional = append(rated, v.Rated), append(inForce, v.InForce), append(provisional, v.Provisional)
		scores = append(scores, floatOrNil(v.Score))
		rankA, rankL = append(rankA, intOrNil(v.RankAssembly)), append(rankL, intOrNil(v.RankLevel))
	}
	if len(old) > 0 {
		var ms, ss, ds []string
		var vs []int64
		for k := range old {
			ms, ss, ds, vs = append(ms, k.method), append(ss, k.start), append(ds, k.deputy), append(vs, int64(k.version))
		}
		const del = `DELETE FROM rm_deputy_ratings r USING unnest($2::text[], $3::int[], $4::date[], $5::text[]) AS u(method, version, start, deputy)
WHERE r.generation = $1 AND r.method = u.method AND r.version = u.version AND r.period_start = u.start AND r.deputy_id = u.deputy`
		if _, err := tx.ExecContext(ctx, del, gen, pq.StringArray(ms), pq.Int64Array(vs), pq.StringArray(ss), pq.StringArray(ds)); err != nil {
			return err
		}
	}
	if len(methods) == 0 {
		return nil
	}
	const upsert = `INSERT INTO rm_deputy_ratings (generation, method, version, period_start, period_end, deputy_id, assembly_id, level,
	rated, score, rank_assembly, rank_level, in_force, provisional, rating, digest)
SELECT $1, u.method, u.version, u.start, u.end_, u.deputy, u.assembly, $2, u.rated, u.score, u.rank_a, u.rank_l, u.in_force,
	u.provisional, u.rating::jsonb, u.digest
FROM unnest($3::text[], $4::int[], $5::date[], $6::date[], $7::text[], $8::text[], $9::bool[], $10::float8[], $11::int[], $12::int[],
	$13::bool[], $14::bool[], $15::text[], $16::text[])
	AS u(method, version, start, end_, deputy, assembly, rated, score, rank_a, rank_l, in_force, provisional, rating, digest)
ON CONFLICT (generation, method, version, period_start, deputy_id) DO UPDATE SET period_end = EXCLUDED.period_end,
	assembly_id = EXCLUDED.assembly_id, level = EXCLUDED.level, rated = EXCLUDED.rated, score = EXCLUDED.score,
	rank_assembly = EXCLUDED.rank_assembly, rank_level = EXCLUDED.rank_level, in_force = EXCLUDED.in_force,
	provisional = EXCLUDED.provisional, rating = EXCLUDED.rating, digest = EXCLUDED.digest`
	_, err = tx.ExecContext(ctx, upsert, gen, level, pq.StringArray(methods), pq.GenericArray{A: versions}, pq.StringArray(starts), pq.StringArray(ends),
		pq.StringArray(deputies), pq.StringArray(assemblies), pq.BoolArray(rated), pq.GenericArray{A: scores}, pq.GenericArray{A: rankA},
		pq.GenericArray{A: rankL}, pq.BoolArray(inForce), pq.BoolArray(provisional), pq.StringArray(ratings), pq.StringArray(digests))
	return err
}

func floatOrNil(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func intOrNil(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

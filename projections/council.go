package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/domain"
	"promiseledger/eventstore"
)

// CouncilsName is the permanent name of the councils projector.
const CouncilsName = "councils.v1"

// Kinds of council facts, by stream prefix.
const (
	kindCouncil        = "council"
	kindRecommendation = "recommendation"
	kindAssessment     = "assessment"
)

var councilStreamKinds = []struct{ prefix, kind string }{
	{"council-", kindCouncil},
	{"recommendation-", kindRecommendation},
	{"assessment-", kindAssessment},
}

// Councils projects public councils and their members, recommendations and
// assessments: their events (for folding as of any time) and their current
// state.
type Councils struct{}

// Name implements Projector.
func (Councils) Name() string { return CouncilsName }

var councilTables = []string{"rm_council_events", "rm_councils", "rm_council_members", "rm_recommendations", "rm_assessments"}

// Reset implements Projector.
func (Councils) Reset(ctx context.Context, tx *sqlx.Tx, gen int) error {
	for _, t := range councilTables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE generation = $1`, gen); err != nil {
			return fmt.Errorf("reset %s: %w", t, err)
		}
	}
	return nil
}

// Apply implements Projector: store the batch's council, recommendation and
// assessment events, then refold every aggregate they touch from its whole
// stored history.
func (Councils) Apply(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error {
	facts := factsFor(events, (*councilsReplay)(nil).decodes)
	touched := map[string]map[string]bool{}
	for _, r := range events {
		if streamKind(r.Stream, councilStreamKinds) == "" {
			continue
		}
		r, ev, m, err := decodeRecorded(r)
		if err != nil {
			return err
		}
		kind, id := streamKindID(r.Stream, councilStreamKinds)
		facts = append(facts, fact{rec: r, kind: kind, id: id, ev: ev, meta: m})
		if touched[kind] == nil {
			touched[kind] = map[string]bool{}
		}
		touched[kind][id] = true
	}
	if len(facts) == 0 {
		return nil
	}
	if err := storeFacts(ctx, tx, councilFacts, gen, facts); err != nil {
		return err
	}
	for _, k := range councilStreamKinds {
		ids := keys(touched[k.kind])
		if len(ids) == 0 {
			continue
		}
		hs, err := loadFacts(ctx, tx, councilFacts, gen, k.kind, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			h := hs[id]
			if h == nil {
				continue
			}
			var err error
			switch k.kind {
			case kindCouncil:
				err = saveCouncil(ctx, tx, gen, h)
			case kindRecommendation:
				err = saveRecommendation(ctx, tx, gen, h)
			case kindAssessment:
				err = saveAssessment(ctx, tx, gen, h)
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", k.kind, id, err)
			}
		}
	}
	return nil
}

type streamKinds = []struct{ prefix, kind string }

// streamKind is the kind of aggregate a stream holds, "" for none of ks.
func streamKind(stream string, ks streamKinds) string {
	kind, _ := streamKindID(stream, ks)
	return kind
}

func streamKindID(stream string, ks streamKinds) (kind, id string) {
	for _, k := range ks {
		if rest, ok := strings.CutPrefix(stream, k.prefix); ok {
			return k.kind, rest
		}
	}
	return "", ""
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func lastRecorded(h *aggregateHistory) time.Time {
	return h.Events[len(h.Events)-1].Meta.RecordedAt
}

func saveCouncil(ctx context.Context, tx *sqlx.Tx, gen int, h *aggregateHistory) error {
	s, err := domain.FoldCouncil(h.Events, nil)
	if err != nil {
		return err
	}
	return saveCouncilState(ctx, tx, gen, s, h.Version, lastRecorded(h))
}

// saveCouncilState writes a council folded up to version, whose last
// event was recorded at last.
func saveCouncilState(ctx context.Context, tx *sqlx.Tx, gen int, s domain.CouncilState, version int64, last time.Time) error {
	if s.ID == "" {
		return nil
	}
	const upsert = `INSERT INTO rm_councils (generation, council_id, kato, level, name, members, version, registered_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (generation, council_id) DO UPDATE SET members = EXCLUDED.members, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`
	if _, err := tx.ExecContext(ctx, upsert, gen, s.ID, s.TerritoryKATO, s.Level, jsonOf(s.Name), len(s.CurrentMembers()), version,
		s.RegisteredAt, last); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM rm_council_members WHERE generation = $1 AND council_id = $2`, gen, s.ID); err != nil {
		return err
	}
	n := len(s.Memberships)
	if n == 0 {
		return nil
	}
	seqs := make([]int64, n)
	ids, roles, names, joined, left := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]any, n)
	for i, m := range s.Memberships {
		seqs[i], ids[i], roles[i], names[i] = int64(i+1), m.MemberID, string(m.Role), m.DisplayName
		joined[i] = m.JoinedAt.UTC().Format(timeLayout)
		if !m.LeftAt.IsZero() {
			left[i] = m.LeftAt.UTC().Format(timeLayout)
		}
	}
	const insert = `INSERT INTO rm_council_members (generation, council_id, seq, member_id, role, display_name, joined_at, left_at)
SELECT $1, $2, u.* FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[]) AS u`
	_, err := tx.ExecContext(ctx, insert, gen, s.ID, pq.Int64Array(seqs), pq.StringArray(ids), pq.StringArray(roles), pq.StringArray(names),
		pq.StringArray(joined), pq.GenericArray{A: left})
	return err
}

const timeLayout = "2006-01-02T15:04:05.999999999Z07:00"

func nullable[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

func saveRecommendation(ctx context.Context, tx *sqlx.Tx, gen int, h *aggregateHistory) error {
	s, err := domain.FoldRecommendation(h.Events, nil)
	if err != nil {
		return err
	}
	return saveRecommendationState(ctx, tx, gen, s, h.Version, lastRecorded(h))
}

func saveRecommendationState(ctx context.Context, tx *sqlx.Tx, gen int, s domain.RecommendationState, version int64, last time.Time) error {
	if s.ID == "" {
		return nil
	}
	const upsert = `INSERT INTO rm_recommendations (generation, recommendation_id, council_id, body_id, status, decision, verdict,
	response_deadline, dissents, drafted_at, version, updated_at, state)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (generation, recommendation_id) DO UPDATE SET status = EXCLUDED.status, decision = EXCLUDED.decision,
	verdict = EXCLUDED.verdict, response_deadline = EXCLUDED.response_deadline, dissents = EXCLUDED.dissents,
	version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, state = EXCLUDED.state`
	_, err := tx.ExecContext(ctx, upsert, gen, s.ID, s.CouncilID, s.Addressee.ID, s.Status, nullable(s.Decision()), nullable(s.Verdict()),
		dateOrNil(s.ResponseDeadline), len(s.Dissents), s.DraftedAt, version, last, jsonOf(s))
	return err
}

func saveAssessment(ctx context.Context, tx *sqlx.Tx, gen int, h *aggregateHistory) error {
	s, err := domain.FoldAssessment(h.Events, nil)
	if err != nil {
		return err
	}
	return saveAssessmentState(ctx, tx, gen, s, h.Version)
}

func saveAssessmentState(ctx context.Context, tx *sqlx.Tx, gen int, s domain.AssessmentState, version int64) error {
	if s.ID == "" {
		return nil
	}
	const upsert = `INSERT INTO rm_assessments (generation, assessment_id, council_id, indicator_id, roadmap_id, position, respondents,
	replies, withdrawn, assessed_at, version, state)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (generation, assessment_id) DO UPDATE SET replies = EXCLUDED.replies, withdrawn = EXCLUDED.withdrawn,
	version = EXCLUDED.version, state = EXCLUDED.state`
	_, err := tx.ExecContext(ctx, upsert, gen, s.ID, s.CouncilID, s.IndicatorID, s.RoadmapID, s.Position, pq.StringArray(s.Respondents),
		len(s.Replies), s.Withdrawn, s.AssessedAt, version, jsonOf(s))
	return err
}

// NewReplay implements Replayer: the replay keeps every council,
// recommendation and assessment folded so far, so a page folds only its
// own events and copies them into rm_council_events, and a run writes each
// aggregate it touched once, at its end, a table at a time.
func (Councils) NewReplay(gen int) Replay {
	return &councilsReplay{gen: gen, councils: map[string]*councilFolded{}, recs: map[string]*recommendationFolded{},
		assessments: map[string]*assessmentFolded{}, stored: map[string]map[string]bool{}}
}

type councilFolded struct {
	st      domain.CouncilState
	version int64
	last    time.Time
}

type recommendationFolded struct {
	st      domain.RecommendationState
	version int64
	last    time.Time
}

type assessmentFolded struct {
	st      domain.AssessmentState
	version int64
}

type councilsReplay struct {
	gen         int
	councils    map[string]*councilFolded
	recs        map[string]*recommendationFolded
	assessments map[string]*assessmentFolded
	touched     map[string]map[string]bool // by kind, since the last Flush
	stored      map[string]map[string]bool // by kind, the aggregates an earlier Flush wrote
}

// decodes implements aheadDecoder: the councils' facts.
func (*councilsReplay) decodes(stream string) bool {
	return streamKind(stream, councilStreamKinds) != ""
}

func (r *councilsReplay) Apply(ctx context.Context, tx *sqlx.Tx, events []eventstore.Recorded) error {
	facts := factsFor(events, r.decodes)
	if r.touched == nil {
		r.touched = map[string]map[string]bool{}
	}
	touched := r.touched
	decode := decoderIn(ctx)
	for _, rec := range events {
		if !r.decodes(rec.Stream) {
			continue
		}
		rec, ev, m, err := decode(rec)
		if err != nil {
			return err
		}
		kind, id := streamKindID(rec.Stream, councilStreamKinds)
		facts = append(facts, fact{rec: rec, kind: kind, id: id, ev: ev, meta: m})
		if touched[kind] == nil {
			touched[kind] = map[string]bool{}
		}
		touched[kind][id] = true
		switch kind {
		case kindCouncil:
			f := folded(r.councils, id)
			err = f.st.Apply(ev, m)
			f.version, f.last = rec.Version, m.RecordedAt
		case kindRecommendation:
			f := folded(r.recs, id)
			err = f.st.Apply(ev, m)
			f.version, f.last = rec.Version, m.RecordedAt
		case kindAssessment:
			f := folded(r.assessments, id)
			err = f.st.Apply(ev, m)
			f.version = rec.Version
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", kind, id, err)
		}
	}
	// Each event is applied once to a generation that held none of them:
	// COPY stands for storeFacts' ON CONFLICT DO NOTHING.
	return copyFacts(ctx, tx, councilFacts, r.gen, facts)
}

// folded is m[id], made empty on first use.
func folded[T any](m map[string]*T, id string) *T {
	f := m[id]
	if f == nil {
		f = new(T)
		m[id] = f
	}
	return f
}

// Flush implements Replay: it writes the aggregates touched since the
// last Flush, one COPY per table; the rows an earlier Flush wrote are
// deleted first. Each row is the one the page path's upsert leaves: the
// columns the upsert keeps never change after the aggregate's first event.
func (r *councilsReplay) Flush(ctx context.Context, tx *sqlx.Tx) error {
	if err := r.flushCouncils(ctx, tx, keys(r.touched[kindCouncil])); err != nil {
		return err
	}
	if err := r.flushRecommendations(ctx, tx, keys(r.touched[kindRecommendation])); err != nil {
		return err
	}
	if err := r.flushAssessments(ctx, tx, keys(r.touched[kindAssessment])); err != nil {
		return err
	}
	for kind, ids := range r.touched {
		if r.stored[kind] == nil {
			r.stored[kind] = map[string]bool{}
		}
		for id := range ids {
			r.stored[kind][id] = true
		}
	}
	r.touched = nil
	return nil
}

// again deletes, from each of tables, the rows of generation gen whose
// column col is one of the ids of kind an earlier Flush wrote.
func (r *councilsReplay) again(ctx context.Context, tx *sqlx.Tx, kind string, ids []string, col string, tables ...string) error {
	var stored []string
	for _, id := range ids {
		if r.stored[kind][id] {
			stored = append(stored, id)
		}
	}
	if len(stored) == 0 {
		return nil
	}
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE generation = $1 AND `+col+` = ANY($2)`, r.gen, pq.StringArray(stored)); err != nil {
			return fmt.Errorf("rewrite %s: %w", t, err)
		}
	}
	return nil
}

func (r *councilsReplay) flushCouncils(ctx context.Context, tx *sqlx.Tx, ids []string) error {
	ids = slices.DeleteFunc(ids, func(id string) bool { return r.councils[id].st.ID == "" })
	if err := r.again(ctx, tx, kindCouncil, ids, "council_id", "rm_councils", "rm_council_members"); err != nil {
		return err
	}
	gen := int64(r.gen)
	err := CopyInto(ctx, tx, "rm_councils", "generation, council_id, kato, level, name, members, version, registered_at, updated_at", len(ids),
		func(i int) []any {
			f := r.councils[ids[i]]
			s := &f.st
			return []any{gen, s.ID, s.TerritoryKATO, string(s.Level), string(jsonOf(s.Name)), int64(len(s.CurrentMembers())), f.version,
				s.RegisteredAt, f.last}
		})
	if err != nil {
		return err
	}
	type member struct {
		council string
		seq     int64
		m       *domain.CouncilMembership
	}
	var members []member
	for _, id := range ids {
		s := &r.councils[id].st
		for i := range s.Memberships {
			members = append(members, member{s.ID, int64(i + 1), &s.Memberships[i]})
		}
	}
	return CopyInto(ctx, tx, "rm_council_members", "generation, council_id, seq, member_id, role, display_name, joined_at, left_at", len(members),
		func(i int) []any {
			m := members[i]
			var left any
			if !m.m.LeftAt.IsZero() {
				left = m.m.LeftAt.UTC().Format(timeLayout)
			}
			return []any{gen, m.council, m.seq, m.m.MemberID, string(m.m.Role), m.m.DisplayName, m.m.JoinedAt.UTC().Format(timeLayout), left}
		})
}

func (r *councilsReplay) flushRecommendations(ctx context.Context, tx *sqlx.Tx, ids []string) error {
	ids = slices.DeleteFunc(ids, func(id string) bool { return r.recs[id].st.ID == "" })
	if err := r.again(ctx, tx, kindRecommendation, ids, "recommendation_id", "rm_recommendations"); err != nil {
		return err
	}
	gen := int64(r.gen)
	return CopyInto(ctx, tx, "rm_recommendations", `generation, recommendation_id, council_id, body_id, status, decision, verdict,
	response_deadline, dissents, drafted_at, version, updated_at, state`, len(ids), func(i int) []any {
		f := r.recs[ids[i]]
		s := &f.st
		return []any{gen, s.ID, s.CouncilID, s.Addressee.ID, string(s.Status), nullable(string(s.Decision())), nullable(string(s.Verdict())),
			dateOrNil(s.ResponseDeadline), int64(len(s.Dissents)), s.DraftedAt, f.version, f.last, string(jsonOf(*s))}
	})
}

func (r *councilsReplay) flushAssessments(ctx context.Context, tx *sqlx.Tx, ids []string) error {
	ids = slices.DeleteFunc(ids, func(id string) bool { return r.assessments[id].st.ID == "" })
	if err := r.again(ctx, tx, kindAssessment, ids, "assessment_id", "rm_assessments"); err != nil {
		return err
	}
	gen := int64(r.gen)
	return CopyInto(ctx, tx, "rm_assessments", `generation, assessment_id, council_id, indicator_id, roadmap_id, position, respondents,
	replies, withdrawn, assessed_at, version, state`, len(ids), func(i int) []any {
		f := r.assessments[ids[i]]
		s := &f.st
		respondents, _ := pq.StringArray(s.Respondents).Value() // never fails
		return []any{gen, s.ID, s.CouncilID, s.IndicatorID, s.RoadmapID, string(s.Position), respondents, int64(len(s.Replies)),
			s.Withdrawn, s.AssessedAt, f.version, string(jsonOf(*s))}
	})
}

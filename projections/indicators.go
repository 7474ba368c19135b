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

// IndicatorsName is the permanent name of the indicators projector.
const IndicatorsName = "indicators.v1"

const indicatorPrefix = "indicator-"

// Indicators projects every indicator's events, its current state, and the
// per-roadmap sums behind the implementation percentages.
type Indicators struct{}

// Name implements Projector.
func (Indicators) Name() string { return IndicatorsName }

// Reset implements Projector.
func (Indicators) Reset(ctx context.Context, tx *sqlx.Tx, gen int) error {
	for _, t := range []string{"rm_indicator_events", "rm_indicators", "rm_roadmap_figures"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE generation = $1`, gen); err != nil {
			return fmt.Errorf("reset %s: %w", t, err)
		}
	}
	return nil
}

type factRows struct {
	ids, types          []string
	eventIDs            []string
	versions            []int64
	data, meta          [][]byte
	effective, recorded []string
}

// Apply implements Projector: store the batch's indicator events, fold them
// into the indicators they touch, and re-sum their roadmaps. An indicator
// whose folded state this process keeps (liveIndicators) at the version
// just before the batch's first event of it takes only the new events;
// any other is refolded from its whole stored history. Refolding every
// history on every batch cost the live path O(n²) in an indicator's
// reports: 18 % of the server's CPU under 64 HTTP writers.
func (Indicators) Apply(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error {
	type steps struct {
		first, last int64
		gap         bool
		envs        []domain.Envelope
	}
	news := map[string]*steps{}
	touched, err := storeIndicatorEvents(ctx, tx, gen, events, func(id string, r eventstore.Recorded, ev domain.Event, m domain.Meta) error {
		s := news[id]
		if s == nil {
			s = &steps{first: r.Version, last: r.Version - 1}
			news[id] = s
		}
		s.gap = s.gap || r.Version != s.last+1
		s.last = r.Version
		s.envs = append(s.envs, domain.Envelope{Event: ev, Meta: m})
		return nil
	})
	if err != nil || len(touched) == 0 {
		return err
	}
	db, err := databaseOf(ctx, tx)
	if err != nil {
		return err
	}
	folds := make(map[string]*indicatorFolded, len(touched))
	var missing []string
	for id := range touched {
		s := news[id]
		f := liveIndicators.take(foldKey{db, id})
		if f != nil && !s.gap && s.first == f.version+1 && foldOn(f, s.envs, s.last) {
			folds[id] = f
			foldCacheHits.Add(1)
			continue
		}
		missing = append(missing, id)
	}
	if len(missing) > 0 {
		histories, err := loadHistories(ctx, tx, gen, missing)
		if err != nil {
			return err
		}
		for id, h := range histories {
			st, err := domain.FoldIndicator(h.Events, nil)
			if err != nil {
				return fmt.Errorf("fold indicator %s: %w", id, err)
			}
			folds[id] = &indicatorFolded{st: st, version: h.Version, recorded: h.Events[len(h.Events)-1].Meta.RecordedAt}
		}
	}
	if err := saveFolds(ctx, tx, gen, folds); err != nil {
		return err
	}
	// Kept even if tx rolls back: a state is the fold of its stream's
	// first version events, which never change, and a redelivered batch
	// starts at or below the kept version, so it refolds from history.
	for id, f := range folds {
		liveIndicators.put(foldKey{db, id}, f)
	}
	return nil
}

// foldOn folds envs, the events after f.version up to last, into f in
// place; false (f is then spoiled) when one does not apply, for the caller
// to refold the whole history, which reports the error as it should.
func foldOn(f *indicatorFolded, envs []domain.Envelope, last int64) bool {
	for _, env := range envs {
		if err := f.st.Apply(env.Event, env.Meta); err != nil {
			return false
		}
	}
	f.version, f.recorded = last, envs[len(envs)-1].Meta.RecordedAt
	return true
}

// storeIndicatorEvents stores the indicator events among events and
// returns the indicators they touch. Each decoded event is handed to fold
// (when not nil) in order.
func storeIndicatorEvents(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded, fold func(id string, r eventstore.Recorded, ev domain.Event, m domain.Meta) error) (map[string]bool, error) {
	f, touched, err := indicatorFacts(events, decodeRecorded, fold)
	if err != nil || len(touched) == 0 {
		return nil, err
	}
	const insertFacts = `INSERT INTO rm_indicator_events (generation, indicator_id, version, event_id, type, data, metadata, effective_at, recorded_at)
SELECT $1, u.* FROM unnest($2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::bytea[], $7::bytea[], $8::timestamptz[], $9::timestamptz[]) AS u
ON CONFLICT DO NOTHING`
	if _, err := tx.ExecContext(ctx, insertFacts, gen, pq.StringArray(f.ids), pq.Int64Array(f.versions), pq.StringArray(f.eventIDs),
		pq.StringArray(f.types), pq.ByteaArray(f.data), pq.ByteaArray(f.meta), pq.StringArray(f.effective), pq.StringArray(f.recorded)); err != nil {
		return nil, fmt.Errorf("store indicator events: %w", err)
	}
	return touched, nil
}

// indicatorFacts decodes the indicator events among events into the rows
// of rm_indicator_events, and returns them with the indicators they touch.
// Each decoded event is handed to fold (when not nil) in order.
func indicatorFacts(events []eventstore.Recorded, decode func(eventstore.Recorded) (eventstore.Recorded, domain.Event, domain.Meta, error),
	fold func(id string, r eventstore.Recorded, ev domain.Event, m domain.Meta) error) (factRows, map[string]bool, error) {
	var f factRows
	touched := map[string]bool{}
	for _, r := range events {
		if !strings.HasPrefix(r.Stream, indicatorPrefix) {
			continue
		}
		r, ev, m, err := decode(r)
		if err != nil {
			return f, nil, err
		}
		id := strings.TrimPrefix(r.Stream, indicatorPrefix)
		if fold != nil {
			if err := fold(id, r, ev, m); err != nil {
				return f, nil, err
			}
		}
		eff := m.EffectiveAt
		if eff.IsZero() {
			eff = m.RecordedAt
		}
		f.ids = append(f.ids, id)
		f.versions = append(f.versions, r.Version)
		f.eventIDs = append(f.eventIDs, r.ID.String())
		f.types = append(f.types, r.Type)
		f.data = append(f.data, r.Data)
		f.meta = append(f.meta, r.Metadata)
		f.effective = append(f.effective, eff.UTC().Format(time.RFC3339Nano))
		f.recorded = append(f.recorded, m.RecordedAt.UTC().Format(time.RFC3339Nano))
		touched[id] = true
	}
	return f, touched, nil
}

// History is an indicator's events in stream order, with its stream version.
type History struct {
	IndicatorID string
	Version     int64
	Events      []domain.Envelope
}

// loadHistories reads the stored events of the given indicators.
func loadHistories(ctx context.Context, q sqlx.QueryerContext, gen int, ids []string) (map[string]*History, error) {
	const sel = `SELECT indicator_id, version, type, data, metadata FROM rm_indicator_events
WHERE generation = $1 AND indicator_id = ANY($2) ORDER BY indicator_id, version`
	rows, err := q.QueryxContext(ctx, sel, gen, pq.StringArray(ids))
	if err != nil {
		return nil, fmt.Errorf("load indicator histories: %w", err)
	}
	defer rows.Close()
	out := make(map[string]*History, len(ids))
	for rows.Next() {
		var (
			id, typ    string
			version    int64
			data, meta []byte
		)
		if err := rows.Scan(&id, &version, &typ, &data, &meta); err != nil {
			return nil, err
		}
		ev, m, err := decodeFact(typ, data, meta)
		if err != nil {
			return nil, fmt.Errorf("indicator %s version %d: %w", id, version, err)
		}
		h := out[id]
		if h == nil {
			h = &History{IndicatorID: id}
			out[id] = h
		}
		h.Version = version
		h.Events = append(h.Events, domain.Envelope{Event: ev, Meta: m})
	}
	return out, rows.Err()
}

// indicatorFolded is an indicator folded so far: its state, the version and
// recording time of its last event.
type indicatorFolded struct {
	st       domain.IndicatorState
	version  int64
	recorded time.Time
}

// saveFolds upserts the given indicators' states and adds their change to
// their roadmaps' sums.
func saveFolds(ctx context.Context, tx *sqlx.Tx, gen int, folds map[string]*indicatorFolded) error {
	var (
		ids, roadmaps, kinds, statuses, deadlines, responsibles []string
		versions                                                []int64
		weights, completions                                    []float64
		latest                                                  []*float64
		reports, corrections                                    []int64
		evidence                                                []bool
		states                                                  [][]byte
		updated                                                 []string
	)
	for id, fo := range folds {
		st := fo.st
		if st.ID == "" {
			continue // events before indicator.added cannot exist; be safe
		}
		nReports, nCorrections, withEvidence := reportCounts(st)
		ids = append(ids, id)
		roadmaps = append(roadmaps, st.RoadmapID)
		versions = append(versions, fo.version)
		kinds = append(kinds, string(st.Kind))
		statuses = append(statuses, string(st.Status))
		weights = append(weights, st.Weight)
		completions = append(completions, st.Completion())
		deadlines = append(deadlines, st.Deadline.String())
		latest = append(latest, st.LatestValue)
		responsibles = append(responsibles, st.ResponsibleID)
		reports = append(reports, nReports)
		corrections = append(corrections, nCorrections)
		evidence = append(evidence, withEvidence)
		states = append(states, storedState(&st))
		updated = append(updated, fo.recorded.UTC().Format(time.RFC3339Nano))
	}
	// One statement: the indicators' rows as they stood (stored), their
	// upsert (saved), and what they add to or take from their roadmaps'
	// sums (delta; every part of a WITH sees the rows as they were before
	// the statement). A roadmap's sums change by exactly its indicators'
	// change, in numeric, so they stay the sums a rebuild adds up, bit for
	// bit, without reading the roadmap's other indicators.
	const upsert = `WITH u AS (
	SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::float8[], $8::float8[], $9::date[],
		$10::float8[], $11::text[], $12::int[], $13::int[], $14::bool[], $15::bytea[], $16::timestamptz[])
		AS u(id, roadmap, version, kind, status, weight, completion, deadline, latest, responsible, reports, corrections, evidence, state, updated)
), stored AS (
	SELECT roadmap_id, status, weight, completion FROM rm_indicators WHERE generation = $1 AND indicator_id = ANY($2)
), saved AS (
	INSERT INTO rm_indicators (generation, indicator_id, roadmap_id, version, kind, status, weight, completion,
		deadline, latest_value, responsible_id, reports, corrections, has_evidence, state, updated_at)
	SELECT $1, u.id, u.roadmap, u.version, u.kind, u.status, u.weight, u.completion, u.deadline, u.latest, NULLIF(u.responsible, ''),
		u.reports, u.corrections, u.evidence, convert_from(u.state, 'UTF8')::jsonb, u.updated
	FROM u
	ON CONFLICT (generation, indicator_id) DO UPDATE SET roadmap_id = EXCLUDED.roadmap_id, version = EXCLUDED.version,
		kind = EXCLUDED.kind, status = EXCLUDED.status, weight = EXCLUDED.weight, completion = EXCLUDED.completion,
		deadline = EXCLUDED.deadline, latest_value = EXCLUDED.latest_value, responsible_id = EXCLUDED.responsible_id,
		reports = EXCLUDED.reports, corrections = EXCLUDED.corrections, has_evidence = EXCLUDED.has_evidence,
		state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
), delta AS (
	SELECT roadmap_id,
		COALESCE(sum(s) FILTER (WHERE status <> 'cancelled'), 0) AS measures,
		COALESCE(sum(s) FILTER (WHERE status = 'done'), 0) AS done,
		COALESCE(sum(s) FILTER (WHERE status = 'cancelled'), 0) AS cancelled,
		COALESCE(sum(s * weight::numeric) FILTER (WHERE status <> 'cancelled'), 0) AS w,
		COALESCE(sum(s * (weight * completion)::numeric) FILTER (WHERE status <> 'cancelled'), 0) AS wd
	FROM (SELECT roadmap, status, weight, completion, 1 FROM u
		UNION ALL SELECT roadmap_id, status, weight, completion, -1 FROM stored) AS c(roadmap_id, status, weight, completion, s)
	GROUP BY roadmap_id
)
INSERT INTO rm_roadmap_figures AS f (generation, roadmap_id, measures, done, cancelled, weight_total, weighted_done, weight_exact, weighted_exact)
SELECT $1, roadmap_id, measures, done, cancelled, w::float8, wd::float8, trim_scale(w), trim_scale(wd) FROM delta
WHERE measures <> 0 OR done <> 0 OR cancelled <> 0 OR w <> 0 OR wd <> 0
ON CONFLICT (generation, roadmap_id) DO UPDATE SET measures = f.measures + EXCLUDED.measures, done = f.done + EXCLUDED.done,
	cancelled = f.cancelled + EXCLUDED.cancelled,
	weight_total = (f.weight_exact + EXCLUDED.weight_exact)::float8, weighted_done = (f.weighted_exact + EXCLUDED.weighted_exact)::float8,
	weight_exact = trim_scale(f.weight_exact + EXCLUDED.weight_exact), weighted_exact = trim_scale(f.weighted_exact + EXCLUDED.weighted_exact)`
	if _, err := tx.ExecContext(ctx, upsert, gen, pq.StringArray(ids), pq.StringArray(roadmaps), pq.Int64Array(versions),
		pq.StringArray(kinds), pq.StringArray(statuses), pq.Float64Array(weights), pq.Float64Array(completions),
		pq.StringArray(deadlines), nullableFloats(latest), pq.StringArray(responsibles), pq.Int64Array(reports),
		pq.Int64Array(corrections), pq.BoolArray(evidence), pq.ByteaArray(states), pq.StringArray(updated)); err != nil {
		return fmt.Errorf("save indicator states: %w", err)
	}
	return nil
}

// storedState is an indicator's state as rm_indicators keeps it: without
// its reports, which only GetIndicator shows and folds from the
// indicator's stored events. Rewriting every report on each new one made
// a batch's cost grow with its indicators' histories: the upsert of the
// whole states was 4.6 of a live batch's 12 ms in the lag benchmark
// (docs/performance.md, "7 December, night").
func storedState(st *domain.IndicatorState) []byte {
	s := *st
	s.Reports = nil
	return jsonOf(s)
}

func reportCounts(st domain.IndicatorState) (reports, corrections int64, evidence bool) {
	for _, r := range st.Reports {
		if r.Corrects != "" {
			corrections++
		} else {
			reports++
		}
		if !r.Superseded() && (r.Evidence.URL != "" || r.Evidence.SHA256 != "") {
			evidence = true
		}
	}
	return reports, corrections, evidence
}

// nullableFloats encodes a float8[] literal with NULLs.
func nullableFloats(vs []*float64) pq.GenericArray {
	out := make([]any, len(vs))
	for i, v := range vs {
		if v != nil {
			out[i] = *v
		}
	}
	return pq.GenericArray{A: out}
}

// sumRoadmaps adds up the per-roadmap sums of both methods from the
// current indicator states (the replay's way; the page path adds changes:
// saveFolds).
func sumRoadmaps(ctx context.Context, tx *sqlx.Tx, gen int, set map[string]bool) error {
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	const q = `INSERT INTO rm_roadmap_figures (generation, roadmap_id, measures, done, cancelled, weight_total, weighted_done, weight_exact, weighted_exact)
SELECT $1, roadmap_id, measures, done, cancelled, w::float8, wd::float8, trim_scale(w), trim_scale(wd) FROM (
	SELECT roadmap_id,
		count(*) FILTER (WHERE status <> 'cancelled') AS measures,
		count(*) FILTER (WHERE status = 'done') AS done,
		count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
		-- numeric sums do not depend on row order, so a rebuild gives the same bits
		COALESCE(sum(weight::numeric) FILTER (WHERE status <> 'cancelled'), 0) AS w,
		COALESCE(sum((weight * completion)::numeric) FILTER (WHERE status <> 'cancelled'), 0) AS wd
	FROM rm_indicators WHERE generation = $1 AND roadmap_id = ANY($2) GROUP BY roadmap_id) s
ON CONFLICT (generation, roadmap_id) DO UPDATE SET measures = EXCLUDED.measures, done = EXCLUDED.done,
	cancelled = EXCLUDED.cancelled, weight_total = EXCLUDED.weight_total, weighted_done = EXCLUDED.weighted_done,
	weight_exact = EXCLUDED.weight_exact, weighted_exact = EXCLUDED.weighted_exact`
	if _, err := tx.ExecContext(ctx, q, gen, pq.StringArray(ids)); err != nil {
		return fmt.Errorf("sum roadmaps: %w", err)
	}
	return nil
}

// NewReplay implements Replayer: the replay keeps every indicator's state
// folded so far, so a page folds only its own events and copies them into
// rm_indicator_events, and a run writes the indicators it touched once, at
// its end.
func (Indicators) NewReplay(gen int) Replay {
	return &indicatorsReplay{gen: gen, folds: map[string]*indicatorFolded{}, stored: map[string]bool{}}
}

type indicatorsReplay struct {
	gen     int
	folds   map[string]*indicatorFolded
	touched map[string]*indicatorFolded // since the last Flush
	stored  map[string]bool             // indicators whose row an earlier Flush wrote
}

// handOn implements replayHandsOn: the live path starts from the states
// the replay folded (the most recently recorded ones, as many as
// liveIndicators keeps) instead of refolding each indicator's history at
// its first report after a catch-up. Each is the fold of its stream's
// first version events, as the live path's own.
func (r *indicatorsReplay) handOn(ctx context.Context, db *sqlx.DB) {
	key, err := databaseOf(ctx, db)
	if err != nil {
		return // the live path refolds from history, as without a kept state
	}
	folds := make([]foldEntry, 0, len(r.folds))
	for id, fo := range r.folds {
		if fo.st.ID != "" {
			folds = append(folds, foldEntry{foldKey{key, id}, fo})
		}
	}
	slices.SortFunc(folds, func(a, b foldEntry) int { return a.f.recorded.Compare(b.f.recorded) })
	for _, e := range folds[max(0, len(folds)-liveIndicatorsMax):] {
		liveIndicators.put(e.key, e.f)
	}
	r.folds = nil
}

// decodes implements aheadDecoder: the measures' streams.
func (*indicatorsReplay) decodes(stream string) bool {
	return strings.HasPrefix(stream, indicatorPrefix)
}

func (r *indicatorsReplay) Apply(ctx context.Context, tx *sqlx.Tx, events []eventstore.Recorded) error {
	if r.touched == nil {
		r.touched = map[string]*indicatorFolded{}
	}
	page := r.touched
	fold := func(id string, rec eventstore.Recorded, ev domain.Event, m domain.Meta) error {
		fo := folded(r.folds, id)
		if err := fo.st.Apply(ev, m); err != nil {
			return fmt.Errorf("fold indicator %s: %w", id, err)
		}
		fo.version, fo.recorded = rec.Version, m.RecordedAt
		page[id] = fo
		return nil
	}
	f, _, err := indicatorFacts(events, decoderIn(ctx), fold)
	if err != nil {
		return err
	}
	// The replay applies each event once to a generation that held none
	// of them: no fact of these events is stored, so COPY (which refuses a
	// stored key) stands for the page path's ON CONFLICT DO NOTHING.
	return CopyInto(ctx, tx, "rm_indicator_events", "generation, indicator_id, version, event_id, type, data, metadata, effective_at, recorded_at",
		len(f.ids), func(i int) []any {
			return []any{int64(r.gen), f.ids[i], f.versions[i], f.eventIDs[i], f.types[i], f.data[i], f.meta[i], f.effective[i], f.recorded[i]}
		})
}

// Flush implements Replay: it writes the indicators touched since the
// last Flush and re-sums their roadmaps. The rows an earlier Flush wrote
// are deleted and copied again as they stand now; the row is the one the
// page path's upsert leaves (same columns, same values).
func (r *indicatorsReplay) Flush(ctx context.Context, tx *sqlx.Tx) error {
	if len(r.touched) == 0 {
		return nil
	}
	ids := make([]string, 0, len(r.touched))
	var again []string
	roadmaps := map[string]bool{}
	for id, fo := range r.touched {
		if fo.st.ID == "" {
			continue // events before indicator.added cannot exist; be safe
		}
		ids = append(ids, id)
		roadmaps[fo.st.RoadmapID] = true
		if r.stored[id] {
			again = append(again, id)
		}
	}
	slices.Sort(ids)
	if len(again) > 0 {
		const q = `DELETE FROM rm_indicators WHERE generation = $1 AND indicator_id = ANY($2)`
		if _, err := tx.ExecContext(ctx, q, r.gen, pq.StringArray(again)); err != nil {
			return fmt.Errorf("save indicator states: %w", err)
		}
	}
	err := CopyInto(ctx, tx, "rm_indicators", `generation, indicator_id, roadmap_id, version, kind, status, weight, completion,
	deadline, latest_value, responsible_id, reports, corrections, has_evidence, state, updated_at`, len(ids), func(i int) []any {
		fo := r.touched[ids[i]]
		st := &fo.st
		nReports, nCorrections, withEvidence := reportCounts(*st)
		var latest, responsible any
		if st.LatestValue != nil {
			latest = *st.LatestValue
		}
		if st.ResponsibleID != "" {
			responsible = st.ResponsibleID
		}
		return []any{int64(r.gen), ids[i], st.RoadmapID, fo.version, string(st.Kind), string(st.Status), st.Weight, st.Completion(),
			st.Deadline.String(), latest, responsible, nReports, nCorrections, withEvidence, string(storedState(st)),
			fo.recorded.UTC().Format(time.RFC3339Nano)}
	})
	if err != nil {
		return fmt.Errorf("save indicator states: %w", err)
	}
	if err := sumRoadmaps(ctx, tx, r.gen, roadmaps); err != nil {
		return err
	}
	for _, id := range ids {
		r.stored[id] = true
	}
	r.touched = nil
	return nil
}

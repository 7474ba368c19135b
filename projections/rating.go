package projections

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

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

// CatchUpPageSize asks a rebuild or a catch-up for pages of 25,000 events:
// their pages only store facts (ApplyDeferred) and the levels are computed
// once at the head (Settle), so large pages just save round trips.
func (Ratings) CatchUpPageSize() int { return 25_000 }

var ratingTables = []string{"rm_rating_events", "rm_rating_deputies", "rm_rating_links", "rm_rating_indicators", "rm_deputy_ratings", "rm_rating_pending_levels"}

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
// every level they feed (and of any level a catch-up left pending).
func (r Ratings) Apply(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error {
	if err := r.ApplyDeferred(ctx, tx, gen, events); err != nil {
		return err
	}
	return r.Settle(ctx, tx, gen)
}

// ApplyDeferred is Apply without the recomputation: the levels the batch
// feeds are marked pending, for Settle. A catch-up applies its pages so
// and settles once at the head, so that each level is computed once
// instead of once per page.
func (Ratings) ApplyDeferred(ctx context.Context, tx *sqlx.Tx, gen int, events []eventstore.Recorded) error {
	b := ratingBatch{deputies: map[string]bool{}, indicators: map[string]bool{}, assessments: map[string]bool{}}
	for _, r := range events {
		if streamKind(r.Stream, ratingStreamKinds) == "" {
			continue
		}
		r, ev, m, err := decodeRecorded(r)
		if err != nil {
			return err
		}
		kind, id := streamKindID(r.Stream, ratingStreamKinds)
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
	if err := b.markLevels(ctx, tx, gen); err != nil {
		return err
	}
	if len(b.deputies) == 0 {
		return nil
	}
	if err := fastCompression(ctx, tx); err != nil {
		return err
	}
	return refreshDeputies(ctx, tx, gen, keys(b.deputies))
}

// Settle recomputes the ratings of every pending level of generation gen.
func (Ratings) Settle(ctx context.Context, tx *sqlx.Tx, gen int) error {
	var levels []string
	if err := sqlx.SelectContext(ctx, tx, &levels, `DELETE FROM rm_rating_pending_levels WHERE generation = $1 RETURNING level`, gen); err != nil {
		return fmt.Errorf("pending levels: %w", err)
	}
	if len(levels) == 0 {
		return nil
	}
	slices.Sort(levels)
	if err := fastCompression(ctx, tx); err != nil {
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

// SettleLive is Settle for the live path, in two transactions so that the
// recomputation, seconds on a large level, holds no transaction id: the
// store hands out the log only below the oldest running transaction id of
// the cluster, so a writing transaction open that long held every
// projector's next events back (a median lag of 12 s at 500 appends/s).
// The levels are computed in a read-only snapshot, then written in a short
// transaction. It returns the checkpoint the snapshot had: the ratings now
// stored cover every event up to it. Each level computed is kept in memory
// with the checkpoint it covers, so that the next settle folds in only the
// facts stored since and recomputes only the periods they can change
// (rating_cache.go); the rows it writes are the level's whole set either way.
//
// A level marked pending again meanwhile keeps its mark (the next settle
// recomputes it) but is saved, being newer than what is stored; a level
// whose mark is gone was settled by someone else and is left alone; a
// generation switched meanwhile by a rebuild was settled by the rebuild.
func (Ratings) SettleLive(ctx context.Context, db *sqlx.DB) (eventstore.Position, error) {
	ro, err := db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return eventstore.Start, err
	}
	defer ro.Rollback() //nolint:errcheck // read-only
	var gen int
	var commit, prepare int64
	const active = `SELECT p.active_generation, c.position_commit, c.position_prepare
FROM projectors p JOIN projector_checkpoints c ON c.name = p.name AND c.generation = p.active_generation WHERE p.name = $1`
	if err := ro.QueryRowxContext(ctx, active, RatingsName).Scan(&gen, &commit, &prepare); err != nil {
		return eventstore.Start, fmt.Errorf("active generation: %w", err)
	}
	covered := eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
	var snapshotAt time.Time
	if err := ro.GetContext(ctx, &snapshotAt, `SELECT now()`); err != nil {
		return eventstore.Start, fmt.Errorf("snapshot time: %w", err)
	}
	var pending []struct {
		Level string `db:"level"`
		Mark  string `db:"mark"`
	}
	if err := ro.SelectContext(ctx, &pending, `SELECT level, xmin::text AS mark FROM rm_rating_pending_levels WHERE generation = $1 ORDER BY level`, gen); err != nil {
		return eventstore.Start, fmt.Errorf("pending levels: %w", err)
	}
	if len(pending) == 0 {
		return covered, nil
	}
	dbName, err := databaseOf(ctx, ro)
	if err != nil {
		return eventstore.Start, err
	}
	computed := make([][]levelRow, len(pending))
	for i, p := range pending {
		rows, err := liveLevelRows(ctx, dbName, ro, gen, p.Level, covered)
		if err != nil {
			return eventstore.Start, fmt.Errorf("ratings of the %s level: %w", p.Level, err)
		}
		computed[i] = rows
	}
	if settleLiveComputed != nil {
		settleLiveComputed(ctx, gen)
	}
	if err := ro.Rollback(); err != nil {
		return eventstore.Start, err
	}
	// The rows are written first and the projector's row is locked last:
	// the ratings' handler locks it for every batch it stores (lockActive)
	// and marks levels pending, so a settle that locked first held every
	// batch back for as long as it wrote a level (a ratings lag p99 of 1.7 s
	// at 500 appends/s). Now a batch waits only for the unmarking and the
	// commit. Whatever changed while the rows were written is checked under
	// the lock, and the whole write is given up if it no longer stands.
	tx, err := beginProjection(ctx, db)
	if err != nil {
		return eventstore.Start, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	// One writer of the level's rows at a time, and the same lock order
	// as the catch-up's settle: settle lock, then rows, then the
	// projector's row (which the catch-up's settle takes before its rows,
	// but after the settle lock).
	if err := lockSettle(ctx, tx, RatingsName); err != nil {
		return eventstore.Start, err
	}
	var activeGen int
	if err := tx.GetContext(ctx, &activeGen, `SELECT active_generation FROM projectors WHERE name = $1`, RatingsName); err != nil {
		return eventstore.Start, fmt.Errorf("active generation: %w", err)
	}
	if activeGen != gen {
		return covered, nil // switched by a rebuild, which settled it
	}
	if err := fastCompression(ctx, tx); err != nil {
		return eventstore.Start, err
	}
	var saved []int
	for i, p := range pending {
		var marked bool
		const still = `SELECT EXISTS (SELECT 1 FROM rm_rating_pending_levels WHERE generation = $1 AND level = $2)`
		if err := tx.GetContext(ctx, &marked, still, gen, p.Level); err != nil {
			return eventstore.Start, fmt.Errorf("pending level %s: %w", p.Level, err)
		}
		if !marked {
			continue // settled by someone else meanwhile
		}
		if err := saveLevelRows(ctx, tx, gen, p.Level, computed[i]); err != nil {
			return eventstore.Start, fmt.Errorf("save ratings of the %s level: %w", p.Level, err)
		}
		saved = append(saved, i)
	}
	if settleLiveSaved != nil {
		settleLiveSaved(ctx, gen)
	}
	st, err := lockActive(ctx, tx, RatingsName)
	if err != nil {
		return eventstore.Start, err
	}
	if st.gen != gen {
		return covered, nil // rolled back: the rebuild settled its generation
	}
	for _, i := range saved {
		p := pending[i]
		const unmark = `WITH gone AS (
	DELETE FROM rm_rating_pending_levels WHERE generation = $1 AND level = $2 AND xmin::text = $3 RETURNING 1
) SELECT EXISTS (SELECT 1 FROM gone) OR EXISTS (SELECT 1 FROM rm_rating_pending_levels WHERE generation = $1 AND level = $2)`
		var mine bool
		if err := tx.QueryRowxContext(ctx, unmark, gen, p.Level, p.Mark).Scan(&mine); err != nil {
			return eventstore.Start, fmt.Errorf("pending level %s: %w", p.Level, err)
		}
		if !mine {
			// Another settle wrote this level after the check above, maybe
			// from a newer snapshot: keep its rows and give up this write;
			// the other levels keep their marks, and the caller retries.
			return eventstore.Start, fmt.Errorf("the %s level: %w", p.Level, errSettledElsewhere)
		}
		// Marked again since the snapshot: what is left to do is newer
		// than the snapshot, so the level is pending since then at most.
		const since = `UPDATE rm_rating_pending_levels SET pending_since = $3
WHERE generation = $1 AND level = $2 AND pending_since < $3`
		if _, err := tx.ExecContext(ctx, since, gen, p.Level, snapshotAt); err != nil {
			return eventstore.Start, fmt.Errorf("pending level %s: %w", p.Level, err)
		}
	}
	return covered, tx.Commit()
}

// errSettledElsewhere: another process settled a level while SettleLive
// wrote it; nothing of that settle was kept and it is worth trying again.
var errSettledElsewhere = errors.New("settled by another process meanwhile")

// settleLiveComputed and settleLiveSaved, when set (tests only), run in
// SettleLive after the levels are computed, before they are written, and
// after they are written, before the projector's row is locked.
var settleLiveComputed, settleLiveSaved func(ctx context.Context, gen int)

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

// refreshDeputies refolds the current state of the given deputies and
// stores them in one statement.
func refreshDeputies(ctx context.Context, tx *sqlx.Tx, gen int, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	hs, err := loadFacts(ctx, tx, ratingFacts, gen, kindDeputy, ids)
	if err != nil {
		return err
	}
	var changed []string
	var versions []int64
	var states [][]byte
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
		changed, versions, states = append(changed, id), append(versions, h.Version), append(states, jsonOf(s))
	}
	if len(changed) == 0 {
		return nil
	}
	const q = `UPDATE rm_rating_deputies d SET version = u.version, state = u.state::jsonb
FROM unnest($2::text[], $3::bigint[], string_to_array($4, E'\n')) AS u(deputy_id, version, state)
WHERE d.generation = $1 AND d.deputy_id = u.deputy_id`
	if _, err := tx.ExecContext(ctx, q, gen, pq.StringArray(changed), pq.Int64Array(versions), jsonLines(states)); err != nil {
		return fmt.Errorf("store deputies: %w", err)
	}
	return nil
}

// fastCompression makes the transaction compress large values (the
// ratings, the deputies' states) with lz4 where the server has it: a level
// is rewritten whole when its ranks move, and pglz costs about a quarter of
// that. The values read back the same.
func fastCompression(ctx context.Context, tx *sqlx.Tx) error {
	const q = `SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings
WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)`
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("compression: %w", err)
	}
	return nil
}

// jsonLines joins JSON documents with newlines, for string_to_array($n,
// E'\n') to split again: compact JSON holds no newline, and unlike a text[]
// parameter the documents need no quoting and unquoting (megabytes of it
// when a level is rewritten).
func jsonLines(docs [][]byte) []byte {
	size := 0
	for _, d := range docs {
		size += len(d) + 1
	}
	out := make([]byte, 0, size)
	for i, d := range docs {
		if i > 0 {
			out = append(out, '\n')
		}
		out = append(out, d...)
	}
	return out
}

// markLevels marks pending, for Settle, the levels whose ratings the batch
// may change: a new method version changes all; a deputy's event changes
// the deputy's level; an indicator's or assessment's event changes the
// levels of the deputies linked to it. One statement finds and marks them
// (a live batch's round trips are most of its time). The deputies' levels
// are theirs from registration (saveIndexes, before), which
// refreshDeputies does not change.
func (b ratingBatch) markLevels(ctx context.Context, tx *sqlx.Tx, gen int) error {
	// DO UPDATE, not DO NOTHING: a new row version (a new xmin) tells
	// SettleLive the level was marked again after it read the mark.
	const mark = `INSERT INTO rm_rating_pending_levels (generation, level) SELECT $1, level FROM (%s) AS l
ON CONFLICT (generation, level) DO UPDATE SET level = EXCLUDED.level`
	if b.allLevels {
		q := fmt.Sprintf(mark, `SELECT DISTINCT level FROM rm_rating_deputies WHERE generation = $1 ORDER BY level`)
		if _, err := tx.ExecContext(ctx, q, gen); err != nil {
			return fmt.Errorf("mark pending levels: %w", err)
		}
		return nil
	}
	if len(b.deputies) == 0 && len(b.indicators) == 0 && len(b.assessments) == 0 {
		return nil
	}
	q := fmt.Sprintf(mark, `SELECT DISTINCT level FROM rm_rating_deputies d WHERE d.generation = $1 AND (
	d.deputy_id = ANY($2)
	OR d.deputy_id IN (SELECT l.person_id FROM rm_rating_links l WHERE l.generation = $1 AND (
		(l.subject_kind = 'indicator' AND l.subject_id = ANY($3))
		OR (l.subject_kind = 'roadmap' AND l.subject_id IN (SELECT roadmap_id FROM rm_rating_indicators WHERE generation = $1 AND indicator_id = ANY($3)))
		OR (l.subject_kind = 'assessment' AND l.subject_id = ANY($4))))
) ORDER BY level`)
	if _, err := tx.ExecContext(ctx, q, gen, pq.StringArray(keys(b.deputies)), pq.StringArray(keys(b.indicators)), pq.StringArray(keys(b.assessments))); err != nil {
		return fmt.Errorf("mark pending levels: %w", err)
	}
	return nil
}

// saveLevel makes the stored ratings of a level equal views, rewriting
// only the rows whose content changed. A row's digest is of its whole
// rating, key included, so the set of stored digests says which views are
// stored already: the rest are upserted, then the rows whose digest no
// view has (gone) are deleted. A row stored by an older version (jsonb
// rating, digest of its JSON) matches no view and is rewritten. The views
// are encoded a chunk at a time in a goroutine, beside the server writing
// the chunk before: neither the whole level's stored ratings nor one
// statement carrying them is ever built (at a million events that one
// statement passed PostgreSQL's 1 GB limit on a message and the server
// dropped the connection).
func saveLevel(ctx context.Context, tx *sqlx.Tx, gen int, level string, views []DeputyRatingView) error {
	maxRows, maxBytes := int(saveChunkRows.Load()), int(saveChunkBytes.Load())
	return saveLevelChunks(ctx, tx, gen, level, func(ctx context.Context) func() ([]levelRow, bool) {
		chunks := make(chan []levelRow, 1)
		go func() {
			defer close(chunks)
			views := views
			for len(views) > 0 {
				n, size := 0, 0
				var rows []levelRow
				for n < len(views) && n < maxRows && size < maxBytes {
					r := levelRowOf(views[n])
					rows = append(rows, r)
					size += len(r.body)
					n++
				}
				views = views[n:]
				select {
				case chunks <- rows:
				case <-ctx.Done():
					return
				}
			}
		}()
		return func() ([]levelRow, bool) {
			rows, ok := <-chunks
			return rows, ok
		}
	})
}

// A level is written in statements of at most saveChunkRows ratings and
// about saveChunkBytes of stored ratings (the last rating may pass it).
// Tests make the chunks tiny (SetRatingSaveChunks).
var saveChunkRows, saveChunkBytes = atomicInt(4000), atomicInt(16 << 20)

func atomicInt(n int64) *atomic.Int64 {
	var a atomic.Int64
	a.Store(n)
	return &a
}

// levelRow is a rating ready to store: its stored form (encodeRating)
// and the digest of it.
type levelRow struct {
	view   DeputyRatingView
	body   []byte
	digest string
}

func levelRowOf(v DeputyRatingView) levelRow {
	body := encodeRating(v)
	sum := sha256.Sum256(body)
	return levelRow{view: v, body: body, digest: hex.EncodeToString(sum[:])}
}

// levelRowsOf encodes views and digests them, work done before the writing
// transaction on the live path (SettleLive).
func levelRowsOf(views []DeputyRatingView) []levelRow {
	rows := make([]levelRow, len(views))
	for i, v := range views {
		rows[i] = levelRowOf(v)
	}
	return rows
}

// saveLevelRows is saveLevel for rows encoded already.
func saveLevelRows(ctx context.Context, tx *sqlx.Tx, gen int, level string, rows []levelRow) error {
	maxRows, maxBytes := int(saveChunkRows.Load()), int(saveChunkBytes.Load())
	return saveLevelChunks(ctx, tx, gen, level, func(context.Context) func() ([]levelRow, bool) {
		rows := rows
		return func() ([]levelRow, bool) {
			if len(rows) == 0 {
				return nil, false
			}
			n, size := 0, 0
			for n < len(rows) && n < maxRows && size < maxBytes {
				size += len(rows[n].body)
				n++
			}
			chunk := rows[:n]
			rows = rows[n:]
			return chunk, true
		}
	})
}

// chunkSource starts yielding a level's rows a chunk at a time (ok false
// at the end); it stops when ctx ends.
type chunkSource func(ctx context.Context) (next func() ([]levelRow, bool))

// saveLevelChunks stores the ratings open yields and deletes the level's
// other rows. A level with no rows stored (a rebuild, a first catch-up)
// is copied in with COPY, which spares the server the arrays and their
// planning. Otherwise the rows whose digest is not stored are upserted a
// chunk at a time, then the rows gone are deleted: the same rows as
// deleting first, since a digest names its key (a changed rating's new
// row replaces its old one in place, and a deleted digest is one no new
// rating has).
func saveLevelChunks(ctx context.Context, tx *sqlx.Tx, gen int, level string, open chunkSource) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stored []string
	if err := sqlx.SelectContext(ctx, tx, &stored, `SELECT digest FROM rm_deputy_ratings WHERE generation = $1 AND level = $2`, gen, level); err != nil {
		return err
	}
	if len(stored) == 0 {
		copied, err := copyLevel(ctx, tx, gen, level, open)
		if err != nil || copied {
			return err
		}
	}
	gone := make(map[string]bool, len(stored))
	for _, d := range stored {
		gone[d] = true
	}
	next := open(ctx)
	for {
		rows, ok := next()
		if !ok {
			break
		}
		if err := upsertLevelRows(ctx, tx, gen, level, rows, gone); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err // the chunks may have stopped early
	}
	digests := keys(gone)
	for len(digests) > 0 {
		n := min(len(digests), 50_000)
		const del = `DELETE FROM rm_deputy_ratings r USING unnest($3::text[]) AS u(digest)
WHERE r.generation = $1 AND r.level = $2 AND r.digest = u.digest`
		if _, err := tx.ExecContext(ctx, del, gen, level, pq.StringArray(digests[:n])); err != nil {
			return err
		}
		digests = digests[n:]
	}
	return nil
}

// copyLevel copies the ratings of a level that has none stored into the
// table. A rating whose key is stored under another level (which the
// upsert would move) makes COPY fail: then nothing is copied, copied is
// false, and the caller upserts.
func copyLevel(ctx context.Context, tx *sqlx.Tx, gen int, level string, open chunkSource) (copied bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := tx.ExecContext(ctx, `SAVEPOINT rating_copy`); err != nil {
		return false, err
	}
	err = copyRows(ctx, tx, gen, level, open(ctx))
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" { // unique_violation
		_, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT rating_copy`)
		return false, err
	}
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT rating_copy`); err != nil {
		return false, err
	}
	return true, nil
}

func copyRows(ctx context.Context, tx *sqlx.Tx, gen int, level string, next func() ([]levelRow, bool)) error {
	const columns = `generation, method, version, period_start, period_end, deputy_id, assembly_id, level,
	rated, score, rank_assembly, rank_level, in_force, provisional, body, digest`
	var rows []levelRow
	gen64 := int64(gen)
	return CopyRows(ctx, tx, "rm_deputy_ratings", columns, func() ([]any, error) {
		for len(rows) == 0 {
			var ok bool
			if rows, ok = next(); !ok {
				return nil, ctx.Err() // the chunks may have stopped early
			}
		}
		row := rows[0]
		rows = rows[1:]
		v := row.view
		return []any{gen64, v.Method, int64(v.Version), v.Period.Start.String(), v.Period.End.String(), v.DeputyID,
			v.AssemblyID, level, v.Rated, floatOrNil(v.Score), intOrNil(v.RankAssembly), intOrNil(v.RankLevel), v.InForce,
			v.Provisional, row.body, row.digest}, nil
	})
}

// upsertLevelRows writes the rows whose digest is not stored, and strikes
// the stored ones off gone.
func upsertLevelRows(ctx context.Context, tx *sqlx.Tx, gen int, level string, rows []levelRow, gone map[string]bool) error {
	var (
		methods, starts, ends, deputies, assemblies, digests []string
		versions, rankA, rankL                               []any
		rated, inForce, provisional                          []bool
		scores                                               []any
		bodies                                               [][]byte
	)
	for _, row := range rows {
		v, body, digest := row.view, row.body, row.digest
		if gone[digest] {
			delete(gone, digest)
			continue
		}
		methods, starts, ends = append(methods, v.Method), append(starts, v.Period.Start.String()), append(ends, v.Period.End.String())
		deputies, assemblies, digests = append(deputies, v.DeputyID), append(assemblies, v.AssemblyID), append(digests, digest)
		bodies = append(bodies, body)
		versions = append(versions, v.Version)
		rated, inForce, provisional = append(rated, v.Rated), append(inForce, v.InForce), append(provisional, v.Provisional)
		scores = append(scores, floatOrNil(v.Score))
		rankA, rankL = append(rankA, intOrNil(v.RankAssembly)), append(rankL, intOrNil(v.RankLevel))
	}
	if len(methods) == 0 {
		return nil
	}
	// ON CONFLICT replaces a changed rating's old row, and guards against a
	// row of the same key under another level.
	const upsert = `INSERT INTO rm_deputy_ratings (generation, method, version, period_start, period_end, deputy_id, assembly_id, level,
	rated, score, rank_assembly, rank_level, in_force, provisional, body, digest)
SELECT $1, u.method, u.version, u.start, u.end_, u.deputy, u.assembly, $2, u.rated, u.score, u.rank_a, u.rank_l, u.in_force,
	u.provisional, u.body, u.digest
FROM unnest($3::text[], $4::int[], $5::date[], $6::date[], $7::text[], $8::text[], $9::bool[], $10::float8[], $11::int[], $12::int[],
	$13::bool[], $14::bool[], $15::bytea[], $16::text[])
	AS u(method, version, start, end_, deputy, assembly, rated, score, rank_a, rank_l, in_force, provisional, body, digest)
ON CONFLICT (generation, method, version, period_start, deputy_id) DO UPDATE SET period_end = EXCLUDED.period_end,
	assembly_id = EXCLUDED.assembly_id, level = EXCLUDED.level, rated = EXCLUDED.rated, score = EXCLUDED.score,
	rank_assembly = EXCLUDED.rank_assembly, rank_level = EXCLUDED.rank_level, in_force = EXCLUDED.in_force,
	provisional = EXCLUDED.provisional, rating = NULL, body = EXCLUDED.body, digest = EXCLUDED.digest`
	_, err := tx.ExecContext(ctx, upsert, gen, level, pq.StringArray(methods), pq.GenericArray{A: versions}, pq.StringArray(starts), pq.StringArray(ends),
		pq.StringArray(deputies), pq.StringArray(assemblies), pq.BoolArray(rated), pq.GenericArray{A: scores}, pq.GenericArray{A: rankA},
		pq.GenericArray{A: rankL}, pq.BoolArray(inForce), pq.BoolArray(provisional), pq.ByteaArray(bodies), pq.StringArray(digests))
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

package projections

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/domain"
	"promiseledger/eventstore"
)

// NewReplay implements Replayer. The page path stores each page's facts,
// then reads back and refolds every deputy the page touched, and computes
// each level at the head from facts it reads back and decodes again. A
// replay keeps instead every fact it applied, decoded, with the deputies
// folded and the indexes, in memory: a page copies its facts (COPY), a
// run writes the index rows it added and the deputies it touched once, at
// its end (Flush), and the run that reaches the head of the log computes
// every level from memory and copies its ratings as they are computed
// (Settle), a period at a time, never holding a whole level's ratings. A
// replay that stops before the head leaves its levels pending, as the page
// path does, for the page path's settle to compute from the stored facts.
func (Ratings) NewReplay(gen int) Replay {
	return &ratingsReplay{gen: gen, history: map[string]map[string]*aggregateHistory{}, folds: map[string]*deputyFolded{},
		deputies: map[string]*ratingDeputy{}, links: map[[3]string]bool{}, indicatorRoadmap: map[string]string{},
		touched: map[string]bool{}}
}

// ratingDeputy is a row of rm_rating_deputies, as its first registration
// makes it (a later one changes nothing, as ON CONFLICT DO NOTHING).
type ratingDeputy struct {
	name, assembly, level string
	stored                bool // an earlier Flush wrote the row
}

// deputyFolded is a deputy's stream folded event by event, as
// refreshDeputies folds it whole.
type deputyFolded struct {
	st      domain.DeputyState
	version int64
}

type ratingsReplay struct {
	gen int
	// history holds every fact applied, decoded, by kind and aggregate id,
	// in stream order: what storedLevels reads back from rm_rating_events.
	history          map[string]map[string]*aggregateHistory
	folds            map[string]*deputyFolded // by deputy stream id
	deputies         map[string]*ratingDeputy // by deputy id
	links            map[[3]string]bool       // person, subject kind, subject id
	indicatorRoadmap map[string]string        // by indicator id: the first roadmap indexed

	// Since the last Flush: index rows to add, deputies whose stream moved.
	newDeputies   []string
	newLinks      [][3]string
	newIndicators []string
	touched       map[string]bool
}

var _ ReplaySettler = (*ratingsReplay)(nil)

// Apply implements Replay: it decodes the page's rating facts, keeps them,
// folds the deputies and indexes they carry, and copies them into
// rm_rating_events (the generation held none of them: see copyInto).
func (r *ratingsReplay) Apply(ctx context.Context, tx *sqlx.Tx, events []eventstore.Recorded) error {
	facts := factsFor(events, r.decodes)
	decode := decoderIn(ctx)
	for _, rec := range events {
		if !r.decodes(rec.Stream) {
			continue
		}
		rec, ev, m, err := decode(rec)
		if err != nil {
			return err
		}
		kind, id := streamKindID(rec.Stream, ratingStreamKinds)
		facts = append(facts, fact{rec: rec, kind: kind, id: id, ev: ev, meta: m})
		byID := r.history[kind]
		if byID == nil {
			byID = map[string]*aggregateHistory{}
			r.history[kind] = byID
		}
		h := byID[id]
		if h == nil {
			h = &aggregateHistory{ID: id}
			byID[id] = h
		}
		h.Version = rec.Version
		h.Events = append(h.Events, domain.Envelope{Event: ev, Meta: m})
		switch e := ev.(type) {
		case domain.DeputyRegistered:
			if r.deputies[e.DeputyID] == nil {
				r.deputies[e.DeputyID] = &ratingDeputy{name: e.DisplayName, assembly: e.Assembly.ID(), level: string(e.Assembly.Level)}
				r.newDeputies = append(r.newDeputies, e.DeputyID)
			}
		case domain.DeputyResponsibilityAssigned:
			r.link(e.DeputyID, string(e.Subject), e.SubjectID)
		case domain.IndicatorAdded:
			if _, ok := r.indicatorRoadmap[e.IndicatorID]; !ok {
				r.indicatorRoadmap[e.IndicatorID] = e.RoadmapID
				r.newIndicators = append(r.newIndicators, e.IndicatorID)
			}
		case domain.AssessmentRecorded:
			for _, p := range e.Respondents {
				r.link(p, kindAssessment, e.AssessmentID)
			}
		}
		if kind == kindDeputy {
			f := folded(r.folds, id)
			if err := f.st.Apply(ev, m); err != nil {
				return fmt.Errorf("fold deputy %s: %w", id, err)
			}
			f.version = rec.Version
			r.touched[id] = true
		}
	}
	return copyFacts(ctx, tx, ratingFacts, r.gen, facts)
}

// decodes implements aheadDecoder: the ratings' facts.
func (*ratingsReplay) decodes(stream string) bool { return streamKind(stream, ratingStreamKinds) != "" }

func (r *ratingsReplay) link(person, kind, subject string) {
	l := [3]string{person, kind, subject}
	if !r.links[l] {
		r.links[l] = true
		r.newLinks = append(r.newLinks, l)
	}
}

// Flush implements Replay: it copies the index rows added since the last
// Flush, writes the deputies whose stream moved (deleting the rows an
// earlier Flush wrote first), and marks every level pending, as the page
// path leaves them until its settle: each level has a deputy, whose
// registration marked it.
func (r *ratingsReplay) Flush(ctx context.Context, tx *sqlx.Tx) error {
	if err := r.flushDeputies(ctx, tx); err != nil {
		return err
	}
	gen := int64(r.gen)
	links := r.newLinks
	if err := CopyInto(ctx, tx, "rm_rating_links", "generation, person_id, subject_kind, subject_id", len(links), func(i int) []any {
		return []any{gen, links[i][0], links[i][1], links[i][2]}
	}); err != nil {
		return fmt.Errorf("index links: %w", err)
	}
	inds := r.newIndicators
	if err := CopyInto(ctx, tx, "rm_rating_indicators", "generation, indicator_id, roadmap_id", len(inds), func(i int) []any {
		return []any{gen, inds[i], r.indicatorRoadmap[inds[i]]}
	}); err != nil {
		return fmt.Errorf("index indicators: %w", err)
	}
	r.newLinks, r.newIndicators = nil, nil
	if levels := r.levels(); len(levels) > 0 {
		const mark = `INSERT INTO rm_rating_pending_levels (generation, level) SELECT $1, unnest($2::text[])
ON CONFLICT (generation, level) DO UPDATE SET level = EXCLUDED.level`
		if _, err := tx.ExecContext(ctx, mark, r.gen, pq.StringArray(levels)); err != nil {
			return fmt.Errorf("mark pending levels: %w", err)
		}
	}
	return nil
}

// flushDeputies writes the rows of the deputies registered or moved since
// the last Flush: the row refreshDeputies leaves, the state of the
// deputy's whole stream (version 0 and an empty state while the stream
// folds to no deputy).
func (r *ratingsReplay) flushDeputies(ctx context.Context, tx *sqlx.Tx) error {
	write := slices.Clone(r.newDeputies)
	var again []string
	for id := range r.touched {
		if d := r.deputies[id]; d != nil && d.stored {
			write = append(write, id)
			again = append(again, id)
		}
	}
	r.newDeputies, r.touched = nil, map[string]bool{}
	if len(again) > 0 {
		const q = `DELETE FROM rm_rating_deputies WHERE generation = $1 AND deputy_id = ANY($2)`
		if _, err := tx.ExecContext(ctx, q, r.gen, pq.StringArray(again)); err != nil {
			return fmt.Errorf("store deputies: %w", err)
		}
	}
	gen := int64(r.gen)
	err := CopyInto(ctx, tx, "rm_rating_deputies", "generation, deputy_id, display_name, assembly_id, level, version, state", len(write),
		func(i int) []any {
			id := write[i]
			d := r.deputies[id]
			version, state := int64(0), "{}"
			if f := r.folds[id]; f != nil && f.st.ID != "" {
				version, state = f.version, string(jsonOf(f.st))
			}
			return []any{gen, id, d.name, d.assembly, d.level, version, state}
		})
	if err != nil {
		return fmt.Errorf("store deputies: %w", err)
	}
	for _, id := range write {
		r.deputies[id].stored = true
	}
	return nil
}

// levels lists the levels of the deputies indexed so far, sorted.
func (r *ratingsReplay) levels() []string {
	set := map[string]bool{}
	for _, d := range r.deputies {
		set[d.level] = true
	}
	return keys(set)
}

// Settle implements ReplaySettler: at the head of the log, it computes
// every level from what the replay holds and copies its ratings into the
// generation, which holds none yet, and clears the pending marks.
func (r *ratingsReplay) Settle(ctx context.Context, tx *sqlx.Tx) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM rm_rating_pending_levels WHERE generation = $1`, r.gen); err != nil {
		return fmt.Errorf("pending levels: %w", err)
	}
	levels := r.levels()
	if len(levels) == 0 {
		return nil
	}
	if err := fastCompression(ctx, tx); err != nil {
		return err
	}
	for _, level := range levels {
		d, err := loadLevelFrom(ctx, r, level, Axes{})
		if err != nil {
			return fmt.Errorf("ratings of the %s level: %w", level, err)
		}
		if err := saveLevelChunks(ctx, tx, r.gen, level, computedChunks(d)); err != nil {
			return fmt.Errorf("save ratings of the %s level: %w", level, err)
		}
	}
	return nil
}

// computedChunks computes the level d holds a period at a time, in a
// goroutine, beside the server writing the chunk before, and yields its
// rows in chunks of at most saveChunkRows ratings and about saveChunkBytes:
// the level's ratings are never all held at once. Each call of the source
// computes the level again.
func computedChunks(d *levelData) chunkSource {
	maxRows, maxBytes := int(saveChunkRows.Load()), int(saveChunkBytes.Load())
	return func(ctx context.Context) func() ([]levelRow, bool) {
		chunks := make(chan []levelRow, 1)
		go func() {
			defer close(chunks)
			var rows []levelRow
			size := 0
			send := func() bool {
				select {
				case chunks <- rows:
					rows, size = nil, 0
					return true
				case <-ctx.Done():
					return false
				}
			}
			d.eachByCut(func() bool { return ctx.Err() != nil }, func(views []DeputyRatingView) {
				encoded := make([]levelRow, len(views))
				inParallel(len(views), func(lo, hi int) {
					for j := lo; j < hi; j++ {
						encoded[j] = levelRowOf(views[j])
					}
				})
				for _, row := range encoded {
					if ctx.Err() != nil {
						return
					}
					rows = append(rows, row)
					size += len(row.body)
					if len(rows) >= maxRows || size >= maxBytes {
						send()
					}
				}
			})
			if len(rows) > 0 && ctx.Err() == nil {
				send()
			}
		}()
		return func() ([]levelRow, bool) {
			rows, ok := <-chunks
			return rows, ok
		}
	}
}

// eachByCut computes the ratings of the level's every method version and
// period, as each does, but in the order of the periods' cuts (then as
// each orders them), calling f with each group's ratings, until stop. It
// holds the indicators' snapshots and the deputies' metrics of one cut at
// a time, and each indicator's fold at the latest cut only (a later cut
// never needs an earlier one), where each keeps those of every cut: at a
// million events they were most of a rebuild's heap. The groups and their
// ratings are the ones each computes; only their order differs.
func (d *levelData) eachByCut(stop func() bool, f func([]DeputyRatingView)) {
	if len(d.deputies) == 0 || d.cut.IsZero() {
		return
	}
	type group struct {
		versions []domain.RatingMethodPublished
		v        domain.RatingMethodPublished
		p        domain.Period
		pc       time.Time
	}
	var groups []group
	for _, name := range keysOf(d.methods) {
		versions := d.methods[name]
		for _, v := range versions {
			for _, p := range v.Formula.Periods(domain.DateOf(d.cut.UTC())) {
				groups = append(groups, group{versions: versions, v: v, p: p, pc: d.periodCut(p)})
			}
		}
	}
	slices.SortStableFunc(groups, func(a, b group) int { return a.pc.Compare(b.pc) })
	ids := keysOf(d.folds)
	folds := make([]indicatorFold, len(ids))
	for i := 0; i < len(groups); {
		pc := groups[i].pc
		// Each worker folds its own indicators (a fold caches what it
		// folded); the map is then filled in one goroutine. metricsIn
		// shares the deputies among workers the same way.
		inParallel(len(ids), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				fo := d.folds[ids[j]]
				folds[j].snap, folds[j].ok = fo.at(pc)
				n := fo.kept(pc)
				for k := range fo.folds {
					if k != n {
						delete(fo.folds, k)
					}
				}
			}
		})
		snaps := make(map[string]*domain.IndicatorSnapshot, len(ids))
		for j, id := range ids {
			if folds[j].ok {
				snaps[id] = &folds[j].snap
			}
		}
		sums := d.roadmapSums(snaps)
		byPeriod := map[domain.Period]map[string]map[domain.MetricSource]domain.MetricValue{}
		for ; i < len(groups) && groups[i].pc.Equal(pc); i++ {
			if stop() {
				return
			}
			g := groups[i]
			m, ok := byPeriod[g.p]
			if !ok {
				m = d.metricsIn(g.p, pc, snaps, sums)
				byPeriod[g.p] = m
			}
			f(d.rate(g.versions, g.v, g.p, pc, m))
		}
	}
	clear(folds)
}

// inParallel uses up to computeWorkers goroutines, for ranges of at least
// parallelMin (tests make it 1, to cross goroutines on small data). The
// items are a level's deputies or indicators, each microseconds of work or
// more (a republican deputy's metrics at a million events, milliseconds):
// 8 of them outweigh starting a goroutine. At 64 the republican level's 82
// deputies were computed on one goroutine, 12.7 s of a 47 s rebuild.
var computeWorkers, parallelMin = atomicInt(int64(max(1, min(runtime.GOMAXPROCS(0), 4)))), atomicInt(8)

// inParallel calls f on contiguous ranges of [0, n) covering it, from up
// to computeWorkers goroutines, and returns when every call has. A panic
// in one of them is raised again in the caller's goroutine once all have
// returned, where the callers' recovery (the router's, an HTTP handler's)
// can catch it, as when f ran there: a panic in a goroutine of its own
// would end the process.
func inParallel(n int, f func(lo, hi int)) {
	workers := min(int(computeWorkers.Load()), n/int(parallelMin.Load()))
	if workers <= 1 {
		f(0, n)
		return
	}
	var (
		wg       sync.WaitGroup
		panicked sync.Once
		raised   any
	)
	step := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += step {
		hi := min(n, lo+step)
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					panicked.Do(func() { raised = p })
				}
			}()
			f(lo, hi)
		})
	}
	wg.Wait()
	if raised != nil {
		panic(raised)
	}
}

// The replay is a levelSource for loadLevelFrom: it answers from memory
// what storedLevels reads from the generation the replay wrote.

func (r *ratingsReplay) levelDeputies(_ context.Context, level string) ([]string, error) {
	var ids []string
	for id, d := range r.deputies {
		if d.level == level {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (r *ratingsReplay) facts(_ context.Context, kind string, ids []string) (map[string]*aggregateHistory, error) {
	out := make(map[string]*aggregateHistory, len(ids))
	for _, id := range ids {
		if h := r.history[kind][id]; h != nil {
			out[id] = h.share()
		}
	}
	return out, nil
}

func (r *ratingsReplay) allFacts(_ context.Context, kind string) (map[string]*aggregateHistory, error) {
	out := make(map[string]*aggregateHistory, len(r.history[kind]))
	for id, h := range r.history[kind] {
		out[id] = h.share()
	}
	return out, nil
}

// share is a copy of h whose events are h's, read-only: appending to them
// (the live cache does, on what it loaded) reallocates.
func (h *aggregateHistory) share() *aggregateHistory {
	return &aggregateHistory{ID: h.ID, Version: h.Version, Events: slices.Clip(h.Events)}
}

func (r *ratingsReplay) roadmapIndicators(_ context.Context, roadmaps []string) ([][2]string, error) {
	want := make(map[string]bool, len(roadmaps))
	for _, rm := range roadmaps {
		want[rm] = true
	}
	var out [][2]string
	for ind, rm := range r.indicatorRoadmap {
		if want[rm] {
			out = append(out, [2]string{ind, rm})
		}
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if c := strings.Compare(a[1], b[1]); c != 0 {
			return c
		}
		return strings.Compare(a[0], b[0])
	})
	return out, nil
}

func (r *ratingsReplay) assessmentsOf(_ context.Context, persons []string) ([]string, error) {
	want := make(map[string]bool, len(persons))
	for _, p := range persons {
		want[p] = true
	}
	set := map[string]bool{}
	for l := range r.links {
		if l[1] == kindAssessment && want[l[0]] {
			set[l[2]] = true
		}
	}
	return keys(set), nil
}

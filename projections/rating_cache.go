package projections

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"promiseledger/domain"
	"promiseledger/eventstore"
)

// The live settle keeps each level it computed in memory: the level's
// folded data and its ratings as stored rows, with the log position they
// cover. The next settle of the level reads only the facts stored since
// (by their position), folds them into the data, and recomputes only the
// method versions and periods those facts can change; the other groups'
// rows are reused as they are. What it hands on is the level's whole set
// of rows, exactly what a computation from scratch gives (the property
// test in rating_cache_test.go checks it).
//
// Which periods a fact can change: every rule of DeputyMetrics, FactionDays
// and the indicators' folds takes a fact into a period's ratings only from
// the fact's effective time on (a period ending before it is unchanged),
// but for activity, which counts in the period containing the end of the
// reported period, whenever it was reported. The current periods are
// recomputed on every settle, their cut being the latest event's time.
// Facts that change what the level reads (a new deputy, a responsibility
// assigned, an indicator added to a roadmap it reads, an assessment, a
// method version) drop the level's data: it is loaded whole again.

// ratingCacheBudget bounds what the cache holds, in approximate bytes
// (facts folded and rows kept); past it the least recently used levels are
// dropped. The demo data set's largest level (district, 115,642 ratings
// of ~1.5 KB each) weighs a few hundred MB by this count.
var ratingCacheBudget = atomicInt(DefaultRatingsCacheBytes)

// DefaultRatingsCacheBytes is the live ratings cache's default bound.
const DefaultRatingsCacheBytes = 1 << 30

// SetRatingsCacheBudget bounds, in approximate bytes, what the live settle
// of the ratings keeps in memory between settles (0 keeps nothing: every
// settle loads its levels whole, as before the cache); it returns the
// previous bound. A lower bound takes effect at the next settle.
func SetRatingsCacheBudget(bytes int64) (previous int64) {
	return ratingCacheBudget.Swap(max(bytes, 0))
}

// ratingCacheMutantDays, when not zero (tests only), moves the time each
// fact is taken to change ratings from that many days later: a wrong rule
// that skips the earliest period a fact changes, for the property test to
// catch.
var ratingCacheMutantDays atomic.Int64

// ratingCacheFolds and ratingCacheLoads count the live settles of a level
// that folded new facts into the kept level and those that loaded it
// whole (tests read them).
var ratingCacheFolds, ratingCacheLoads atomic.Int64

// levelKey names a level of a generation in one database (tests run many
// databases in one process; see databaseOf).
type levelKey struct {
	db    string
	gen   int
	level string
}

// databaseOf names the database q reads: a cache key, so that a level kept
// for one database is never used for another.
func databaseOf(ctx context.Context, q sqlx.QueryerContext) (string, error) {
	if name, ok := ctx.Value(databaseKeyCtx{}).(string); ok {
		return name, nil // read by lockActive in the same transaction
	}
	var name string
	if err := sqlx.GetContext(ctx, q, &name, databaseKeyQuery); err != nil {
		return "", fmt.Errorf("database name: %w", err)
	}
	return name, nil
}

// databaseKeyQuery is the database's name and OID and the server's start
// time: a database dropped and created again, a restore (which restarts
// the server), a fail-over to another server, or two clusters reached over
// sockets all give another key, so a state kept from one is never folded
// on with the facts of another.
const databaseKeyQuery = `SELECT d.datname || '/' || d.oid::text || '@' || pg_postmaster_start_time()::text FROM pg_database d WHERE d.datname = current_database()`

type databaseKeyCtx struct{}

// withDatabaseKey hands databaseOf the key a batch's lockActive read.
func withDatabaseKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, databaseKeyCtx{}, key)
}

type levelCache struct {
	pos  eventstore.Position
	d    *levelData
	rows map[periodKey][]levelRow
	// order lists the groups in the order of the level's rows.
	order []periodKey
	// cut is the level's cut when rows were computed.
	cut  time.Time
	cost int64
	used uint64
}

type ratingCache struct {
	mu      sync.Mutex
	levels  map[levelKey]*levelCache
	clock   uint64
	holding int64
}

var liveRatings = &ratingCache{levels: map[levelKey]*levelCache{}}

// take removes a level from the cache for the caller to use and put back:
// two settles never share one level's data.
func (c *ratingCache) take(k levelKey) *levelCache {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.levels[k]
	if e != nil {
		delete(c.levels, k)
		c.holding -= e.cost
	}
	return e
}

// put keeps e unless a newer computation of the level is kept already, and
// drops levels of other generations and, past the budget, the least
// recently used ones.
func (c *ratingCache) put(k levelKey, e *levelCache) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.levels[k]; old != nil {
		if e.pos.Less(old.pos) {
			return
		}
		c.holding -= old.cost
	}
	for ok := range c.levels {
		if ok.db == k.db && ok.gen != k.gen {
			c.holding -= c.levels[ok].cost
			delete(c.levels, ok)
		}
	}
	c.clock++
	e.used = c.clock
	c.levels[k] = e
	c.holding += e.cost
	for c.holding > ratingCacheBudget.Load() && len(c.levels) > 0 {
		var oldest levelKey
		var at uint64
		first := true
		for lk, le := range c.levels {
			if first || le.used < at {
				oldest, at, first = lk, le.used, false
			}
		}
		c.holding -= c.levels[oldest].cost
		delete(c.levels, oldest)
	}
}

// forget drops every level (tests).
func (c *ratingCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.levels = map[levelKey]*levelCache{}
	c.holding = 0
}

// liveLevelRows computes the rows of a level as of covered, the checkpoint
// of the snapshot q (a transaction of db) reads, reusing what the cache
// holds.
func liveLevelRows(ctx context.Context, db string, q sqlx.QueryerContext, gen int, level string, covered eventstore.Position) ([]levelRow, error) {
	k := levelKey{db, gen, level}
	e := liveRatings.take(k)
	from := time.Time{} // recompute every period
	if e != nil && covered.Less(e.pos) {
		// The cache is ahead of this snapshot: a concurrent settle, or a
		// log that went back (a restore). Drop it and compute from
		// scratch; the next settle keeps a level again.
		views, err := computeLevel(ctx, q, gen, level, Axes{})
		return levelRowsOf(views), err
	}
	if e != nil && e.pos != covered {
		facts, complete, err := factsSince(ctx, q, gen, e.pos, covered)
		if err != nil {
			return nil, err
		}
		var ok bool
		if !complete {
			e = nil // so much is new that a whole load costs less
		} else if from, ok = e.fold(level, facts); !ok {
			e = nil
		} else {
			ratingCacheFolds.Add(1)
		}
	} else if e != nil {
		// Nothing new since (a settle whose write failed, a level marked
		// again by facts of the same snapshot): the kept rows stand.
		var rows []levelRow
		for _, g := range e.order {
			rows = append(rows, e.rows[g]...)
		}
		liveRatings.put(k, e)
		return rows, nil
	}
	if e == nil {
		d, err := loadLevel(ctx, q, gen, level, Axes{})
		if err != nil {
			return nil, err
		}
		e, from = &levelCache{d: d}, time.Time{}
		ratingCacheLoads.Add(1)
	}
	rows := e.compute(from)
	e.pos = covered
	liveRatings.put(k, e)
	return rows, nil
}

var endOfTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// compute recomputes the groups whose period ends at or after from, or
// after the cut the kept rows had, and returns the level's rows.
func (e *levelCache) compute(from time.Time) []levelRow {
	oldCut := e.cut // the facts folded since moved e.d.cut already
	keep := func(k periodKey) bool {
		end := domain.EndOfPeriod(k.period)
		_, ok := e.rows[k]
		return ok && end.Before(from) && !end.After(oldCut)
	}
	rows := map[periodKey][]levelRow{}
	var order []periodKey
	var out []levelRow
	e.d.each(keep, func(k periodKey, views []DeputyRatingView) {
		r := e.rows[k]
		if views != nil || r == nil {
			r = levelRowsOf(views)
			// A row keeps its rating encoded (body): the components
			// are not needed again and would double the row's weight.
			for i := range r {
				r[i].view.Components = nil
			}
		}
		rows[k] = r
		order = append(order, k)
		out = append(out, r...)
	})
	e.rows, e.order, e.cut = rows, order, e.d.cut
	e.cost = int64(e.d.facts) * 1024
	for _, r := range out {
		e.cost += int64(len(r.body)) + 256
	}
	return out
}

// storedFact is one fact read back by position.
type storedFact struct {
	kind, id string
	version  int64
	env      domain.Envelope
}

// factsSinceMax bounds what factsSince reads: past it (a level not
// settled while many facts of the generation were stored) complete is
// false and the level is loaded whole, which reads only its own facts.
var factsSinceMax = atomicInt(50_000)

// factsSince reads the facts stored after position after up to covered,
// in the order of the log; complete is false, and facts nil, when there
// are more than factsSinceMax.
func factsSince(ctx context.Context, q sqlx.QueryerContext, gen int, after, covered eventstore.Position) (facts []storedFact, complete bool, err error) {
	const sel = `SELECT kind, aggregate_id, version, type, data, metadata FROM rm_rating_events
WHERE generation = $1 AND (position_commit, position_prepare) > ($2, $3) AND (position_commit, position_prepare) <= ($4, $5)
ORDER BY position_commit, position_prepare LIMIT $6`
	limit := factsSinceMax.Load()
	rows, err := q.QueryxContext(ctx, sel, gen, int64(after.Commit), int64(after.Prepare), int64(covered.Commit), int64(covered.Prepare), limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("facts since %v: %w", after, err)
	}
	defer rows.Close()
	var out []storedFact
	for rows.Next() {
		if int64(len(out)) == limit {
			return nil, false, nil
		}
		var (
			f          storedFact
			typ        string
			data, meta []byte
		)
		if err := rows.Scan(&f.kind, &f.id, &f.version, &typ, &data, &meta); err != nil {
			return nil, false, err
		}
		ev, m, err := decodeFact(typ, data, meta)
		if err != nil {
			return nil, false, fmt.Errorf("%s version %d: %w", f.id, f.version, err)
		}
		f.env = domain.Envelope{Event: ev, Meta: m}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// fold folds new facts into the level's data and returns the earliest time
// they can change a rating from; ok is false when the level must be loaded
// whole again (see the comment at the top).
func (e *levelCache) fold(level string, facts []storedFact) (from time.Time, ok bool) {
	d := e.d
	from = endOfTime
	touched := map[string]bool{}
	for _, f := range facts {
		at := effective(f.env)
		switch f.kind {
		case kindMethod:
			return time.Time{}, false
		case kindAssessment:
			if d.assessmentIDs[f.id] {
				return time.Time{}, false
			}
			if a, isNew := f.env.Event.(domain.AssessmentRecorded); isNew {
				for _, p := range a.Respondents {
					if d.ids[p] {
						return time.Time{}, false
					}
				}
			}
			continue
		case kindDeputy:
			if r, isNew := f.env.Event.(domain.DeputyRegistered); isNew && string(r.Assembly.Level) == level {
				return time.Time{}, false
			}
			if !d.ids[f.id] {
				continue
			}
			if _, assigned := f.env.Event.(domain.DeputyResponsibilityAssigned); assigned {
				return time.Time{}, false
			}
			v, known := d.deputyVersions[f.id]
			if !known || f.version != v+1 {
				return time.Time{}, false
			}
			i := slices.IndexFunc(d.deputies, func(s domain.DeputyState) bool { return s.ID == f.id })
			if i < 0 {
				return time.Time{}, false
			}
			s := &d.deputies[i]
			if err := s.Apply(f.env.Event, f.env.Meta); err != nil {
				return time.Time{}, false // a full load reports the error
			}
			d.deputyVersions[f.id] = f.version
			switch ev := f.env.Event.(type) {
			case domain.DeputyActivityReported:
				at = earlier(at, startOfDay(ev.Period.End))
			case domain.DeputyActivityCorrected:
				if j := slices.IndexFunc(s.Activity, func(r domain.ActivityReport) bool { return r.ID == ev.ReportID }); j >= 0 {
					at = earlier(at, startOfDay(s.Activity[j].Period.End))
				}
			}
		case kindIndicator:
			if added, isNew := f.env.Event.(domain.IndicatorAdded); isNew && d.roadmaps[added.RoadmapID] {
				return time.Time{}, false // the roadmap's list of indicators grows
			}
			if !d.direct[f.id] {
				continue
			}
			h := d.indicators[f.id]
			if h == nil {
				h = &aggregateHistory{ID: f.id}
				d.indicators[f.id] = h
			}
			if f.version != h.Version+1 {
				return time.Time{}, false
			}
			h.Version = f.version
			h.Events = append(h.Events, f.env)
			touched[f.id] = true
		default:
			continue
		}
		d.facts++
		at = at.AddDate(0, 0, int(ratingCacheMutantDays.Load()))
		from = earlier(from, at)
		if eff := effective(f.env); eff.After(d.cut) {
			d.cut = eff
		}
	}
	for id := range touched {
		d.folds[id] = newIndicatorFolds(d.indicators[id], Axes{})
	}
	return from, true
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func startOfDay(d domain.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

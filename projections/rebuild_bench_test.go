package projections_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/commands"
	"promiseledger/commands/batch"
	"promiseledger/commands/councildemo"
	"promiseledger/commands/demo"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// BenchmarkRebuildDemoShaped fills the store with the demo's data set (the
// roadmap demo and the councils demo, every event type in the demo's
// proportions) at REBUILD_SCALE (default 1: the ~111,000 events `ledger
// dev` loads; 27 gives 992,681: above 1 the roadmap demo and the councils
// grow, the deputies' activity does not), written through the command
// handlers' batch path, then rebuilds every read model from the first
// event and reports each projector's events/s beside the raw read+upsert
// ceiling measured in the same run, and the total (REBUILD_ONLY: a comma-separated list of the
// projectors to rebuild, all by default; REBUILD_CPUPROFILE: a folder for a CPU profile of each
// projector's rebuild; REBUILD_CATCHUP=1 then also empties the replaying
// ones' active generations and catches them up together, as a first start does). It runs only with
// -bench (see docs/performance.md):
//
//	REBUILD_SCALE=27 go test -run '^$' -bench RebuildDemoShaped -benchtime 1x -timeout 3h ./projections
func BenchmarkRebuildDemoShaped(b *testing.B) {
	scale, err := strconv.ParseFloat(benchEnv("REBUILD_SCALE", "1"), 64)
	if err != nil || scale <= 0 {
		b.Fatalf("REBUILD_SCALE: want a positive number")
	}
	ctx := context.Background()
	e := newEnv(b)
	if _, err := e.db.Exec(rawProjection); err != nil {
		b.Fatal(err)
	}
	events, written := fillDemoShaped(b, e, scale)
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(float64(events)/written.Seconds(), "write-events/s")
	if _, err := e.db.ExecContext(ctx, `VACUUM ANALYZE events`); err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		raw := rawCatchUp(b, e.db)
		rawTime := time.Since(start)
		b.ReportMetric(float64(raw)/rawTime.Seconds(), "raw-events/s")
		for _, p := range projections.All() {
			if only := benchEnv("REBUILD_ONLY", ""); only != "" && !slices.Contains(strings.Split(only, ","), p.Name()) {
				continue
			}
			stopProfile := profileRebuild(b, p.Name())
			start := time.Now()
			var spent time.Duration
			peak := peakHeap(func() {
				if _, err := projections.Rebuild(ctx, e.db, e.store, p); err != nil {
					b.Fatal(err)
				}
				spent = time.Since(start)
			})
			stopProfile()
			total += spent
			b.ReportMetric(float64(events)/spent.Seconds(), p.Name()+"-events/s")
			b.ReportMetric(rawTime.Seconds()/spent.Seconds(), p.Name()+"-ratio")
			b.ReportMetric(float64(peak)/(1<<20), p.Name()+"-peak-heap-MiB")
			b.Logf("%s: %d events in %s (%.0f events/s, %.2f of the raw ceiling), peak heap %.0f MiB", p.Name(), events, spent.Round(time.Millisecond),
				float64(events)/spent.Seconds(), rawTime.Seconds()/spent.Seconds(), float64(peak)/(1<<20))
		}
		b.Logf("raw read+upsert: %d events in %s (%.0f events/s)", raw, rawTime.Round(time.Millisecond), float64(raw)/rawTime.Seconds())
		if benchEnv("REBUILD_TOGETHER", "") != "" {
			rebuildTogether(b, e, events, rawTime)
		}
		if benchEnv("REBUILD_CATCHUP", "") != "" {
			firstCatchUp(b, e, events)
		}
	}
	b.StopTimer()
	b.ReportMetric(total.Seconds()/float64(b.N), "s/all-rebuilt")
	b.Logf("every read model rebuilt in %s", (total / time.Duration(b.N)).Round(time.Millisecond))
	b.ReportMetric(0, "ns/op")
}

// profileRebuild starts, when REBUILD_CPUPROFILE names a folder, a CPU
// profile of one projector's rebuild, written to NAME.cpu.prof there, and
// returns what stops it: a profile of the whole benchmark would be mostly
// the fill. It writes the allocation profile before and after the rebuild
// too (NAME.allocs-before.prof, NAME.allocs-after.prof: go tool pprof
// -diff_base before after gives the rebuild's allocations).
func profileRebuild(b *testing.B, name string) func() {
	dir := benchEnv("REBUILD_CPUPROFILE", "")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, name+".cpu.prof"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	allocs := func(suffix string) {
		runtime.GC()
		f, err := os.Create(filepath.Join(dir, name+suffix))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			b.Fatal(err)
		}
	}
	allocs(".allocs-before.prof")
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		allocs(".allocs-after.prof")
	}
}

// rebuildTogether rebuilds every read model (REBUILD_ONLY's) at once, each
// in its own goroutine (`ledger projections rebuild all` runs them in turn,
// which this measured faster), and reports the time until the last one is
// active.
func rebuildTogether(b *testing.B, e *env, events int, rawTime time.Duration) {
	b.Helper()
	ctx := context.Background()
	var ps []projections.Projector
	for _, p := range projections.All() {
		if only := benchEnv("REBUILD_ONLY", ""); only == "" || slices.Contains(strings.Split(only, ","), p.Name()) {
			ps = append(ps, p)
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(ps))
	took := make([]time.Duration, len(ps))
	peak := peakHeap(func() {
		for i, p := range ps {
			wg.Go(func() {
				_, errs[i] = projections.Rebuild(ctx, e.db, e.store, p)
				took[i] = time.Since(start)
			})
		}
		wg.Wait()
	})
	spent := time.Since(start)
	for i, p := range ps {
		if errs[i] != nil {
			b.Fatalf("%s: %v", p.Name(), errs[i])
		}
		b.Logf("together: %s active after %s", p.Name(), took[i].Round(time.Millisecond))
	}
	b.ReportMetric(spent.Seconds(), "s/all-together")
	b.ReportMetric(rawTime.Seconds()/spent.Seconds(), "together-ratio")
	b.Logf("every read model rebuilt at once in %s (%.0f events/s, %.2f of the raw ceiling), peak heap %.0f MiB", spent.Round(time.Millisecond),
		float64(events)/spent.Seconds(), rawTime.Seconds()/spent.Seconds(), float64(peak)/(1<<20))
}

// firstCatchUp empties the active generation of every replaying projector
// rebuilt above and catches them up together, as the first start of
// `ledger dev` does (one shared reading of the log), and logs when each
// one finished.
func firstCatchUp(b *testing.B, e *env, events int) {
	b.Helper()
	ctx := context.Background()
	var ps []projections.Projector
	for _, p := range projections.All() {
		if _, ok := p.(projections.Replayer); !ok {
			continue
		}
		if only := benchEnv("REBUILD_ONLY", ""); only != "" && !slices.Contains(strings.Split(only, ","), p.Name()) {
			continue
		}
		tx, err := e.db.BeginTxx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		var gen int
		if err := tx.Get(&gen, `SELECT active_generation FROM projectors WHERE name = $1`, p.Name()); err != nil {
			b.Fatal(err)
		}
		if err := p.Reset(ctx, tx, gen); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`UPDATE projector_checkpoints SET position_commit = 0, position_prepare = 0, events_total = 0, last_stored_at = NULL
WHERE name = $1 AND generation = $2`, p.Name(), gen); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	if _, err := e.db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := projections.CatchUpEach(ctx, e.db, e.store, ps, func(c projections.CaughtUp) {
		b.Logf("first catch-up, together: %s done after %s", c.Name, time.Since(start).Round(time.Millisecond))
	}); err != nil {
		b.Fatal(err)
	}
	spent := time.Since(start)
	b.ReportMetric(spent.Seconds(), "s/first-catch-up")
	b.Logf("first catch-up of %d replaying projectors together: %d events each in %s", len(ps), events, spent.Round(time.Millisecond))
}

// fillDemoShaped writes the demo data sets at scale through the command
// handlers into overlays, then into the store in transactions of about
// 50,000 events, in the order the commands made them. It returns the
// events written and the time the writing took. Each transaction is one
// AppendAll (one COPY), as `ledger dev` writes its demo.
func fillDemoShaped(b *testing.B, e *env, scale float64) (int, time.Duration) {
	b.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	roadmaps := batch.New(batch.NoHistory{}, func() time.Time { return now })
	cfg := demo.Config{Seed: 2021, Now: now, Scale: scale, AnyScale: true, Workers: runtime.GOMAXPROCS(0)}
	if _, err := demo.Load(ctx, roadmaps, cfg); err != nil {
		b.Fatal(err)
	}
	desc, err := demo.Describe(cfg)
	if err != nil {
		b.Fatal(err)
	}
	councils := batch.New(roadmaps, func() time.Time { return now })
	h, err := commands.New(commands.Deps{Store: councils, Clock: func() time.Time { return now.Add(time.Hour) }, Decoded: commands.NewDecodeCache()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := councildemo.Load(ctx, h, councildemo.Config{Seed: 2021, Now: now, Scale: scale, AnyScale: true, Demo: &desc}); err != nil {
		b.Fatal(err)
	}
	log := append(roadmaps.Log(), councils.Log()...)
	n := batch.Events(log)
	b.Logf("planned %d events (%d appends) in %s", n, len(log), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	for len(log) > 0 {
		var chunk []postgres.StreamAppend
		for size := 0; size < 50_000 && len(log) > 0; log = log[1:] {
			a := log[0]
			chunk = append(chunk, postgres.StreamAppend{Stream: a.Stream, Expected: eventstore.Exactly(a.Expected), Events: a.Events})
			size += len(a.Events)
		}
		if err := e.store.AppendAll(ctx, chunk); err != nil {
			b.Fatal(err)
		}
	}
	written := time.Since(start)
	b.Logf("wrote %d events in %s (%.0f events/s)", n, written.Round(time.Millisecond), float64(n)/written.Seconds())
	return n, written
}

// BenchmarkLagAllProjectors appends one progress report every 2 ms (500/s)
// for 10 s to the demo's measures with every projector of the ledger
// (the transparency log's included unless LAG_TRANSLOG=0) running on the
// demo data set, and reports the time from an append's
// return to its commit in each read model: median and p99 over all of
// them, and the worst projector's p99; for the ratings both the lag of
// their facts and the lag until the recomputed ratings include the event.
// LAG_WORKERS=n computes the ratings on at most n goroutines (default: up
// to GOMAXPROCS, at most 4).
func BenchmarkLagAllProjectors(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(b)
	if w := benchEnv("LAG_WORKERS", ""); w != "" {
		n, _ := strconv.Atoi(w)
		defer projections.SetComputeParallel(int64(n), 8)()
	}
	fillDemoShaped(b, e, 1)
	// Every projector `ledger serve` runs, the transparency log's too
	// (LAG_TRANSLOG=0 leaves it out, as the benchmark did before).
	lagProjectors := projections.All()
	if benchEnv("LAG_TRANSLOG", "1") != "0" {
		if err := translog.Migrate(ctx, e.db); err != nil {
			b.Fatal(err)
		}
		lagProjectors = append(lagProjectors, translog.Projector{})
	}
	if _, err := projections.CatchUp(ctx, e.db, e.store, lagProjectors); err != nil {
		b.Fatal(err)
	}
	var indicators []string
	if err := e.db.SelectContext(ctx, &indicators, `SELECT indicator_id FROM rm_indicators WHERE status NOT IN ('done', 'cancelled') ORDER BY indicator_id LIMIT 2000`); err != nil {
		b.Fatal(err)
	}
	if len(indicators) == 0 {
		b.Fatal("no open measure to report on")
	}
	var mu sync.Mutex
	appended := map[uuid.UUID]time.Time{}
	early := map[string]map[uuid.UUID]bool{}
	lags := map[string][]time.Duration{}
	// The ratings store an event's facts with its batch (Applied) and
	// recompute the levels it feeds apart (Settled): "ratings.v1 recomputed"
	// is the lag until the ratings served include the event.
	const recomputed = projections.RatingsName + " recomputed"
	type sent struct {
		pos eventstore.Position
		at  time.Time
	}
	var queue []sent // appended, not yet covered by a settle
	var covered eventstore.Position
	r, err := projections.NewRouterWithConfig(ctx, projections.RouterConfig{DB: e.db, Store: e.store, Projectors: lagProjectors,
		Settled: func(name string, pos eventstore.Position) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if covered.Less(pos) {
				covered = pos
			}
			for len(queue) > 0 && !covered.Less(queue[0].pos) {
				lags[recomputed] = append(lags[recomputed], now.Sub(queue[0].at))
				queue = queue[1:]
			}
		},
		Applied: func(name string, events []eventstore.Recorded) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range events {
				if t, ok := appended[ev.ID]; ok {
					lags[name] = append(lags[name], now.Sub(t))
				} else {
					if early[name] == nil {
						early[name] = map[uuid.UUID]bool{}
					}
					early[name][ev.ID] = true // visible before Append even returned
				}
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-r.Running()
	const perRun = 5000
	at := time.Now().UTC()
	b.ResetTimer()
	for run := range b.N {
		tick := time.NewTicker(2 * time.Millisecond)
		for i := range perRun {
			<-tick.C
			ind := indicators[(run*perRun+i)%len(indicators)]
			id := uuid.Must(uuid.NewV7())
			typ, data, meta, err := domain.Encode(domain.ProgressReported{IndicatorID: ind, ReportID: id.String(), Reading: domain.Reading{Value: f(1)},
				AsOf: at, Evidence: domain.Evidence{URL: "https://roadmaps.example.kz/r/" + id.String()}},
				domain.Meta{EventID: id, ActorID: "bench", ActorRole: "officer", EffectiveAt: at, RecordedAt: time.Now().UTC()})
			if err != nil {
				b.Fatal(err)
			}
			res, err := e.store.Append(ctx, domain.IndicatorStream(ind), eventstore.Any(), []eventstore.Event{{ID: id, Type: typ, Data: data, Metadata: meta}})
			if err != nil {
				b.Fatal(err)
			}
			mu.Lock()
			appended[id] = time.Now()
			if covered.Less(res.Last) {
				queue = append(queue, sent{res.Last, appended[id]})
			} else {
				lags[recomputed] = append(lags[recomputed], 0)
			}
			for name, seen := range early {
				if seen[id] {
					lags[name] = append(lags[name], 0)
				}
			}
			mu.Unlock()
		}
		tick.Stop()
	}
	want := perRun * b.N
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		complete := len(lags) == len(lagProjectors)+1
		for _, l := range lags {
			complete = complete && len(l) >= want
		}
		mu.Unlock()
		if complete || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	var all []time.Duration
	worst := time.Duration(0)
	var names []string
	for _, p := range lagProjectors {
		names = append(names, p.Name())
	}
	for _, name := range append(names, recomputed) {
		l := lags[name]
		if len(l) < want {
			b.Errorf("%s: only %d of %d events reached the read model", name, len(l), want)
			continue
		}
		slices.Sort(l)
		p99 := l[len(l)*99/100]
		worst = max(worst, p99)
		b.Logf("%s: lag median %s, p99 %s", name, l[len(l)/2].Round(time.Millisecond/10), p99.Round(time.Millisecond/10))
		b.ReportMetric(ms(p99), strings.ReplaceAll(name, " ", "-")+"-p99-ms")
		all = append(all, l...)
	}
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	b.ReportMetric(ms(all[len(all)/2]), "median-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
	b.ReportMetric(ms(worst), "worst-p99-ms")
	b.ReportMetric(0, "ns/op")
}

// peakHeap runs f and returns the largest live heap (bytes in heap
// objects, garbage included) seen every 20 ms while it ran, less the heap
// before it started.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	done := make(chan struct{})
	var peak uint64
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				done <- struct{}{}
				return
			case <-tick.C:
			}
		}
	}()
	f()
	done <- struct{}{}
	<-done
	if peak < base {
		return 0
	}
	return peak - base
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

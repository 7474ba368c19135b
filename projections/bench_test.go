package projections_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/projections"
)

// benchEvents writes n indicator events (each indicator: added, then
// progress reports) through the store in batches of 1,000.
func benchEvents(b *testing.B, e *env, n, perIndicator int) {
	b.Helper()
	ctx := context.Background()
	roadmap := uuid.Must(uuid.NewV7()).String()
	at := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	var batch []eventstore.Event
	var stream string
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := e.store.Append(ctx, stream, eventstore.NoStream(), batch); err != nil {
			b.Fatal(err)
		}
		batch = nil
	}
	for written := 0; written < n; {
		id := uuid.Must(uuid.NewV7()).String()
		stream = domain.IndicatorStream(id)
		for k := 0; k < perIndicator && written < n; k++ {
			var ev domain.Event
			if k == 0 {
				ev = domain.IndicatorAdded{IndicatorID: id, RoadmapID: roadmap, Title: text("Build schools"), Kind: domain.KindNumeric,
					Baseline: f(0), Target: f(100), Unit: text("schools"), Direction: "increase", Deadline: domain.NewDate(2025, 12, 31), Weight: 1}
			} else {
				rid := uuid.Must(uuid.NewV7())
				ev = domain.ProgressReported{IndicatorID: id, ReportID: rid.String(), Reading: domain.Reading{Value: f(float64(k * 10))},
					AsOf: at.AddDate(0, 0, k), Evidence: domain.Evidence{URL: "https://roadmaps.example.kz/r/" + rid.String()}}
			}
			m := domain.Meta{EventID: uuid.Must(uuid.NewV7()), ActorID: "bench", ActorRole: "officer",
				EffectiveAt: at.AddDate(0, 0, k), RecordedAt: at.AddDate(0, 0, k+1)}
			if k > 0 {
				if r, ok := ev.(domain.ProgressReported); ok {
					r.ReportID = m.EventID.String()
					ev = r
				}
			}
			typ, data, meta, err := domain.Encode(ev, m)
			if err != nil {
				b.Fatal(err)
			}
			batch = append(batch, eventstore.Event{ID: m.EventID, Type: typ, Data: data, Metadata: meta})
			written++
		}
		flush()
	}
}

const rawProjection = `CREATE TABLE raw_projection (id uuid PRIMARY KEY, stream text NOT NULL, version bigint NOT NULL, data bytea NOT NULL);
CREATE TABLE raw_checkpoint (name text PRIMARY KEY, pos bigint NOT NULL);
INSERT INTO raw_checkpoint VALUES ('raw', 0);`

// rawCatchUp is the ceiling: the log read in keyset pages of
// rawPageSize events in global order (tx_id, seq), as the event store
// reads it, each page upserted as one row per event by one plain
// statement, plus the checkpoint, one transaction per page. (It once
// paged on seq alone, which no index serves: every page sorted the whole
// table, and the "ceiling" fell to ~600 events/s at 111,000 events.)
func rawCatchUp(b *testing.B, db *sqlx.DB) int {
	b.Helper()
	ctx := context.Background()
	n, lastTx, lastSeq := 0, "0", int64(0)
	for {
		var page []struct {
			Tx      string    `db:"tx_text"`
			Seq     int64     `db:"seq"`
			ID      uuid.UUID `db:"event_id"`
			Stream  string    `db:"stream_id"`
			Version int64     `db:"version"`
			Data    []byte    `db:"data"`
			Meta    []byte    `db:"metadata"`
		}
		if err := db.SelectContext(ctx, &page, `SELECT tx_id::text AS tx_text, seq, event_id, stream_id, version, data, metadata FROM events
WHERE (tx_id, seq) > ($1::text::xid8, $2::bigint) ORDER BY tx_id, seq LIMIT $3`, lastTx, lastSeq, rawPageSize); err != nil {
			b.Fatal(err)
		}
		if len(page) == 0 {
			return n
		}
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`) //nolint:errcheck
		ids, streams, versions, data := make([]string, len(page)), make([]string, len(page)), make([]int64, len(page)), make([][]byte, len(page))
		for i, r := range page {
			ids[i], streams[i], versions[i], data[i] = r.ID.String(), r.Stream, r.Version, r.Data
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO raw_projection SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bytea[])
ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`, pq.StringArray(ids), pq.StringArray(streams), pq.Int64Array(versions), pq.ByteaArray(data)); err != nil {
			b.Fatal(err)
		}
		lastTx, lastSeq = page[len(page)-1].Tx, page[len(page)-1].Seq
		if _, err := tx.ExecContext(ctx, `UPDATE raw_checkpoint SET pos = $1`, lastSeq); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		n += len(page)
	}
}

// rawPageSize is the raw ceiling's page: a replay's (projections.ReplayPageSize).
const rawPageSize = projections.ReplayPageSize

// BenchmarkCatchUp rebuilds the indicators read model from the first of
// BENCH_EVENTS events (1,000,000 by default; 10 per indicator) beside the
// raw ceiling, and reports both rates and their ratio.
func BenchmarkCatchUp(b *testing.B) {
	n := benchSize(b)
	e := newEnv(b)
	if _, err := e.db.Exec(rawProjection); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	benchEvents(b, e, n, 10)
	b.Logf("wrote %d events in %s", n, time.Since(start).Round(time.Millisecond))
	if _, err := e.db.Exec(`VACUUM ANALYZE events`); err != nil {
		b.Fatal(err)
	}
	ensure(b, e.db, projections.Indicators{})
	ctx := context.Background()
	var storeTime, rawTime time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := projections.Rebuild(ctx, e.db, e.store, projections.Indicators{}); err != nil {
			b.Fatal(err)
		}
		storeTime += time.Since(start)
		if _, err := e.db.Exec(`TRUNCATE raw_projection; UPDATE raw_checkpoint SET pos = 0`); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if got := rawCatchUp(b, e.db); got != n {
			b.Fatalf("raw catch-up read %d events, want %d", got, n)
		}
		rawTime += time.Since(start)
	}
	if got := applied(b, e.db, projections.IndicatorsName); got != int64(n) {
		b.Fatalf("projector applied %d events, want %d", got, n)
	}
	total := float64(b.N * n)
	b.ReportMetric(total/storeTime.Seconds(), "projector-events/s")
	b.ReportMetric(total/rawTime.Seconds(), "raw-events/s")
	b.ReportMetric(rawTime.Seconds()/storeTime.Seconds(), "ratio")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkLag appends one event every 2 ms (500/s) for 10 s with the
// projections router running, and reports the time from an append's return
// to its commit in the indicators read model: median and p99.
func BenchmarkLag(b *testing.B) {
	e := newEnv(b)
	var mu sync.Mutex
	appended := map[uuid.UUID]time.Time{}
	early := map[uuid.UUID]bool{}
	var lags []time.Duration
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := projections.NewRouterWithConfig(ctx, projections.RouterConfig{DB: e.db, Store: e.store, Projectors: []projections.Projector{projections.Indicators{}},
		Applied: func(name string, events []eventstore.Recorded) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range events {
				if t, ok := appended[ev.ID]; ok {
					lags = append(lags, now.Sub(t))
				} else {
					early[ev.ID] = true // visible before Append even returned
				}
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-r.Running()
	b.ResetTimer()
	for range b.N {
		tick := time.NewTicker(2 * time.Millisecond)
		for i := 0; i < 5000; i++ {
			<-tick.C
			id := uuid.Must(uuid.NewV7())
			typ, data, meta, err := domain.Encode(domain.IndicatorAdded{IndicatorID: id.String(), RoadmapID: "r", Title: text("t"),
				Kind: domain.KindMilestone, Deadline: domain.NewDate(2025, 1, 1), Weight: 1},
				domain.Meta{EventID: id, ActorID: "bench", RecordedAt: time.Now().UTC()})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.store.Append(ctx, domain.IndicatorStream(id.String()), eventstore.NoStream(), []eventstore.Event{{ID: id, Type: typ, Data: data, Metadata: meta}}); err != nil {
				b.Fatal(err)
			}
			mu.Lock()
			if early[id] {
				lags = append(lags, 0)
			} else {
				appended[id] = time.Now()
			}
			mu.Unlock()
		}
		tick.Stop()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(lags)
		mu.Unlock()
		if n >= 5000*b.N || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(lags) < 5000*b.N {
		b.Fatalf("only %d of %d events reached the read model", len(lags), 5000*b.N)
	}
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}

func benchSize(b *testing.B) int {
	if testing.Short() {
		return 20_000
	}
	var n int
	if _, err := fmt.Sscan(benchEnv("BENCH_EVENTS", "1000000"), &n); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkRouterCatchUp measures catch-up through the Watermill router
// (what a restarted process does), beside Rebuild's direct path over the
// same events.
func BenchmarkRouterCatchUp(b *testing.B) {
	n := benchSize(b) / 10
	e := newEnv(b)
	benchEvents(b, e, n, 10)
	var routerTime, rebuildTime time.Duration
	var batches, events int
	for i := range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		if i > 0 {
			if _, err := projections.Rebuild(ctx, e.db, e.store, projections.Indicators{}); err != nil {
				b.Fatal(err)
			}
			if _, err := e.db.Exec(`UPDATE projector_checkpoints SET position_commit = 0, position_prepare = 0, events_total = 0 WHERE name = $1`, projections.IndicatorsName); err != nil {
				b.Fatal(err)
			}
			if _, err := e.db.Exec(`DELETE FROM rm_indicator_events; DELETE FROM rm_indicators; DELETE FROM rm_roadmap_figures`); err != nil {
				b.Fatal(err)
			}
		}
		var mu sync.Mutex
		r, err := projections.NewRouterWithConfig(ctx, projections.RouterConfig{DB: e.db, Store: e.store, Projectors: []projections.Projector{projections.Indicators{}},
			Applied: func(_ string, evs []eventstore.Recorded) {
				mu.Lock()
				batches++
				events += len(evs)
				mu.Unlock()
			}})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		for applied(b, e.db, projections.IndicatorsName) < int64(n) {
			time.Sleep(5 * time.Millisecond)
		}
		routerTime += time.Since(start)
		cancel()
		<-done
		start = time.Now()
		if _, err := projections.Rebuild(context.Background(), e.db, e.store, projections.Indicators{}); err != nil {
			b.Fatal(err)
		}
		rebuildTime += time.Since(start)
	}
	total := float64(b.N * n)
	b.ReportMetric(total/routerTime.Seconds(), "router-events/s")
	b.ReportMetric(total/rebuildTime.Seconds(), "rebuild-events/s")
	b.ReportMetric(float64(events)/float64(max(batches, 1)), "events/batch")
	b.ReportMetric(0, "ns/op")
}

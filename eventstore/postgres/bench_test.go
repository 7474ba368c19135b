package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
)

// The benchmarks measure the store beside the raw PostgreSQL ceiling in the
// same run, alternating between the two in rounds so that the machine's
// drift hits both alike, and report both rates and their ratio.

const rawTable = `CREATE TABLE raw_events (
	seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id  uuid   NOT NULL UNIQUE,
	stream_id text   NOT NULL,
	version   bigint NOT NULL,
	type      text   NOT NULL,
	data      bytea  NOT NULL,
	metadata  bytea  NOT NULL,
	stored_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (stream_id, version)
)`

var payload = []byte(`{"indicator_id":"0192f0a4-6a2b-7c3d-8e4f-5a6b7c8d9e0f","report_id":"0192f0a4-6a2b-7c3d-8e4f-5a6b7c8d9e10","value":42.5,"as_of":"2021-06-30","evidence":{"url":"https://example.kz/report/2021/06/30/measure-123","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","description":"quarterly report"}}`)
var metadata = []byte(`{"actor_id":"officer-17","actor_role":"officer","effective_at":"2021-06-30T00:00:00Z"}`)

type benchEnv struct {
	store *postgres.Store
	db    *sqlx.DB
}

func newBenchEnv(b *testing.B) benchEnv {
	b.Helper()
	s := newStore(b)
	if _, err := s.DB().Exec(rawTable); err != nil {
		b.Fatal(err)
	}
	return benchEnv{store: s, db: s.DB()}
}

func events(n int) []eventstore.Event {
	out := make([]eventstore.Event, n)
	for i := range out {
		out[i] = eventstore.Event{ID: uuid.Must(uuid.NewV7()), Type: "indicator.progress_reported.v1", Data: payload, Metadata: metadata}
	}
	return out
}

// rawInsert is the ceiling: one plain multi-row INSERT, prepared once, in
// its own implicit transaction, every field a parameter (as the store sends
// them), the version kept by the client, no read of the stream head.
func rawInsert(ctx context.Context, db *sqlx.DB, stream string, from int64, n int) error {
	args := make([]any, 0, 6*n)
	for i := range n {
		args = append(args, uuid.Must(uuid.NewV7()).String(), stream, from+int64(i), "indicator.progress_reported.v1", payload, metadata)
	}
	stmt, err := rawStatement(ctx, db, n)
	if err != nil {
		return err
	}
	_, err = stmt.ExecContext(ctx, args...)
	return err
}

// rawStatements caches prepared raw inserts per pool and batch size.
var rawStatements sync.Map // rawKey -> *sql.Stmt

type rawKey struct {
	db *sqlx.DB
	n  int
}

func rawStatement(ctx context.Context, db *sqlx.DB, n int) (*sql.Stmt, error) {
	key := rawKey{db, n} // the pool stays referenced, so the key is never reused
	if s, ok := rawStatements.Load(key); ok {
		return s.(*sql.Stmt), nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO raw_events (event_id, stream_id, version, type, data, metadata) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		p := 6 * i
		fmt.Fprintf(&q, "($%d::uuid, $%d, $%d, $%d, $%d::bytea, $%d::bytea)", p+1, p+2, p+3, p+4, p+5, p+6)
	}
	stmt, err := db.PrepareContext(ctx, q.String())
	if err != nil {
		return nil, err
	}
	actual, _ := rawStatements.LoadOrStore(key, stmt)
	return actual.(*sql.Stmt), nil
}

// compare runs ops operations on each of writers goroutines, alternating
// store and raw rounds, and reports events/s of both and the ratio.
func compare(b *testing.B, writers, batch int, store, raw func(ctx context.Context, w, i int) error) {
	b.Helper()
	ctx := context.Background()
	const rounds = 4
	perRound := max(1, b.N/rounds)
	var storeTime, rawTime time.Duration
	run := func(f func(ctx context.Context, w, i int) error, round int) time.Duration {
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		start := time.Now()
		for w := range writers {
			wg.Go(func() {
				for i := range perRound {
					if err := f(ctx, w, round*perRound+i); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		d := time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		return d
	}
	b.ResetTimer()
	for r := range rounds {
		storeTime += run(store, r)
		rawTime += run(raw, r)
	}
	total := float64(rounds * perRound * writers * batch)
	storeRate := total / storeTime.Seconds()
	rawRate := total / rawTime.Seconds()
	b.ReportMetric(storeRate, "store-events/s")
	b.ReportMetric(rawRate, "raw-events/s")
	b.ReportMetric(storeRate/rawRate, "ratio")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkAppend(b *testing.B) {
	for _, tc := range []struct {
		name           string
		writers, batch int
	}{
		{"1writer-1event", 1, 1},
		{"8writers-1event", 8, 1},
		{"1writer-100events", 1, 100},
		{"4writers-100events", 4, 100},
	} {
		b.Run(tc.name, func(b *testing.B) {
			env := newBenchEnv(b)
			run := strconv.FormatInt(time.Now().UnixNano(), 36)
			compare(b, tc.writers, tc.batch,
				func(ctx context.Context, w, i int) error {
					stream := fmt.Sprintf("store-%s-%d", run, w)
					_, err := env.store.Append(ctx, stream, eventstore.Exactly(int64(i*tc.batch)), events(tc.batch))
					return err
				},
				func(ctx context.Context, w, i int) error {
					return rawInsert(ctx, env.db, fmt.Sprintf("raw-%s-%d", run, w), int64(i*tc.batch+1), tc.batch)
				})
		})
	}
}

// fill writes n events into both tables with one INSERT ... SELECT each, in
// streams of 1,000 events.
func fill(b *testing.B, db *sqlx.DB, n int) {
	b.Helper()
	for _, table := range []string{"events", "raw_events"} {
		q := fmt.Sprintf(`INSERT INTO %s (event_id, stream_id, version, type, data, metadata)
SELECT gen_random_uuid(), 'bulk-' || (g / 1000), g %% 1000 + 1, 'indicator.progress_reported.v1', $1, $2
FROM generate_series(0, $3 - 1) g`, table)
		if _, err := db.Exec(q, payload, metadata, n); err != nil {
			b.Fatal(err)
		}
	}
	for _, table := range []string{"events", "raw_events"} {
		if _, err := db.Exec(`VACUUM ANALYZE ` + table); err != nil {
			b.Fatal(err)
		}
	}
}

const bulkEvents = 1_000_000

// BenchmarkReadAll pages through 1,000,000 events with ReadAll beside a
// plain keyset SELECT over the raw table, pages of 1,000.
func BenchmarkReadAll(b *testing.B) {
	env := newBenchEnv(b)
	fill(b, env.db, bulkEvents)
	ctx := context.Background()
	var storeTime, rawTime time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		n, after := 0, eventstore.Start
		for {
			page, err := env.store.ReadAll(ctx, after, 1000)
			if err != nil {
				b.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			n += len(page)
			after = page[len(page)-1].Position
		}
		storeTime += time.Since(start)
		if n != bulkEvents {
			b.Fatalf("read %d events, want %d", n, bulkEvents)
		}
		start = time.Now()
		if got := rawScan(b, env.db); got != bulkEvents {
			b.Fatalf("raw scan read %d rows", got)
		}
		rawTime += time.Since(start)
	}
	reportRates(b, storeTime, rawTime)
}

func rawScan(b *testing.B, db *sqlx.DB) int {
	b.Helper()
	n, last := 0, int64(0)
	for {
		rows, err := db.Query(`SELECT seq, event_id, stream_id, version, type, data, metadata, stored_at FROM raw_events WHERE seq > $1 ORDER BY seq LIMIT 1000`, last)
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for rows.Next() {
			var (
				id, stream, typ string
				version         int64
				data, meta      []byte
				at              time.Time
			)
			if err := rows.Scan(&last, &id, &stream, &version, &typ, &data, &meta, &at); err != nil {
				b.Fatal(err)
			}
			got++
		}
		rows.Close()
		if got == 0 {
			return n
		}
		n += got
	}
}

func reportRates(b *testing.B, storeTime, rawTime time.Duration) {
	total := float64(b.N * bulkEvents)
	storeRate, rawRate := total/storeTime.Seconds(), total/rawTime.Seconds()
	b.ReportMetric(storeRate, "store-events/s")
	b.ReportMetric(rawRate, "raw-events/s")
	b.ReportMetric(storeRate/rawRate, "ratio")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSubscribeCatchUp subscribes from the start of 1,000,000 events
// and stops at the last one, beside the same raw keyset scan.
func BenchmarkSubscribeCatchUp(b *testing.B) {
	env := newBenchEnv(b)
	fill(b, env.db, bulkEvents)
	head, err := env.store.Head(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	var storeTime, rawTime time.Duration
	b.ResetTimer()
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		start := time.Now()
		err := env.store.Subscribe(ctx, eventstore.Start, func(_ context.Context, r eventstore.Recorded) error {
			n++
			if r.Position == head {
				cancel()
			}
			return nil
		})
		storeTime += time.Since(start)
		cancel()
		if n != bulkEvents {
			b.Fatalf("subscriber saw %d events, want %d (err %v)", n, bulkEvents, err)
		}
		start = time.Now()
		rawScan(b, env.db)
		rawTime += time.Since(start)
	}
	reportRates(b, storeTime, rawTime)
}

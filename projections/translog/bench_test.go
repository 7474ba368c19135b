package translog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"promiseledger/eventstore"
	"promiseledger/projections"
	"promiseledger/projections/translog"
	"promiseledger/projections/translog/logtest"
)

// benchEvents is the log size of the benchmarks: LEDGER_BENCH_EVENTS, or
// a million.
func benchEvents(b *testing.B) int {
	if s := os.Getenv("LEDGER_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("LEDGER_BENCH_EVENTS=%q", s)
		}
		return n
	}
	return 1_000_000
}

// prefill writes n events in one statement, the size of a progress report
// (about 330 bytes of data, 150 of metadata), over a thousand streams.
func prefill(b *testing.B, e *logtest.Env, n int) {
	b.Helper()
	const q = `INSERT INTO events (event_id, stream_id, version, type, data, metadata)
SELECT gen_random_uuid(), 'indicator-' || (i % 1000), i / 1000 + 1, 'indicator.progress_reported.v1',
	convert_to(format('{"indicator_id":"indicator-%s","report_id":"%s","value":%s,"as_of":"2021-06-30","evidence":{"url":"https://example.kz/report/2021/06/30/measure-%s","sha256":"%s","description":"quarterly report"}}',
		i % 1000, gen_random_uuid(), i, i, md5(i::text) || md5((i + 1)::text)), 'UTF8'),
	convert_to(format('{"event_id":"%s","actor_id":"officer-%s","actor_role":"officer","effective_at":"2021-06-30T00:00:00Z","recorded_at":"2021-07-01T08:00:00Z"}',
		gen_random_uuid(), i % 17), 'UTF8')
FROM generate_series(0, $1 - 1) AS i`
	if _, err := e.DB.Exec(q, n); err != nil {
		b.Fatal(err)
	}
	if _, err := e.DB.Exec(`VACUUM ANALYZE events`); err != nil {
		b.Fatal(err)
	}
	e.AwaitReadable(b)
}

// BenchmarkLog builds the log over a pre-filled store beside the raw
// ceiling (the same keyset reads, and one plain INSERT of as many 32-byte
// hashes per page), then measures inclusion proofs in the full tree.
//
//	go test ./projections/translog -run '^$' -bench Log -benchtime 1x -timeout 60m
func BenchmarkLog(b *testing.B) {
	ctx := context.Background()
	n := benchEvents(b)
	e := logtest.New(b)
	start := time.Now()
	prefill(b, e, n)
	b.Logf("prefilled %d events in %v", n, time.Since(start).Round(time.Millisecond))
	if _, err := e.DB.Exec(`CREATE TABLE raw_hashes (i bigint PRIMARY KEY, h bytea NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	readAllEvents(b, e.Store, nil) // warm the cache for both

	b.Run("append", func(b *testing.B) {
		var logTime, rawTime time.Duration
		for range b.N {
			resetLog(b, e)
			t0 := time.Now()
			readAllEvents(b, e.Store, func(page []eventstore.Recorded) {
				if err := projections.Process(ctx, e.DB, translog.Projector{}, page); err != nil {
					b.Fatal(err)
				}
			})
			logTime += time.Since(t0)
			t0 = time.Now()
			var next int64
			readAllEvents(b, e.Store, func(page []eventstore.Recorded) {
				rawInsertHashes(b, e, next, page)
				next += int64(len(page))
			})
			rawTime += time.Since(t0)
		}
		if size, _ := translog.Size(ctx, e.DB); size != int64(n) {
			b.Fatalf("the log has %d leaves, want %d", size, n)
		}
		logRate := float64(n*b.N) / logTime.Seconds()
		rawRate := float64(n*b.N) / rawTime.Seconds()
		b.ReportMetric(logRate, "leaves/s")
		b.ReportMetric(rawRate, "raw_rows/s")
		b.ReportMetric(logRate/rawRate, "ratio")
		b.ReportMetric(0, "ns/op")
	})

	b.Run("inclusion_proof", func(b *testing.B) {
		size, err := translog.Size(ctx, e.DB)
		if err != nil || size == 0 {
			b.Fatalf("size %d, %v: run with -bench Log/ to build the tree first", size, err)
		}
		// Each iteration proves proofSamples random leaves, one at a time,
		// as separate requests would.
		const proofSamples = 2000
		rng := rand.New(rand.NewPCG(5, 6))
		durations := make([]time.Duration, 0, b.N*proofSamples)
		b.ResetTimer()
		for range b.N {
			for range proofSamples {
				leaf := rng.Int64N(size)
				t0 := time.Now()
				if _, err := translog.InclusionProof(ctx, e.DB, leaf, size); err != nil {
					b.Fatal(err)
				}
				durations = append(durations, time.Since(t0))
			}
		}
		slices.Sort(durations)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(durations[len(durations)/2]), "median_ms")
		b.ReportMetric(ms(durations[len(durations)*99/100]), "p99_ms")
		b.ReportMetric(float64(size), "leaves")
	})
}

// readAllEvents reads the whole store in pages of the rebuild's size, with
// the store's keyset query, handing each page to fn.
func readAllEvents(b *testing.B, s eventstore.Store, fn func([]eventstore.Recorded)) {
	b.Helper()
	pos := eventstore.Start
	for {
		page, err := s.ReadAll(context.Background(), pos, projections.RebuildPageSize)
		if err != nil {
			b.Fatal(err)
		}
		if len(page) == 0 {
			return
		}
		if fn != nil {
			fn(page)
		}
		pos = page[len(page)-1].Position
	}
}

// rawInsertHashes is the ceiling's write: as many 32-byte rows as events,
// in one statement and one transaction per page, committed without
// waiting for the WAL flush like projections do.
func rawInsertHashes(b *testing.B, e *logtest.Env, from int64, page []eventstore.Recorded) {
	b.Helper()
	idx := make(pq.Int64Array, len(page))
	hs := make(pq.ByteaArray, len(page))
	for i, ev := range page {
		h := sha256.Sum256(ev.Data)
		idx[i], hs[i] = from+int64(i), h[:]
	}
	tx, err := e.DB.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.Exec(`SET LOCAL synchronous_commit = off`); err != nil {
		b.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO raw_hashes (i, h) SELECT * FROM unnest($1::bigint[], $2::bytea[])`, idx, hs); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// resetLog empties the log and the ceiling's table between rounds.
func resetLog(b *testing.B, e *logtest.Env) {
	b.Helper()
	e.TamperLog(b, `TRUNCATE translog_leaves, translog_hashes`)
	for _, q := range []string{
		`TRUNCATE raw_hashes`,
		fmt.Sprintf(`UPDATE projector_checkpoints SET position_commit = 0, position_prepare = 0, events_total = 0 WHERE name = '%s'`, translog.Name),
		`CHECKPOINT`,
	} {
		if _, err := e.DB.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogReplay replays the whole log into a new generation
// (projections.Rebuild, the path of a rebuild and of a first start's
// catch-up) over a pre-filled store of LEDGER_BENCH_EVENTS events, and
// reports beside the time the CPU it took, this process's and the
// PostgreSQL server's (its processes' counters in /proc, when the server
// runs on this machine): on a shared machine the CPU moves less than the
// time.
//
//	LEDGER_BENCH_EVENTS=111157 go test ./projections/translog -run '^$' -bench LogReplay -benchtime 1x
func BenchmarkLogReplay(b *testing.B) {
	ctx := context.Background()
	n := benchEvents(b)
	e := logtest.New(b)
	prefill(b, e, n)
	readAllEvents(b, e.Store, nil) // warm the cache
	var dir string
	if err := e.DB.Get(&dir, `SHOW data_directory`); err != nil {
		b.Fatal(err)
	}
	goCPU0, pgCPU0 := processCPU(), serverCPU(dir)
	b.ResetTimer()
	for range b.N {
		gen, err := projections.Rebuild(ctx, e.DB, e.Store, translog.Projector{})
		if err != nil {
			b.Fatal(err)
		}
		var size int64
		if err := e.DB.Get(&size, `SELECT count(*) FROM translog_leaves WHERE generation = $1`, gen); err != nil || size != int64(n) {
			b.Fatalf("generation %d has %d leaves, want %d (%v)", gen, size, n, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "leaves/s")
	b.ReportMetric((processCPU()-goCPU0).Seconds()/float64(b.N), "go-cpu-s/op")
	if pg := serverCPU(dir) - pgCPU0; pg > 0 {
		b.ReportMetric(pg.Seconds()/float64(b.N), "pg-cpu-s/op")
	}
}

// processCPU is the user and system CPU this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the CPU the PostgreSQL server of data directory dir used
// so far: its postmaster's, its ended backends' and its live ones', read
// from /proc; 0 when the server is not a process of this machine.
func serverCPU(dir string) time.Duration {
	pidFile, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _, _ := strings.Cut(string(pidFile), "\n")
	ticks := func(pid string, fields ...int) int64 {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return 0
		}
		// The fields after the command name, which may hold spaces.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		var sum int64
		for _, i := range fields {
			if v, err := strconv.ParseInt(f[i-3], 10, 64); err == nil {
				sum += v
			}
		}
		return sum
	}
	total := ticks(pid, 14, 15, 16, 17) // utime, stime, cutime, cstime
	children, _ := os.ReadFile("/proc/" + pid + "/task/" + pid + "/children")
	for _, c := range strings.Fields(string(children)) {
		total += ticks(c, 14, 15)
	}
	const hz = 100 // USER_HZ on Linux
	return time.Duration(total) * time.Second / hz
}

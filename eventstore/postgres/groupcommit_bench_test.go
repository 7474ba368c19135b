package postgres_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
)

var (
	gcRun     = flag.Duration("groupcommit.run", 2*time.Second, "BenchmarkGroupCommit: how long each measurement runs")
	gcRounds  = flag.Int("groupcommit.rounds", 3, "BenchmarkGroupCommit: interleaved rounds of every measurement")
	gcWorkers = flag.Int("groupcommit.workers", 0, "BenchmarkGroupCommit: Config.CommitWorkers of the grouped store (0: the default)")
)

// BenchmarkGroupCommit drives 1, 8 and 64 concurrent appenders of single
// events (each on its own stream, Exactly the version it last wrote) for a
// fixed time, through the store with group commit, through the store with
// NoGroupCommit (every append its own transaction, as before), and, in the
// same rounds, the raw ceilings: a prepared single-row INSERT per
// transaction from as many writers, and 100-row INSERTs from 4 writers.
// Run it with -benchtime=1x; -groupcommit.run and -groupcommit.rounds set
// the length.
func BenchmarkGroupCommit(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("%dwriters", writers), func(b *testing.B) {
			env := newBenchEnv(b)
			plain, err := postgres.Open(context.Background(), postgres.Config{URL: urlOf(b, env.store), NoGroupCommit: true})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { plain.Close() })
			group, err := postgres.Open(context.Background(), postgres.Config{URL: urlOf(b, env.store), CommitWorkers: *gcWorkers})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { group.Close() })
			run := strconv.FormatInt(time.Now().UnixNano(), 36)
			versions := map[string][]int64{}
			storeOp := func(s *postgres.Store, label string) func(ctx context.Context, w int) (int, error) {
				versions[label] = make([]int64, writers)
				v := versions[label]
				return func(ctx context.Context, w int) (int, error) {
					_, err := s.Append(ctx, fmt.Sprintf("%s-%s-%d", label, run, w), eventstore.Exactly(v[w]), events(1))
					v[w]++
					return 1, err
				}
			}
			rawNext := map[string][]int64{}
			rawOp := func(label string, n int) func(ctx context.Context, w int) (int, error) {
				rawNext[label] = make([]int64, 64)
				next := rawNext[label]
				return func(ctx context.Context, w int) (int, error) {
					err := rawInsert(ctx, env.db, fmt.Sprintf("%s-%s-%d", label, run, w), next[w]+1, n)
					next[w] += int64(n)
					return n, err
				}
			}
			modes := []struct {
				name    string
				writers int
				op      func(ctx context.Context, w int) (int, error)
			}{
				{"group", writers, storeOp(group, "group")},
				{"plain", writers, storeOp(plain, "plain")},
				{"raw1", writers, rawOp("raw1", 1)},
				{"raw100x4", 4, rawOp("raw100", 100)},
			}
			results := make([]timed, len(modes))
			b.ResetTimer()
			for range *gcRounds {
				for i, m := range modes {
					results[i].add(drive(b, m.writers, *gcRun, m.op))
				}
			}
			b.StopTimer()
			g, p, r1, rb := results[0], results[1], results[2], results[3]
			b.ReportMetric(g.rate(), "group-ev/s")
			b.ReportMetric(g.pct(50), "group-p50-ms")
			b.ReportMetric(g.pct(99), "group-p99-ms")
			b.ReportMetric(p.rate(), "plain-ev/s")
			b.ReportMetric(p.pct(50), "plain-p50-ms")
			b.ReportMetric(p.pct(99), "plain-p99-ms")
			b.ReportMetric(r1.rate(), "raw1-ev/s")
			b.ReportMetric(rb.rate(), "raw100x4-ev/s")
			b.ReportMetric(g.rate()/p.rate(), "group/plain")
			b.ReportMetric(g.rate()/r1.rate(), "group/raw1")
			b.ReportMetric(g.rate()/rb.rate(), "group/raw100x4")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func urlOf(b *testing.B, s *postgres.Store) string {
	b.Helper()
	u, ok := storeURLs.Load(s)
	if !ok {
		b.Fatal("no URL recorded for the store")
	}
	return u.(string)
}

// timed collects what drive measured.
type timed struct {
	events  int
	elapsed time.Duration
	lat     []time.Duration
}

func (t *timed) add(o timed) {
	t.events += o.events
	t.elapsed += o.elapsed
	t.lat = append(t.lat, o.lat...)
}

func (t timed) rate() float64 { return float64(t.events) / t.elapsed.Seconds() }

// pct is the p-th percentile latency in milliseconds.
func (t timed) pct(p int) float64 {
	if len(t.lat) == 0 {
		return 0
	}
	s := slices.Clone(t.lat)
	slices.Sort(s)
	return float64(s[(len(s)-1)*p/100].Microseconds()) / 1000
}

// drive runs op on writers goroutines for d and measures every call.
func drive(b *testing.B, writers int, d time.Duration, op func(ctx context.Context, w int) (int, error)) timed {
	b.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(d)
	var (
		mu  sync.Mutex
		out timed
		wg  sync.WaitGroup
	)
	errs := make(chan error, writers)
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			var lat []time.Duration
			n := 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				k, err := op(ctx, w)
				if err != nil {
					errs <- err
					return
				}
				lat = append(lat, time.Since(t0))
				n += k
			}
			mu.Lock()
			out.events += n
			out.lat = append(out.lat, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return out
}

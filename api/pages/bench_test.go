package pages_test

import (
	"slices"
	"sort"
	"testing"
	"time"
)

// BenchmarkPages renders every page over the demo and reports, per page,
// the 95th percentile of its latency (target: under 50 ms) and the SQL
// statements it sends (bounded: they do not grow with the data).
func BenchmarkPages(b *testing.B) {
	e := newEnv(b)
	paths := e.samplePaths(b)
	names := make([]string, 0, len(paths))
	for n := range paths {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		p := paths[name] + "?lang=ru"
		b.Run(name, func(b *testing.B) {
			e.get(b, p) // warm: the first render of the home page fills its series cache
			var took []time.Duration
			before := e.counter.n.Load()
			for b.Loop() {
				start := time.Now()
				if r := e.get(b, p); r.status != 200 {
					b.Fatalf("%s: %d", p, r.status)
				}
				took = append(took, time.Since(start))
			}
			queries := float64(e.counter.n.Load()-before) / float64(len(took))
			slices.Sort(took)
			p95 := took[min(len(took)-1, len(took)*95/100)]
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
			b.ReportMetric(queries, "queries/page")
		})
	}
}

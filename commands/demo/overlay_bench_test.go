package demo_test

import (
	"context"
	"testing"
	"time"

	"promiseledger/commands/batch"
	"promiseledger/commands/demo"
)

// BenchmarkPlanIntoOverlay runs the whole demo through the command
// handlers into an in-memory overlay, as `ledger dev` does on first start
// before writing: the Go side of a first start.
func BenchmarkPlanIntoOverlay(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		o := batch.New(batch.NoHistory{}, time.Now)
		st, err := demo.Load(ctx, o, demo.Config{Seed: 2021, Now: now, Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Events), "events")
	}
}

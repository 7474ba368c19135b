package councildemo_test

import (
	"context"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/commands/batch"
	"promiseledger/commands/councildemo"
	"promiseledger/commands/demo"
)

// BenchmarkPlanIntoOverlay runs the councils demo through the command
// handlers into an in-memory overlay over the roadmap demo's, as `ledger
// dev` does on first start before writing.
func BenchmarkPlanIntoOverlay(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	cfg := demo.Config{Seed: 2021, Now: now, Workers: 1}
	roadmaps := batch.New(batch.NoHistory{}, time.Now)
	if _, err := demo.Load(ctx, roadmaps, cfg); err != nil {
		b.Fatal(err)
	}
	desc, err := demo.Describe(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		o := batch.New(roadmaps, time.Now)
		h, err := commands.New(commands.Deps{Store: o, Decoded: commands.NewDecodeCache()})
		if err != nil {
			b.Fatal(err)
		}
		st, err := councildemo.Load(ctx, h, councildemo.Config{Seed: 2021, Now: now, Demo: &desc, Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Events), "events")
	}
}

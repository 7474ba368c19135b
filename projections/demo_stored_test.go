package projections_test

import (
	"context"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/commands/councildemo"
	"promiseledger/commands/demo"
	"promiseledger/domain"
	"promiseledger/eventstore/memory"
	"promiseledger/projections/pgtext"
)

// TestDemoEventsPassTheStoredEventRules: everything the command handlers
// record — here the whole demo data set, roadmaps and councils — passes
// the shape check projectors decode with, stream names included, so the
// check stops only events no handler writes.
func TestDemoEventsPassTheStoredEventRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := memory.New()
	now := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
	cfg := demo.Config{Seed: 1, Now: now, Scale: 0.2}
	if _, err := demo.Load(ctx, store, cfg); err != nil {
		t.Fatal(err)
	}
	desc, err := demo.Describe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := commands.New(commands.Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := councildemo.Load(ctx, h, councildemo.Config{Seed: 1, Now: now, Scale: 0.3, Demo: &desc}); err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, r := range readLog(t, store) {
		types[r.Type]++
		if _, _, err := domain.DecodeStored(pgtext.String(r.Stream), r.Type, pgtext.JSON(r.Data), pgtext.JSON(r.Metadata)); err != nil {
			t.Errorf("%s %s v%d: %v", r.Stream, r.Type, r.Version, err)
		}
	}
	if len(types) < 25 {
		t.Errorf("the demo recorded only %d event types: %v", len(types), types)
	}
}

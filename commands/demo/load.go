package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
)

// ErrForeignData means the store already holds territories that the demo
// did not register (another seed, or real data); the demo refuses to mix
// with them.
var ErrForeignData = errors.New("demo: the store holds data of another data set")

// Load writes the demo data set described by cfg into store, through the
// command handlers. If the store already holds it (the main program's
// stream exists) Load returns at once with AlreadyLoaded set, unless
// cfg.Resume asks it to replay every command, which completes an
// interrupted load.
func Load(ctx context.Context, store commands.EventStore, cfg Config) (Stats, error) {
	began := time.Now()
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Stats{}, err
	}
	territories, err := Territories()
	if err != nil {
		return Stats{}, err
	}
	p, err := newPlan(cfg, territories)
	if err != nil {
		return Stats{}, err
	}
	loaded, err := alreadyLoaded(ctx, store, p.mainProgram.id())
	if err != nil || (loaded && !cfg.Resume) {
		return Stats{AlreadyLoaded: loaded, Elapsed: time.Since(began)}, err
	}
	cfg.Logger.InfoContext(ctx, "demo: loading", "seed", cfg.Seed, "scale", cfg.Scale, "start", cfg.Start, "now", cfg.Now)
	var total tally
	decoded := commands.NewDecodeCache()
	for i, jobs := range p.phases {
		t, err := runJobs(ctx, store, decoded, cfg.Workers, jobs)
		total.add(t)
		if err != nil {
			return total.stats(), fmt.Errorf("demo: phase %d of %d: %w", i+1, len(p.phases), err)
		}
	}
	stats := total.stats()
	stats.Elapsed = time.Since(began)
	cfg.Logger.InfoContext(ctx, "demo: loaded", "stats", stats)
	return stats, nil
}

// Loaded reports whether the demo data set of cfg is in store (its main
// program is), without loading anything. A store holding the republic but
// not the demo's program holds another data set: ErrForeignData.
func Loaded(ctx context.Context, store commands.EventStore, cfg Config) (bool, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return false, err
	}
	territories, err := Territories()
	if err != nil {
		return false, err
	}
	p, err := newPlan(cfg, territories)
	if err != nil {
		return false, err
	}
	return alreadyLoaded(ctx, store, p.mainProgram.id())
}

// alreadyLoaded reports whether the demo's main program is in the store.
// A store that holds the republic without it holds someone else's data.
func alreadyLoaded(ctx context.Context, store commands.EventStore, mainProgramID string) (bool, error) {
	found, err := exists(ctx, store, domain.ProgramStream(mainProgramID))
	if err != nil || found {
		return found, err
	}
	found, err = exists(ctx, store, domain.TerritoryStream(domain.RepublicKATO))
	if err != nil {
		return false, err
	}
	if found {
		return false, fmt.Errorf("%w: territory %s is registered but not the demo's main program %s",
			ErrForeignData, domain.RepublicKATO, mainProgramID)
	}
	return false, nil
}

func exists(ctx context.Context, store commands.EventStore, stream string) (bool, error) {
	events, err := store.ReadStream(ctx, stream, 1, 1)
	if err != nil {
		return false, fmt.Errorf("demo: read %s: %w", stream, err)
	}
	return len(events) > 0, nil
}

package projections

import "context"

// SetSettleLiveComputed sets the hook SettleLive runs between computing
// the pending levels and writing them; the returned func removes it. Tests
// that set it must not run in parallel.
func SetSettleLiveComputed(f func(ctx context.Context, gen int)) (restore func()) {
	old := settleLiveComputed
	settleLiveComputed = f
	return func() { settleLiveComputed = old }
}

// SetComputeParallel makes the ratings replay compute with up to workers
// goroutines, on ranges of at least min items; the returned func restores
// the defaults.
func SetComputeParallel(workers, min int64) (restore func()) {
	w, m := computeWorkers.Load(), parallelMin.Load()
	computeWorkers.Store(workers)
	parallelMin.Store(min)
	return func() { computeWorkers.Store(w); parallelMin.Store(m) }
}

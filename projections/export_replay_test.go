package projections

// SetReplaySizes makes replays take pages of page events and runs of run
// events until restore.
func SetReplaySizes(page, run int) (restore func()) {
	oldPage, oldRun := replayPageSize, replayRunSize
	replayPageSize, replayRunSize = page, run
	return func() { replayPageSize, replayRunSize = oldPage, oldRun }
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

package projections

// SetReplaySizes makes replays take pages of page events and runs of run
// events until restore.
func SetReplaySizes(page, run int) (restore func()) {
	oldPage, oldRun := replayPageSize, replayRunSize
	replayPageSize, replayRunSize = page, run
	return func() { replayPageSize, replayRunSize = oldPage, oldRun }
}

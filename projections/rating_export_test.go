package projections

// SetRatingSaveChunks sets the largest chunk, in ratings and in bytes of
// JSON, in which a level's ratings are written; the returned func puts the
// old sizes back.
func SetRatingSaveChunks(rows, bytes int) (restore func()) {
	oldRows, oldBytes := saveChunkRows.Swap(int64(rows)), saveChunkBytes.Swap(int64(bytes))
	return func() { saveChunkRows.Store(oldRows); saveChunkBytes.Store(oldBytes) }
}

// SetRatingCacheMutant makes the live settle's cache take every new fact
// to change ratings only from days later than it does (0 puts the right
// rule back): a mutant for the property test.
func SetRatingCacheMutant(days int) { ratingCacheMutantDays.Store(int64(days)) }

// ForgetRatingCache empties the live settle's cache.
func ForgetRatingCache() { liveRatings.forget() }

// SetRatingCacheBudget sets the live settle cache's budget in bytes (0
// keeps nothing: every settle computes from scratch); it returns the old.
func SetRatingCacheBudget(bytes int64) int64 { return ratingCacheBudget.Swap(bytes) }

// RatingCacheCounts returns how many live settles of a level folded new
// facts into the level kept in memory, and how many loaded it whole.
func RatingCacheCounts() (folds, loads int64) {
	return ratingCacheFolds.Load(), ratingCacheLoads.Load()
}

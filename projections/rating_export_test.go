package projections

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// SetRatingSaveChunks sets the largest chunk, in ratings and in bytes of
// stored ratings, in which a level's ratings are written; the returned
// func puts the old sizes back.
func SetRatingSaveChunks(rows, bytes int) (restore func()) {
	oldRows, oldBytes := saveChunkRows.Swap(int64(rows)), saveChunkBytes.Swap(int64(bytes))
	return func() { saveChunkRows.Store(oldRows); saveChunkBytes.Store(oldBytes) }
}

// SaveRatingLevel makes the stored ratings of a level equal views, as a
// settle does.
func SaveRatingLevel(ctx context.Context, tx *sqlx.Tx, gen int, level string, views []DeputyRatingView) error {
	return saveLevel(ctx, tx, gen, level, views)
}

// SetRatingCacheMutant makes the live settle's cache take every new fact
// to change ratings only from days later than it does (0 puts the right
// rule back): a mutant for the property test.
func SetRatingCacheMutant(days int) { ratingCacheMutantDays.Store(int64(days)) }

// ForgetRatingCache empties the live settle's cache.
func ForgetRatingCache() { liveRatings.forget() }

// RatingCacheCounts returns how many live settles of a level folded new
// facts into the level kept in memory, and how many loaded it whole.
func RatingCacheCounts() (folds, loads int64) {
	return ratingCacheFolds.Load(), ratingCacheLoads.Load()
}

// SetCopyFactsAt sets the smallest batch of facts stored with COPY; it
// returns a function putting the old value back.
func SetCopyFactsAt(n int) (restore func()) {
	old := copyFactsAt.Swap(int64(n))
	return func() { copyFactsAt.Store(old) }
}

// SetRatingFactsSinceMax sets how many new facts a live settle folds into
// a kept level at most; it returns a function putting the old value back.
func SetRatingFactsSinceMax(n int) (restore func()) {
	old := factsSinceMax.Swap(int64(n))
	return func() { factsSinceMax.Store(old) }
}

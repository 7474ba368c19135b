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

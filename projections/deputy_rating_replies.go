package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"promiseledger/domain"
)

// DeputyRatingReplies returns a deputy's replies to their ratings, in the
// order recorded, and the version of the deputy's stream the ratings read
// model has applied (a reply form is pinned to it). A deputy the model
// does not hold is ErrNoSuchRecord.
func DeputyRatingReplies(ctx context.Context, db sqlx.QueryerContext, deputyID string) ([]domain.RatingReply, int64, error) {
	gen, err := activeGeneration(ctx, db, RatingsName)
	if err != nil {
		return nil, 0, err
	}
	var raw []byte
	var version int64
	err = db.QueryRowxContext(ctx, `SELECT coalesce(state->'rating_replies', '[]'::jsonb), version FROM rm_rating_deputies
WHERE generation = $1 AND deputy_id = $2`, gen, deputyID).Scan(&raw, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("deputy %s: %w", deputyID, ErrNoSuchRecord)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("deputy %s rating replies: %w", deputyID, err)
	}
	var out []domain.RatingReply
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, 0, fmt.Errorf("deputy %s rating replies: %w", deputyID, err)
	}
	return out, version, nil
}

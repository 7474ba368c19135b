package projections

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"promiseledger/domain"
)

// RecommendationHistory returns a recommendation's events in stream order,
// as the councils read model holds them: the pages show them as its
// history. A recommendation the read model does not hold yet is
// ErrNoSuchRecord.
func RecommendationHistory(ctx context.Context, db sqlx.QueryerContext, id string) ([]domain.Envelope, error) {
	gen, err := activeGeneration(ctx, db, CouncilsName)
	if err != nil {
		return nil, err
	}
	hs, err := loadFacts(ctx, db, councilFacts, gen, kindRecommendation, []string{id})
	if err != nil {
		return nil, err
	}
	h := hs[id]
	if h == nil || len(h.Events) == 0 {
		return nil, fmt.Errorf("recommendation %s: %w", id, ErrNoSuchRecord)
	}
	return h.Events, nil
}

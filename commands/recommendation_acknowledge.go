package commands

import (
	"context"

	"promiseledger/domain"
)

// AcknowledgeRecommendation records that the state body registered a
// submitted recommendation, with its incoming number if it gave one.
type AcknowledgeRecommendation struct {
	Header
	RecommendationID string
	Reference        string
}

// AcknowledgeRecommendationHandler handles AcknowledgeRecommendation.
type AcknowledgeRecommendationHandler struct{ r *runner }

// Handle records recommendation.acknowledged.v1.
func (h AcknowledgeRecommendationHandler) Handle(ctx context.Context, cmd AcknowledgeRecommendation) (Result, error) {
	return changeRecommendation(ctx, h.r, cmd.Header, cmd.RecommendationID, domain.TypeRecommendationAcknowledged, false,
		func(a *domain.Recommendation, _ *domain.Council, m domain.Meta) error {
			return a.Acknowledge(cmd.Reference, m)
		})
}

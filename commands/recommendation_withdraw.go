package commands

import (
	"context"

	"promiseledger/domain"
)

// WithdrawRecommendation withdraws a recommendation before it is answered;
// it needs a reason and the actor must be a current member.
type WithdrawRecommendation struct {
	Header
	RecommendationID string
}

// WithdrawRecommendationHandler handles WithdrawRecommendation.
type WithdrawRecommendationHandler struct{ r *runner }

// Handle records recommendation.withdrawn.v1.
func (h WithdrawRecommendationHandler) Handle(ctx context.Context, cmd WithdrawRecommendation) (Result, error) {
	return changeRecommendation(ctx, h.r, cmd.Header, cmd.RecommendationID, domain.TypeRecommendationWithdrawn, true,
		func(a *domain.Recommendation, c *domain.Council, m domain.Meta) error { return a.Withdraw(c, m) })
}

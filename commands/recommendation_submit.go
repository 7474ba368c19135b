package commands

import (
	"context"

	"promiseledger/domain"
)

// SubmitRecommendation sends a drafted recommendation to its state body.
// ResponseDeadline defaults to domain.DefaultResponseDays after the
// submission. The actor must be a current member of the council.
type SubmitRecommendation struct {
	Header
	RecommendationID string
	ResponseDeadline domain.Date
}

// SubmitRecommendationHandler handles SubmitRecommendation.
type SubmitRecommendationHandler struct{ r *runner }

// Handle records recommendation.submitted.v1.
func (h SubmitRecommendationHandler) Handle(ctx context.Context, cmd SubmitRecommendation) (Result, error) {
	return changeRecommendation(ctx, h.r, cmd.Header, cmd.RecommendationID, domain.TypeRecommendationSubmitted, true,
		func(a *domain.Recommendation, c *domain.Council, m domain.Meta) error {
			return a.Submit(cmd.ResponseDeadline, c, m)
		})
}

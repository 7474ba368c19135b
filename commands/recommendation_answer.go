package commands

import (
	"context"

	"promiseledger/domain"
)

// AnswerRecommendation records the state body's answer to a submitted
// recommendation: its decision, its reply and the evidence (the letter).
// The answer's id is the event id.
type AnswerRecommendation struct {
	Header
	RecommendationID string
	Decision         domain.AnswerDecision
	Reply            string
	Evidence         domain.Evidence
}

// AnswerRecommendationHandler handles AnswerRecommendation.
type AnswerRecommendationHandler struct{ r *runner }

// Handle records recommendation.answered.v1.
func (h AnswerRecommendationHandler) Handle(ctx context.Context, cmd AnswerRecommendation) (Result, error) {
	ans := domain.Answer{Decision: cmd.Decision, Reply: cmd.Reply, Evidence: cmd.Evidence}
	return changeRecommendation(ctx, h.r, cmd.Header, cmd.RecommendationID, domain.TypeRecommendationAnswered, false,
		func(a *domain.Recommendation, _ *domain.Council, m domain.Meta) error { return a.Answer(ans, m) })
}

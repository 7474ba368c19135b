package commands

import (
	"context"

	"promiseledger/domain"
)

// CorrectRecommendationAnswer records that a recorded answer (Corrects,
// the latest of its chain) should have said something else. It needs a
// reason and takes effect when the answer did.
type CorrectRecommendationAnswer struct {
	Header
	RecommendationID string
	Corrects         string
	Decision         domain.AnswerDecision
	Reply            string
	Evidence         domain.Evidence
}

// CorrectRecommendationAnswerHandler handles CorrectRecommendationAnswer.
type CorrectRecommendationAnswerHandler struct{ r *runner }

// Handle records recommendation.answer_corrected.v1.
func (h CorrectRecommendationAnswerHandler) Handle(ctx context.Context, cmd CorrectRecommendationAnswer) (Result, error) {
	ans := domain.Answer{Decision: cmd.Decision, Reply: cmd.Reply, Evidence: cmd.Evidence}
	return changeRecommendation(ctx, h.r, cmd.Header, cmd.RecommendationID, domain.TypeRecommendationAnswerCorrected, false,
		func(a *domain.Recommendation, _ *domain.Council, m domain.Meta) error {
			return a.CorrectAnswer(cmd.Corrects, ans, m)
		})
}

package commands

import (
	"context"

	"promiseledger/domain"
)

// JudgeRecommendation records the council's verdict on whether the body
// implemented an answered recommendation. The actor must be a current
// member; revising a verdict needs a reason.
type JudgeRecommendation struct {
	Header
	RecommendationID string
	Verdict          domain.Verdict
	Comment          string
	Evidence         domain.Evidence
}

// JudgeRecommendationHandler handles JudgeRecommendation.
type JudgeRecommendationHandler struct{ r *runner }

// Handle records recommendation.implementation_judged.v1.
func (h JudgeRecommendationHandler) Handle(ctx context.Context, cmd JudgeRecommendation) (Result, error) {
	j := domain.Judgement{Verdict: cmd.Verdict, Comment: cmd.Comment, Evidence: cmd.Evidence}
	return changeRecommendation(ctx, h.r, cmd.Header, cmd.RecommendationID, domain.TypeRecommendationJudged, true,
		func(a *domain.Recommendation, c *domain.Council, m domain.Meta) error { return a.Judge(j, c, m) })
}

package commands

import (
	"context"

	"promiseledger/domain"
)

// AttachDissent puts a council member's dissenting opinion on a
// recommendation on the record, once per member.
type AttachDissent struct {
	Header
	RecommendationID string
	MemberID         string
	Opinion          string
}

// AttachDissentHandler handles AttachDissent.
type AttachDissentHandler struct{ r *runner }

// Handle records recommendation.dissent_attached.v1.
func (h AttachDissentHandler) Handle(ctx context.Context, cmd AttachDissent) (Result, error) {
	return changeRecommendation(ctx, h.r, cmd.Header, cmd.RecommendationID, domain.TypeRecommendationDissentAttached, true,
		func(a *domain.Recommendation, c *domain.Council, m domain.Meta) error {
			return a.AttachDissent(cmd.MemberID, cmd.Opinion, c, m)
		})
}

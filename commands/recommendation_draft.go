package commands

import (
	"context"

	"promiseledger/domain"
)

// DraftRecommendation drafts a public council's recommendation to a state
// body. The actor must be a current member of the council. ID may be empty
// (see RegisterCouncil). Linked roadmaps and indicators must be registered.
type DraftRecommendation struct {
	Header
	ID        string
	CouncilID string
	Title     domain.Text
	Proposal  domain.Text
	Addressee domain.StateBody
	Links     domain.RecommendationLinks
}

// DraftRecommendationHandler handles DraftRecommendation.
type DraftRecommendationHandler struct{ r *runner }

// Handle records recommendation.drafted.v1.
func (h DraftRecommendationHandler) Handle(ctx context.Context, cmd DraftRecommendation) (Result, error) {
	cmd.Header = h.r.identified(cmd.Header)
	id := orEventID(cmd.ID, cmd.Header)
	if err := domain.ValidateID("id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, h.r, cmd.Header, plan[*domain.Recommendation]{
		id: id, stream: domain.RecommendationStream(id), eventType: domain.TypeRecommendationDrafted,
		rebuild: domain.RebuildRecommendation,
		decide: func(ctx context.Context, a *domain.Recommendation, m domain.Meta) error {
			council, err := loadCouncil(ctx, h.r, cmd.CouncilID)
			if err != nil {
				return err
			}
			refs, err := h.references(ctx, cmd.Links)
			if err != nil {
				return err
			}
			return a.Draft(domain.RecommendationDrafted{RecommendationID: id, CouncilID: cmd.CouncilID, Title: cmd.Title,
				Proposal: cmd.Proposal, Addressee: cmd.Addressee, Links: cmd.Links}, council, refs, m)
		},
	})
}

// references reads the streams of the linked roadmaps and indicators.
func (h DraftRecommendationHandler) references(ctx context.Context, l domain.RecommendationLinks) (domain.References, error) {
	refs := domain.References{Roadmaps: map[string]bool{}, Indicators: map[string]bool{}}
	for _, id := range l.RoadmapIDs {
		ok, err := roadmapExists(ctx, h.r, id)
		if err != nil {
			return refs, err
		}
		refs.Roadmaps[id] = ok
	}
	for _, id := range l.IndicatorIDs {
		ok, err := indicatorExists(ctx, h.r, id)
		if err != nil {
			return refs, err
		}
		refs.Indicators[id] = ok
	}
	return refs, nil
}

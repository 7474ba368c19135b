package commands

import (
	"context"

	"promiseledger/domain"
)

// ReplyToRating records a deputy's reply to their rating under a method's
// version for one period. The actor must be the deputy; the version must
// be published and the period one it rates (through today). The reply's
// id is its event id.
type ReplyToRating struct {
	Header
	DeputyID string
	Method   string
	Version  int
	Period   domain.Period
	Reply    string
	Evidence domain.Evidence
}

// ReplyToRatingHandler handles ReplyToRating.
type ReplyToRatingHandler struct{ r *runner }

// Handle records deputy.rating_replied.v1.
func (h ReplyToRatingHandler) Handle(ctx context.Context, cmd ReplyToRating) (Result, error) {
	return changeDeputy(ctx, h.r, cmd.Header, cmd.DeputyID, domain.TypeDeputyRatingReplied,
		func(ctx context.Context, d *domain.Deputy, m domain.Meta) error {
			rated, err := h.rated(ctx, cmd.Method, cmd.Version)
			if err != nil {
				return err
			}
			return d.ReplyToRating(domain.DeputyRatingReplied{DeputyID: cmd.DeputyID, Method: cmd.Method, Version: cmd.Version,
				Period: cmd.Period, Reply: cmd.Reply, Evidence: cmd.Evidence}, rated, m)
		})
}

// rated reads the method's stream: whether the version is published, and
// the periods it rates through today.
func (h ReplyToRatingHandler) rated(ctx context.Context, method string, version int) (domain.RatedIn, error) {
	if domain.ValidateSlug("method", method) != nil {
		return domain.RatedIn{}, nil
	}
	rm, err := load(ctx, h.r, domain.RatingMethodStream(method), domain.RebuildRatingMethod)
	if err != nil {
		return domain.RatedIn{}, err
	}
	for _, v := range rm.Versions() {
		if v.Version == version {
			return domain.RatedIn{Published: true, Periods: v.Formula.Periods(domain.DateOf(h.r.deps.Clock().UTC()))}, nil
		}
	}
	return domain.RatedIn{}, nil
}

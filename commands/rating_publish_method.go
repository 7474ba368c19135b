package commands

import (
	"context"

	"promiseledger/domain"
)

// PublishRatingMethod publishes the next version of a rating method.
// Version zero means the next; a published version is never rewritten.
type PublishRatingMethod struct {
	Header
	Method        string
	Version       int
	Title         domain.Text
	Summary       string
	Formula       domain.RatingFormula
	EffectiveFrom domain.Date
}

// PublishRatingMethodHandler handles PublishRatingMethod.
type PublishRatingMethodHandler struct{ r *runner }

// Handle records rating.method_published.v1.
func (h PublishRatingMethodHandler) Handle(ctx context.Context, cmd PublishRatingMethod) (Result, error) {
	if err := domain.ValidateSlug("method", cmd.Method); err != nil {
		return Result{}, err
	}
	return execute(ctx, h.r, cmd.Header, plan[*domain.RatingMethod]{
		id: cmd.Method, stream: domain.RatingMethodStream(cmd.Method), eventType: domain.TypeRatingMethodPublished,
		rebuild: domain.RebuildRatingMethod,
		decide: func(_ context.Context, r *domain.RatingMethod, m domain.Meta) error {
			return r.Publish(domain.RatingMethodPublished{Method: cmd.Method, Version: cmd.Version, Title: cmd.Title,
				Summary: cmd.Summary, Formula: cmd.Formula, EffectiveFrom: cmd.EffectiveFrom}, m)
		},
	})
}

package commands

import (
	"context"

	"promiseledger/domain"
)

// Shared steps of the council, recommendation, assessment, deputy and
// rating-method commands.

// loadCouncil rebuilds a council for a check; a malformed id gives an
// empty council, for the domain to report as an unknown reference.
func loadCouncil(ctx context.Context, r *runner, id string) (*domain.Council, error) {
	if domain.ValidateID("council_id", id) != nil {
		return &domain.Council{}, nil
	}
	return load(ctx, r, domain.CouncilStream(id), domain.RebuildCouncil)
}

// loadTerritory rebuilds a territory for a check; a malformed code gives
// nil.
func loadTerritory(ctx context.Context, r *runner, kato string) (*domain.Territory, error) {
	if domain.ValidateKATO("territory_kato", kato) != nil {
		return nil, nil
	}
	return load(ctx, r, domain.TerritoryStream(kato), domain.RebuildTerritory)
}

// roadmapExists and indicatorExists read the stream of a reference.
func roadmapExists(ctx context.Context, r *runner, id string) (bool, error) {
	if domain.ValidateID("roadmap_id", id) != nil {
		return false, nil
	}
	rm, err := load(ctx, r, domain.RoadmapStream(id), domain.RebuildRoadmap)
	return err == nil && rm.Exists(), err
}

func indicatorExists(ctx context.Context, r *runner, id string) (bool, error) {
	if domain.ValidateID("indicator_id", id) != nil {
		return false, nil
	}
	ind, err := load(ctx, r, domain.IndicatorStream(id), domain.RebuildIndicator)
	return err == nil && ind.Exists(), err
}

// changeCouncil runs a command on an existing council.
func changeCouncil(ctx context.Context, r *runner, h Header, id, eventType string, change func(*domain.Council, domain.Meta) error) (Result, error) {
	if err := domain.ValidateID("council_id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, r, h, plan[*domain.Council]{
		id: id, stream: domain.CouncilStream(id), eventType: eventType,
		rebuild: domain.RebuildCouncil,
		decide: func(_ context.Context, c *domain.Council, m domain.Meta) error {
			return change(c, m)
		},
	})
}

// changeRecommendation runs a command on an existing recommendation; the
// change gets the recommendation's council, loaded fresh, when withCouncil.
func changeRecommendation(ctx context.Context, r *runner, h Header, id, eventType string, withCouncil bool,
	change func(*domain.Recommendation, *domain.Council, domain.Meta) error) (Result, error) {
	if err := domain.ValidateID("recommendation_id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, r, h, plan[*domain.Recommendation]{
		id: id, stream: domain.RecommendationStream(id), eventType: eventType,
		rebuild: domain.RebuildRecommendation,
		decide: func(ctx context.Context, a *domain.Recommendation, m domain.Meta) error {
			var council *domain.Council
			if withCouncil && a.Exists() {
				var err error
				if council, err = loadCouncil(ctx, r, a.CouncilID()); err != nil {
					return err
				}
			}
			return change(a, council, m)
		},
	})
}

// changeAssessment runs a command on an existing assessment.
func changeAssessment(ctx context.Context, r *runner, h Header, id, eventType string, withCouncil bool,
	change func(*domain.Assessment, *domain.Council, domain.Meta) error) (Result, error) {
	if err := domain.ValidateID("assessment_id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, r, h, plan[*domain.Assessment]{
		id: id, stream: domain.AssessmentStream(id), eventType: eventType,
		rebuild: domain.RebuildAssessment,
		decide: func(ctx context.Context, a *domain.Assessment, m domain.Meta) error {
			var council *domain.Council
			if withCouncil && a.Exists() {
				var err error
				if council, err = loadCouncil(ctx, r, a.CouncilID()); err != nil {
					return err
				}
			}
			return change(a, council, m)
		},
	})
}

// changeDeputy runs a command on an existing deputy.
func changeDeputy(ctx context.Context, r *runner, h Header, id, eventType string, change func(context.Context, *domain.Deputy, domain.Meta) error) (Result, error) {
	if err := domain.ValidatePersonID("deputy_id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, r, h, plan[*domain.Deputy]{
		id: id, stream: domain.DeputyStream(id), eventType: eventType,
		rebuild: domain.RebuildDeputy,
		decide:  change,
	})
}

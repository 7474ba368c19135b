package commands

import (
	"context"

	"promiseledger/domain"
)

// RegisterTerritory registers an administrative unit under its KATO code.
// The parent must be registered first (the republic has none).
type RegisterTerritory struct {
	Header
	KATO       string
	Name       domain.Text
	Kind       domain.TerritoryKind
	ParentKATO string
}

// RegisterTerritoryHandler handles RegisterTerritory.
type RegisterTerritoryHandler struct{ r *runner }

// Handle records territory.registered.v1.
func (h RegisterTerritoryHandler) Handle(ctx context.Context, cmd RegisterTerritory) (Result, error) {
	if err := domain.ValidateKATO("kato", cmd.KATO); err != nil {
		return Result{}, err
	}
	return execute(ctx, h.r, cmd.Header, plan[*domain.Territory]{
		id: cmd.KATO, stream: domain.TerritoryStream(cmd.KATO), eventType: domain.TypeTerritoryRegistered,
		rebuild: domain.RebuildTerritory,
		decide: func(ctx context.Context, t *domain.Territory, m domain.Meta) error {
			var parent *domain.Territory
			if domain.ValidateKATO("parent_kato", cmd.ParentKATO) == nil {
				var err error
				if parent, err = load(ctx, h.r, domain.TerritoryStream(cmd.ParentKATO), domain.RebuildTerritory); err != nil {
					return err
				}
			}
			e := domain.TerritoryRegistered{KATO: cmd.KATO, Name: cmd.Name, Kind: cmd.Kind, ParentKATO: cmd.ParentKATO}
			return t.Register(e, parent, m)
		},
	})
}

package commands

import (
	"context"

	"promiseledger/domain"
)

// RegisterDeputy registers a deputy of the Mazhilis or of a maslikhat. The
// deputy's id is their person id (the actor id they sign in with), so that
// their own rating can be found.
type RegisterDeputy struct {
	Header
	DeputyID    string
	DisplayName string
	Assembly    domain.Assembly
}

// RegisterDeputyHandler handles RegisterDeputy.
type RegisterDeputyHandler struct{ r *runner }

// Handle records deputy.registered.v1.
func (h RegisterDeputyHandler) Handle(ctx context.Context, cmd RegisterDeputy) (Result, error) {
	if err := domain.ValidatePersonID("deputy_id", cmd.DeputyID); err != nil {
		return Result{}, err
	}
	return execute(ctx, h.r, cmd.Header, plan[*domain.Deputy]{
		id: cmd.DeputyID, stream: domain.DeputyStream(cmd.DeputyID), eventType: domain.TypeDeputyRegistered,
		rebuild: domain.RebuildDeputy,
		decide: func(ctx context.Context, d *domain.Deputy, m domain.Meta) error {
			territory, err := loadTerritory(ctx, h.r, cmd.Assembly.TerritoryKATO)
			if err != nil {
				return err
			}
			return d.Register(domain.DeputyRegistered{DeputyID: cmd.DeputyID, DisplayName: cmd.DisplayName, Assembly: cmd.Assembly}, territory, m)
		},
	})
}

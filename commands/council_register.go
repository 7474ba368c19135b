package commands

import (
	"context"

	"promiseledger/domain"
)

// RegisterCouncil registers a public council of a territory. ID may be
// empty: the council then takes the event's id, so a retry lands on the
// same stream.
type RegisterCouncil struct {
	Header
	ID            string
	TerritoryKATO string
	Level         domain.CouncilLevel
	Name          domain.Text
}

// RegisterCouncilHandler handles RegisterCouncil.
type RegisterCouncilHandler struct{ r *runner }

// Handle records council.registered.v1.
func (h RegisterCouncilHandler) Handle(ctx context.Context, cmd RegisterCouncil) (Result, error) {
	cmd.Header = h.r.identified(cmd.Header)
	id := orEventID(cmd.ID, cmd.Header)
	if err := domain.ValidateID("id", id); err != nil {
		return Result{}, err
	}
	return execute(ctx, h.r, cmd.Header, plan[*domain.Council]{
		id: id, stream: domain.CouncilStream(id), eventType: domain.TypeCouncilRegistered,
		rebuild: domain.RebuildCouncil,
		decide: func(ctx context.Context, c *domain.Council, m domain.Meta) error {
			territory, err := loadTerritory(ctx, h.r, cmd.TerritoryKATO)
			if err != nil {
				return err
			}
			return c.Register(domain.CouncilRegistered{CouncilID: id, TerritoryKATO: cmd.TerritoryKATO, Level: cmd.Level, Name: cmd.Name}, territory, m)
		},
	})
}

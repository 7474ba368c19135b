package commands

import (
	"context"

	"promiseledger/domain"
)

// JoinFaction records that a deputy joined the party's faction.
type JoinFaction struct {
	Header
	DeputyID string
	Faction  string
}

// JoinFactionHandler handles JoinFaction.
type JoinFactionHandler struct{ r *runner }

// Handle records deputy.faction_joined.v1.
func (h JoinFactionHandler) Handle(ctx context.Context, cmd JoinFaction) (Result, error) {
	return changeDeputy(ctx, h.r, cmd.Header, cmd.DeputyID, domain.TypeDeputyFactionJoined,
		func(_ context.Context, d *domain.Deputy, m domain.Meta) error { return d.JoinFaction(cmd.Faction, m) })
}

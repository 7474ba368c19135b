package commands

import (
	"context"

	"promiseledger/domain"
)

// LeaveFaction records that a deputy left the faction; it needs a reason.
type LeaveFaction struct {
	Header
	DeputyID string
}

// LeaveFactionHandler handles LeaveFaction.
type LeaveFactionHandler struct{ r *runner }

// Handle records deputy.faction_left.v1.
func (h LeaveFactionHandler) Handle(ctx context.Context, cmd LeaveFaction) (Result, error) {
	return changeDeputy(ctx, h.r, cmd.Header, cmd.DeputyID, domain.TypeDeputyFactionLeft,
		func(_ context.Context, d *domain.Deputy, m domain.Meta) error { return d.LeaveFaction(m) })
}

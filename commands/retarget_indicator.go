package commands

import (
	"context"

	"promiseledger/domain"
)

// RetargetIndicator changes an indicator's target, deadline or weight (nil
// fields stay as they are); Header.Reason is required.
type RetargetIndicator struct {
	Header
	IndicatorID string
	Target      *float64
	Deadline    *domain.Date
	Weight      *float64
}

// RetargetIndicatorHandler handles RetargetIndicator.
type RetargetIndicatorHandler struct{ r *runner }

// Handle records indicator.retargeted.v1.
func (h RetargetIndicatorHandler) Handle(ctx context.Context, cmd RetargetIndicator) (Result, error) {
	change := domain.TargetChange{Target: cmd.Target, Deadline: cmd.Deadline, Weight: cmd.Weight}
	return changeIndicator(ctx, h.r, cmd.Header, cmd.IndicatorID, domain.TypeIndicatorRetargeted,
		func(a *domain.Indicator, m domain.Meta) error { return a.Retarget(change, m) })
}

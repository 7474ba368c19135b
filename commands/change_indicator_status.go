package commands

import (
	"context"

	"promiseledger/domain"
)

// ChangeIndicatorStatus sets an indicator's status explicitly. Moving
// backwards, or marking a numeric indicator done below its target, needs
// Header.Reason.
type ChangeIndicatorStatus struct {
	Header
	IndicatorID string
	To          domain.IndicatorStatus
}

// ChangeIndicatorStatusHandler handles ChangeIndicatorStatus.
type ChangeIndicatorStatusHandler struct{ r *runner }

// Handle records indicator.status_changed.v1.
func (h ChangeIndicatorStatusHandler) Handle(ctx context.Context, cmd ChangeIndicatorStatus) (Result, error) {
	return changeIndicator(ctx, h.r, cmd.Header, cmd.IndicatorID, domain.TypeIndicatorStatusChanged,
		func(a *domain.Indicator, m domain.Meta) error { return a.ChangeStatus(cmd.To, m) })
}

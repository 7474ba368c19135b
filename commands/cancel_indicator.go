package commands

import (
	"context"

	"promiseledger/domain"
)

// CancelIndicator drops a measure for good; Header.Reason is required.
type CancelIndicator struct {
	Header
	IndicatorID string
}

// CancelIndicatorHandler handles CancelIndicator.
type CancelIndicatorHandler struct{ r *runner }

// Handle records indicator.cancelled.v1.
func (h CancelIndicatorHandler) Handle(ctx context.Context, cmd CancelIndicator) (Result, error) {
	return changeIndicator(ctx, h.r, cmd.Header, cmd.IndicatorID, domain.TypeIndicatorCancelled, (*domain.Indicator).Cancel)
}

package commands

import (
	"context"

	"promiseledger/domain"
)

// WithdrawAssessment withdraws a council's assessment; it needs a reason
// and the actor must be a current member of the council.
type WithdrawAssessment struct {
	Header
	AssessmentID string
}

// WithdrawAssessmentHandler handles WithdrawAssessment.
type WithdrawAssessmentHandler struct{ r *runner }

// Handle records assessment.withdrawn.v1.
func (h WithdrawAssessmentHandler) Handle(ctx context.Context, cmd WithdrawAssessment) (Result, error) {
	return changeAssessment(ctx, h.r, cmd.Header, cmd.AssessmentID, domain.TypeAssessmentWithdrawn, true,
		func(a *domain.Assessment, c *domain.Council, m domain.Meta) error { return a.Withdraw(c, m) })
}

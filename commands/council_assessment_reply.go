package commands

import (
	"context"

	"promiseledger/domain"
)

// ReplyToAssessment records the reply of a deputy or official responsible
// for the assessed indicator: the right of reply, once per respondent.
type ReplyToAssessment struct {
	Header
	AssessmentID string
	RespondentID string
	Reply        string
	Evidence     domain.Evidence
}

// ReplyToAssessmentHandler handles ReplyToAssessment.
type ReplyToAssessmentHandler struct{ r *runner }

// Handle records assessment.replied.v1.
func (h ReplyToAssessmentHandler) Handle(ctx context.Context, cmd ReplyToAssessment) (Result, error) {
	return changeAssessment(ctx, h.r, cmd.Header, cmd.AssessmentID, domain.TypeAssessmentReplied, false,
		func(a *domain.Assessment, _ *domain.Council, m domain.Meta) error {
			return a.Reply(cmd.RespondentID, cmd.Reply, cmd.Evidence, m)
		})
}

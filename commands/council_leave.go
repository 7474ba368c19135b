package commands

import (
	"context"

	"promiseledger/domain"
)

// LeaveCouncil ends a person's membership of a public council; it needs a
// reason.
type LeaveCouncil struct {
	Header
	CouncilID string
	MemberID  string
}

// LeaveCouncilHandler handles LeaveCouncil.
type LeaveCouncilHandler struct{ r *runner }

// Handle records council.member_left.v1.
func (h LeaveCouncilHandler) Handle(ctx context.Context, cmd LeaveCouncil) (Result, error) {
	return changeCouncil(ctx, h.r, cmd.Header, cmd.CouncilID, domain.TypeCouncilMemberLeft,
		func(c *domain.Council, m domain.Meta) error { return c.Leave(cmd.MemberID, m) })
}

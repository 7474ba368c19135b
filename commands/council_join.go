package commands

import (
	"context"

	"promiseledger/domain"
)

// JoinCouncil makes a person a member (or the chair) of a public council.
// Only an id, a role and a public display name are recorded.
type JoinCouncil struct {
	Header
	CouncilID   string
	MemberID    string
	Role        domain.CouncilMemberRole
	DisplayName string
}

// JoinCouncilHandler handles JoinCouncil.
type JoinCouncilHandler struct{ r *runner }

// Handle records council.member_joined.v1.
func (h JoinCouncilHandler) Handle(ctx context.Context, cmd JoinCouncil) (Result, error) {
	p := domain.CouncilMember{MemberID: cmd.MemberID, Role: cmd.Role, DisplayName: cmd.DisplayName}
	return changeCouncil(ctx, h.r, cmd.Header, cmd.CouncilID, domain.TypeCouncilMemberJoined,
		func(c *domain.Council, m domain.Meta) error { return c.Join(p, m) })
}

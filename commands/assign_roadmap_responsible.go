package commands

import (
	"context"

	"promiseledger/domain"
)

// AssignRoadmapResponsible makes a deputy or an official answerable for a
// roadmap.
type AssignRoadmapResponsible struct {
	Header
	RoadmapID   string
	PersonID    string
	Role        domain.ResponsibleRole
	DisplayName string
}

// AssignRoadmapResponsibleHandler handles AssignRoadmapResponsible.
type AssignRoadmapResponsibleHandler struct{ r *runner }

// Handle records roadmap.responsible_assigned.v1.
func (h AssignRoadmapResponsibleHandler) Handle(ctx context.Context, cmd AssignRoadmapResponsible) (Result, error) {
	p := domain.Responsible{PersonID: cmd.PersonID, Role: cmd.Role, DisplayName: cmd.DisplayName}
	return changeRoadmap(ctx, h.r, cmd.Header, cmd.RoadmapID, domain.TypeRoadmapResponsibleAssigned,
		func(r *domain.Roadmap, m domain.Meta) error { return r.AssignResponsible(p, m) })
}
